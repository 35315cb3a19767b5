"""The launcher behind make run/test: embedded servers only when no URL is given."""

from fxsite import launcher
from fxsite.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.conftest import free_port


def test_external_urls_start_nothing(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgres://fx@db.example:5432/fx")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/0")
    assert launcher._embedded() == (None, None)
    with launcher.services():
        pass
    out = capsys.readouterr().out
    assert "using external PostgreSQL" in out and "using external Redis" in out


def test_without_urls_the_servers_are_embedded_under_var(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    pg, rd = launcher._embedded()
    assert isinstance(pg, EmbeddedPostgres) and isinstance(rd, EmbeddedRedis)
    assert pg.data_dir == launcher.VAR_DIR / "pgdata"
    assert pg.url.startswith("postgres://postgres@127.0.0.1:")
    assert rd.data_dir == launcher.VAR_DIR / "redis"


def test_embedded_redis_starts_reuses_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path, free_port())
    server.start()
    try:
        assert server.started_here and server.is_running()
        again = EmbeddedRedis(tmp_path, server.port)
        again.start()  # a second launcher reuses the running server
        assert not again.started_here
    finally:
        server.stop()
    assert not server.is_running()

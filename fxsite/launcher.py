"""``make run`` / ``make test`` / ``make bench``: set up services, then run.

    python -m fxsite.launcher run            # migrate, demo data, then the Procfile
    python -m fxsite.launcher test [ARGS]    # the pytest suite
    python -m fxsite.launcher bench [ARGS]   # the benchmarks under bench/
    python -m fxsite.launcher services       # start the embedded servers and leave them
    python -m fxsite.launcher stop           # stop the embedded servers

Without DATABASE_URL / REDIS_URL in the environment an embedded PostgreSQL
and Redis are started with their data under ``var/`` and stopped again on
exit (unless they were already running). With the URLs, nothing is started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VENV_BIN = Path(sys.executable).parent

PG_PORT = int(os.environ.get("FX_EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("FX_EMBEDDED_REDIS_PORT", "63790"))
DB_NAME = "fxplatform"
HTTP_HOST = os.environ.get("FX_HTTP_HOST", "127.0.0.1")
HTTP_PORT = os.environ.get("FX_HTTP_PORT", "8000")


def _embedded():
    from fxsite.embedded import EmbeddedPostgres, EmbeddedRedis

    pg = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(VAR_DIR, PG_PORT, DB_NAME)
    rd = None if os.environ.get("REDIS_URL") else EmbeddedRedis(VAR_DIR, REDIS_PORT)
    return pg, rd


@contextmanager
def services(redis_db: int = 0):
    """Start what is missing, export the URLs, stop what we started on exit."""
    pg, rd = _embedded()
    try:
        if pg is not None:
            pg.start()
            os.environ["DATABASE_URL"] = pg.url
        else:
            print("using external PostgreSQL from DATABASE_URL")
        if rd is not None:
            rd.start()
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/{redis_db}"
        else:
            print("using external Redis from REDIS_URL")
        os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        yield
    finally:
        # A second Ctrl-C must not leave the servers half stopped.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if rd is not None and rd.started_here:
                rd.stop()
            if pg is not None and pg.started_here:
                pg.stop()
        finally:
            signal.signal(signal.SIGINT, previous)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


def _metrics_dir() -> None:
    # prometheus_client multiprocess mode: web and worker processes write here.
    metrics = VAR_DIR / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)


def cmd_run(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.local")
    with services():
        _metrics_dir()
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        _manage("demo_setup")
        password = os.environ.get("DEMO_PASSWORD", "demo-pass-123")
        url = f"http://{HTTP_HOST}:{HTTP_PORT}/"
        print(
            "\n"
            "  FX Platform is starting\n"
            f"    dashboard   {url}\n"
            f"    API docs    {url}api/docs/\n"
            f"    admin       {url}admin/\n"
            f"    readiness   {url}readyz\n"
            f"    login       username demo, password {password}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        os.environ["FX_HTTP_HOST"], os.environ["FX_HTTP_PORT"] = HTTP_HOST, HTTP_PORT
        honcho = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "-f", str(BASE_DIR / "Procfile"), "start", *argv],
            cwd=BASE_DIR,
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            # honcho got the same SIGINT and is stopping its processes.
            try:
                return honcho.wait(timeout=30)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                honcho.terminate()
                return honcho.wait()


def cmd_test(argv: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "fxsite.settings.test"
    # Tests use Redis database 1 so a running ``make run`` (database 0) is untouched.
    # FX_TEST_REDIS_DB / FX_TEST_DB_NAME let two test runs share the servers.
    with services(redis_db=int(os.environ.get("FX_TEST_REDIS_DB", "1"))):
        return subprocess.run([sys.executable, "-m", "pytest", *argv], cwd=BASE_DIR).returncode


def cmd_bench(argv: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "fxsite.settings.test"
    with services(redis_db=2):
        return subprocess.run(
            [sys.executable, str(BASE_DIR / "bench" / "run.py"), *argv], cwd=BASE_DIR
        ).returncode


def cmd_services(argv: list[str]) -> int:
    pg, rd = _embedded()
    for server in (pg, rd):
        if server is not None:
            server.start()
    if pg is not None:
        print(f"DATABASE_URL={pg.url}")
    if rd is not None:
        print(f"REDIS_URL={rd.url}")
    return 0


def cmd_stop(argv: list[str]) -> int:
    pg, rd = _embedded()
    for server in (rd, pg):
        if server is not None:
            server.stop()
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "bench": cmd_bench,
    "services": cmd_services,
    "stop": cmd_stop,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    argv = sys.argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return COMMANDS[sys.argv[1]](argv)


if __name__ == "__main__":
    sys.exit(main())

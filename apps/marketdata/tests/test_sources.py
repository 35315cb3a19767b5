"""Live sources run by the source runner: MT5 against the fake module, replay."""

from datetime import UTC, datetime

import numpy as np
import pytest

from apps.marketdata.feeds.mt5 import MT5Feed
from apps.marketdata.models import DataSource, IngestionRun, Tick
from apps.marketdata.mt5.fake import FakeMetaTrader5
from apps.marketdata.services.ingest import ticks_ingest
from apps.marketdata.services.sources import (
    source_run,
    source_start,
    source_stop,
    sources_supervise,
)
from apps.marketdata.tests.factories import instrument, source, ticks, us

pytestmark = pytest.mark.django_db(transaction=True)


def _mt5_source(**config) -> DataSource:
    src = DataSource.objects.create(name="mt5-demo", kind=DataSource.Kind.MT5, config=config)
    src.instruments.set([instrument("EURUSD"), instrument("GBPUSD")])
    return src


def _terminal_ticks(fake: FakeMetaTrader5, broker_symbol: str, after_msc: int, end_msc: int) -> int:
    """Ticks the terminal has in (after, end]."""
    fake.initialize()
    fake.symbol_select(broker_symbol, True)
    rows = fake.copy_ticks_range(
        broker_symbol, after_msc // 1000, end_msc // 1000 + 1, fake.COPY_TICKS_INFO
    )
    return int(((rows["time_msc"] > after_msc) & (rows["time_msc"] <= end_msc)).sum())


def _last_msc(fake: FakeMetaTrader5, broker_symbol: str) -> int:
    fake.initialize()
    fake.symbol_select(broker_symbol, True)
    return fake.symbol_info_tick(broker_symbol).time_msc


def test_mt5_source_polls_resolves_suffixes_and_backfills_a_disconnect():
    fake = FakeMetaTrader5(now=datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
    src = _mt5_source(backfill_minutes=10)
    start_msc = _last_msc(fake, "EURUSD.m") - 10 * 60_000
    fake.shutdown()

    def factory(source, instruments, checkpoint):
        return MT5Feed(source, instruments, checkpoint, module=fake)

    assert source_run(src.pk, max_seconds=1.0, feed_factory=factory) == "stopped"
    eurusd = instrument("EURUSD")
    first = Tick.objects.filter(instrument=eurusd, source=src).count()
    assert first == _terminal_ticks(fake, "EURUSD.m", start_msc, fake.now_msc) > 100
    src.refresh_from_db()
    cursor = src.config["checkpoint"]["cursors"]["EURUSD"]
    assert cursor >= fake.now_msc - 60_000

    # The terminal drops, time passes, it comes back: the gap is fetched.
    fake.shutdown()
    fake.disconnect()
    fake.advance(15 * 60)
    assert source_run(src.pk, max_seconds=1.0, feed_factory=factory) == "stopped"
    total = Tick.objects.filter(instrument=eurusd, source=src).count()
    fake.shutdown()
    assert total == _terminal_ticks(fake, "EURUSD.m", start_msc, fake.now_msc)
    assert total > first
    runs = IngestionRun.objects.filter(source=src, kind="live")
    assert runs.count() == 2 and sum(r.rejected for r in runs) == 0


def test_mt5_server_time_is_converted_to_utc():
    fake = FakeMetaTrader5(now=datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
    src = _mt5_source(backfill_minutes=5, server_timezone="Europe/Athens")  # UTC+2 in March
    factory = lambda s, i, c: MT5Feed(s, i, c, module=fake)  # noqa: E731
    source_run(src.pk, max_seconds=0.6, feed_factory=factory)
    latest = (
        Tick.objects.filter(instrument=instrument("EURUSD"), source=src).order_by("-time").first()
    )
    assert latest.time <= datetime(2024, 3, 6, 10, 0, tzinfo=UTC)


def test_bad_config_stops_the_source_with_an_error():
    src = _mt5_source(server_timezone="Mars/Base")
    factory = lambda s, i, c: MT5Feed(s, i, c, module=FakeMetaTrader5())  # noqa: E731
    assert source_run(src.pk, max_seconds=1, feed_factory=factory) == "error"
    src.refresh_from_db()
    assert src.state == "error" and "server_timezone" in src.last_error


def test_replay_plays_history_at_speed_under_its_own_source():
    eurusd, origin = instrument("EURUSD"), source()
    history = ticks("2024-01-02 10:00", 600, step_ms=1000)  # 10 minutes
    ticks_ingest(
        instrument=eurusd, source=origin, batch=history, publish=False, now=us("2024-06-01")
    )
    replay = DataSource.objects.create(
        name="replay-test",
        kind=DataSource.Kind.REPLAY,
        config={
            "from_source": "history-import",
            "start": "2024-01-02T10:00:00Z",
            "end": "2024-01-02T10:10:00Z",
            "speed": 10_000,
        },
    )
    replay.instruments.set([eurusd])
    assert source_run(replay.pk, max_seconds=10) == "stopped"
    replayed = Tick.objects.filter(instrument=eurusd, source=replay).order_by("time")
    assert replayed.count() == 600
    assert np.allclose([float(t.bid) for t in replayed], history.bid)


@pytest.mark.django_db(transaction=False)
def test_start_stop_and_the_supervisor(django_capture_on_commit_callbacks):
    synthetic = DataSource.objects.get(name="synthetic")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        source_start(source=synthetic)
        source_start(source=synthetic)  # idempotent while starting
    assert len(queued) == 1
    synthetic.refresh_from_db()
    assert synthetic.state == "starting"
    # Nothing picked it up for a minute: the supervisor requeues it.
    DataSource.objects.filter(pk=synthetic.pk).update(started_at=datetime(2024, 1, 1, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert sources_supervise() == [synthetic.pk]
    assert len(queued) == 1
    synthetic.refresh_from_db()
    assert source_stop(source=synthetic).state == "stopping"

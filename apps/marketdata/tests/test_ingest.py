from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from apps.marketdata.batches import TickBatch
from apps.marketdata.models import Bar, RejectedRow, Tick
from apps.marketdata.services.ingest import ticks_ingest
from apps.marketdata.services.partitions import tick_partitions
from apps.marketdata.tests.factories import instrument, run_for, source, ticks, us

pytestmark = pytest.mark.django_db

NOW = us("2024-06-01 00:00")  # a Saturday: everything tested below is in the past


def test_ticks_are_stored_exactly_and_reimport_is_idempotent():
    eurusd, src = instrument("EURUSD"), source()
    batch = ticks("2024-01-02 10:00", 500)
    run = run_for(src)
    result = ticks_ingest(
        instrument=eurusd, source=src, batch=batch, run=run, publish=False, now=NOW
    )
    assert (result.accepted, result.duplicates, result.rejected) == (500, 0, 0)
    stored = list(Tick.objects.filter(instrument=eurusd, source=src).order_by("time")[:2])
    assert stored[0].bid == Decimal(f"{batch.bid[0]:.5f}")
    assert stored[0].ask - stored[0].bid == Decimal("0.00010")
    again = ticks_ingest(
        instrument=eurusd, source=src, batch=batch, run=run, publish=False, now=NOW
    )
    assert (again.accepted, again.duplicates) == (0, 500)
    assert Tick.objects.filter(instrument=eurusd, source=src).count() == 500
    run.refresh_from_db()
    assert (run.accepted, run.duplicates, run.rejected) == (500, 500, 0)


def test_partitions_are_created_for_each_month_touched():
    eurusd, src = instrument("EURUSD"), source()
    batch = ticks("2023-08-31 23:59:00", 480, step_ms=250)  # a Thursday; crosses into September
    ticks_ingest(instrument=eurusd, source=src, batch=batch, publish=False, now=NOW)
    names = tick_partitions()
    assert "marketdata_tick_p2023_08" in names and "marketdata_tick_p2023_09" in names


def test_bad_rows_are_rejected_with_reasons_and_good_rows_kept():
    eurusd, src = instrument("EURUSD"), source()
    good = ticks("2024-01-03 09:00", 300, seed=3)
    bid, ask, t = good.bid.copy(), good.ask.copy(), good.time_us.copy()
    bid[10] = -1.0  # non-positive
    ask[20] = bid[20] - 0.0002  # crossed
    ask[30] = bid[30] + 0.0100  # 100 pips spread > 20 limit
    t[40] = us("2024-01-06 12:00")  # Saturday
    bid[200] *= 1.01  # a one-tick spike that reverts
    ask[200] = bid[200] + 0.0001
    t[299] = NOW + 3_600_000_000  # an hour in the future
    batch = TickBatch(time_us=t, bid=bid, ask=ask)
    run = run_for(src)
    result = ticks_ingest(
        instrument=eurusd, source=src, batch=batch, run=run, publish=False, now=NOW
    )
    assert result.rejected == 6
    assert result.accepted == 294
    reasons = dict(RejectedRow.objects.filter(run=run).values_list("reason", "time"))
    assert set(reasons) == {
        "non_positive_price",
        "crossed_quote",
        "spread_too_wide",
        "outside_session",
        "spike",
        "future_timestamp",
    }
    run.refresh_from_db()
    assert run.rejected == 6 and run.accepted == 294


def test_duplicates_inside_a_batch_are_counted_once():
    eurusd, src = instrument("EURUSD"), source()
    batch = ticks("2024-01-04 09:00", 10)
    doubled = TickBatch(
        time_us=np.concatenate([batch.time_us, batch.time_us[:3]]),
        bid=np.concatenate([batch.bid, batch.bid[:3]]),
        ask=np.concatenate([batch.ask, batch.ask[:3]]),
    )
    result = ticks_ingest(instrument=eurusd, source=src, batch=doubled, publish=False, now=NOW)
    assert (result.accepted, result.duplicates) == (10, 3)


def test_m1_bars_match_pandas_resampling_and_roll_up():
    eurusd, src = instrument("EURUSD"), source()
    batch = ticks("2024-01-02 13:57:10", 2400, step_ms=900, seed=9)  # ~36 minutes
    # Two live-style batches (in order) exercise the incremental path.
    ticks_ingest(
        instrument=eurusd, source=src, batch=batch.take(np.arange(1000)), publish=False, now=NOW
    )
    ticks_ingest(
        instrument=eurusd,
        source=src,
        batch=batch.take(np.arange(1000, 2400)),
        publish=False,
        now=NOW,
    )
    frame = pd.DataFrame(
        {"bid": batch.bid, "ask": batch.ask},
        index=pd.to_datetime(batch.time_us, unit="us", utc=True),
    )
    for timeframe, rule in (("M1", "1min"), ("M5", "5min"), ("H1", "1h")):
        expected = frame.resample(rule).agg({"bid": ["first", "max", "min", "last", "count"]})
        expected = expected.dropna()
        got = list(
            Bar.objects.filter(instrument=eurusd, source=src, timeframe=timeframe).order_by("time")
        )
        assert len(got) == len(expected), timeframe
        for bar, (when, row) in zip(got, expected.iterrows(), strict=True):
            assert bar.time == when.to_pydatetime()
            assert float(bar.open) == pytest.approx(row[("bid", "first")])
            assert float(bar.high) == pytest.approx(row[("bid", "max")])
            assert float(bar.low) == pytest.approx(row[("bid", "min")])
            assert float(bar.close) == pytest.approx(row[("bid", "last")])
            assert bar.volume == row[("bid", "count")]
    d1 = Bar.objects.get(instrument=eurusd, source=src, timeframe="D1")
    assert d1.time == pd.Timestamp("2024-01-01 22:00", tz="UTC").to_pydatetime()  # 17:00 NY


def test_out_of_order_ticks_rebuild_bars_from_storage():
    eurusd, src = instrument("EURUSD"), source()
    batch = ticks("2024-01-02 15:00", 480, step_ms=500, seed=4)
    later, earlier = batch.take(np.arange(240, 480)), batch.take(np.arange(0, 240))
    ticks_ingest(instrument=eurusd, source=src, batch=later, publish=False, now=NOW)
    ticks_ingest(instrument=eurusd, source=src, batch=earlier, publish=False, now=NOW)
    m1 = list(Bar.objects.filter(instrument=eurusd, source=src, timeframe="M1").order_by("time"))
    assert [b.volume for b in m1] == [120, 120, 120, 120]
    assert float(m1[0].open) == pytest.approx(batch.bid[0])
    h1 = Bar.objects.get(instrument=eurusd, source=src, timeframe="H1")
    assert float(h1.open) == pytest.approx(batch.bid[0])
    assert float(h1.close) == pytest.approx(batch.bid[-1])
    assert h1.volume == 480


def test_bars_of_an_always_open_source_are_kept_at_weekends_and_rejected_rows_read_plainly():
    from apps.marketdata.batches import BarBatch
    from apps.marketdata.models import DataSource
    from apps.marketdata.selectors import rejected_counts
    from apps.marketdata.services.ingest import bars_ingest

    eurusd = instrument("EURUSD")
    saturday = us("2024-01-06 12:00")
    batch = BarBatch(
        time_us=np.array([saturday, saturday + 60_000_000], dtype=np.int64),
        open=np.array([1.1, 1.1]),
        high=np.array([1.2, 1.0]),  # the second: high below low
        low=np.array([1.0, 1.1]),
        close=np.array([1.1, 1.1]),
    )
    demo = DataSource.objects.get(name="synthetic")  # trades 24/7 (always_open)
    run = run_for(demo)
    result = bars_ingest(
        instrument=eurusd, source=demo, timeframe="M1", batch=batch, run=run, now=NOW
    )
    assert result.accepted == 1 and result.rejected == 1
    row = RejectedRow.objects.get(run=run)
    assert row.reason == "inconsistent_ohlc" and row.raw.startswith("open=1.1 high=1.0")
    assert rejected_counts(run=run) == {"inconsistent_ohlc": 1}
    # A history source keeps the market's hours.
    history = source()
    result = bars_ingest(instrument=eurusd, source=history, timeframe="M1", batch=batch, now=NOW)
    assert result.accepted == 0 and result.reasons == {"outside_session": 1, "inconsistent_ohlc": 1}

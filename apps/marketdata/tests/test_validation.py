"""Validation rules, including property tests over wide inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.marketdata.batches import BarBatch, TickBatch
from apps.marketdata.calendar import WeeklySession
from apps.marketdata.validation import Rules, validate_bars, validate_ticks

TUESDAY = 1_704_189_600_000_000  # 2024-01-02 10:00 UTC, open market
NOW = TUESDAY + 30 * 86_400_000_000
RULES = Rules(max_spread=0.0020, session=WeeklySession())


def _batch(bids, spreads, step_us=500_000, start=TUESDAY):
    bids = np.asarray(bids, dtype=float)
    return TickBatch(
        time_us=start + np.arange(len(bids), dtype=np.int64) * step_us,
        bid=bids,
        ask=bids + np.asarray(spreads, dtype=float),
    )


prices = st.floats(min_value=0.5, max_value=2.0, allow_nan=False)
spreads = st.floats(min_value=0.0, max_value=0.0019, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(prices, spreads), min_size=1, max_size=50))
def test_clean_quotes_in_session_are_never_rejected_except_as_spikes(rows):
    bids, spr = zip(*rows, strict=True)
    reasons = validate_ticks(_batch(bids, spr), RULES, now_us=NOW)
    assert set(reasons) <= {"", "spike"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(prices, spreads), min_size=3, max_size=40), st.data())
def test_each_bad_row_gets_its_reason_and_only_it_is_rejected(rows, data):
    bids, spr = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    batch = _batch(bids, spr, step_us=60_000_000)
    index = data.draw(st.integers(0, len(rows) - 1))
    kind = data.draw(st.sampled_from(["negative", "crossed", "wide", "future", "weekend"]))
    if kind == "negative":
        batch.bid[index] = -abs(batch.bid[index])
    elif kind == "crossed":
        batch.ask[index] = batch.bid[index] - 0.0001
    elif kind == "wide":
        batch.ask[index] = batch.bid[index] + 0.0100
    elif kind == "future":
        batch.time_us[index] = NOW + 3_600_000_000
    else:
        batch.time_us[index] = TUESDAY + 4 * 86_400_000_000  # Saturday
    order = np.argsort(batch.time_us, kind="stable")
    batch = batch.take(order)
    position = int(np.flatnonzero(order == index)[0])
    reasons = validate_ticks(batch, RULES, now_us=NOW)
    expected = {
        "negative": "non_positive_price",
        "crossed": "crossed_quote",
        "wide": "spread_too_wide",
        "future": "future_timestamp",
        "weekend": "outside_session",
    }[kind]
    assert reasons[position] == expected
    others = np.delete(reasons, position)
    assert set(others) <= {"", "spike"}


def test_a_reverting_jump_is_a_spike_but_a_lasting_move_is_not():
    rng = np.random.default_rng(0)
    bids = 1.1 + np.cumsum(rng.normal(0, 0.00002, 200))
    spiked = bids.copy()
    spiked[150] += 0.005  # out and straight back: a bad print
    reasons = validate_ticks(_batch(spiked, np.full(200, 0.0001)), RULES, now_us=NOW)
    assert list(np.flatnonzero(reasons == "spike")) == [150]
    moved = bids.copy()
    moved[150:] += 0.005  # a real jump that stays
    reasons = validate_ticks(_batch(moved, np.full(200, 0.0001)), RULES, now_us=NOW)
    assert "spike" not in set(reasons)


def test_bar_rules():
    bars = BarBatch(
        time_us=TUESDAY + np.arange(3, dtype=np.int64) * 60_000_000,
        open=np.array([1.1, 1.1, 1.1]),
        high=np.array([1.2, 1.05, 1.2]),
        low=np.array([1.0, 1.0, 0.0]),
        close=np.array([1.15, 1.1, 1.1]),
    )
    assert list(validate_bars(bars, RULES, now_us=NOW)) == [
        "",
        "inconsistent_ohlc",
        "non_positive_price",
    ]


def test_simulated_always_open_source_skips_the_session_rule():
    saturday = _batch([1.1, 1.1001], [0.0001, 0.0001], start=TUESDAY + 4 * 86_400_000_000)
    assert set(validate_ticks(saturday, RULES, now_us=NOW)) == {"outside_session"}
    rules = Rules(max_spread=0.002, check_session=False)
    assert set(validate_ticks(saturday, rules, now_us=NOW)) == {""}


def test_microsecond_conversions_are_exact_at_second_boundaries():
    from apps.marketdata.calendar import datetime_to_us, us_to_datetime

    for us in (1_704_153_600_999_999, 1_704_153_600_000_001, 1_795_292_071_999_999):
        moment = us_to_datetime(us)
        assert moment.microsecond == us % 1_000_000
        assert datetime_to_us(moment) == us

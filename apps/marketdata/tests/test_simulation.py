"""The synthetic FX feed: determinism, resuming, calendar and statistical behaviour.

Pure numpy, no database. The statistical tests share one simulated trading week.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.marketdata.batches import TickBatch
from apps.marketdata.simulation import (
    DEFAULT_SPECS,
    MAJORS,
    TRADING_MINUTES_PER_YEAR,
    SymbolSpec,
    SyntheticMarket,
    activity_profile,
    is_market_open,
)

NY = ZoneInfo("America/New_York")
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def utc_us(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * SECOND


def ny_us(*args) -> int:
    return int(datetime(*args, tzinfo=NY).timestamp()) * SECOND


def assert_same(a: dict[str, TickBatch], b: dict[str, TickBatch]) -> None:
    assert a.keys() == b.keys()
    for symbol in a:
        for column in ("time_us", "bid", "ask", "volume"):
            np.testing.assert_array_equal(
                getattr(a[symbol], column), getattr(b[symbol], column), err_msg=symbol
            )


def joined(chunks: list[dict[str, TickBatch]]) -> dict[str, TickBatch]:
    return {
        symbol: TickBatch(
            time_us=np.concatenate([c[symbol].time_us for c in chunks]),
            bid=np.concatenate([c[symbol].bid for c in chunks]),
            ask=np.concatenate([c[symbol].ask for c in chunks]),
            volume=np.concatenate([c[symbol].volume for c in chunks]),
        )
        for symbol in chunks[0]
    }


def mid(batch: TickBatch) -> np.ndarray:
    return (batch.bid + batch.ask) / 2


def mids_at(batch: TickBatch, times: np.ndarray) -> np.ndarray:
    """Mid of the last tick at or before each time (NaN before the first)."""
    index = np.searchsorted(batch.time_us, times, side="right") - 1
    return np.where(index >= 0, mid(batch)[np.maximum(index, 0)], np.nan)


# ------------------------------------------------------------ one trading week

WEEK_START = ny_us(2024, 6, 2, 12)  # Sunday noon New York: still closed
WEEK_END = ny_us(2024, 6, 8, 0)  # Saturday: closed since Friday 17:00
WEEK_SYMBOLS = ("EURUSD", "GBPUSD", "USDCHF", "USDJPY", "EURJPY")
WEEK_TPS = 1.0


@pytest.fixture(scope="module")
def week() -> dict[str, TickBatch]:
    market = SyntheticMarket(
        WEEK_SYMBOLS, seed=2024, start_us=WEEK_START, ticks_per_second=WEEK_TPS
    )
    return market.advance(WEEK_END)


@pytest.fixture(scope="module")
def minute_returns(week) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """1-minute log returns of the mids, over minutes where the market was open throughout."""
    grid = np.arange(WEEK_START, WEEK_END + 1, MINUTE)
    both_open = is_market_open(grid[:-1]) & is_market_open(grid[:-1] - 1)
    returns = {s: np.diff(np.log(mids_at(week[s], grid))) for s in WEEK_SYMBOLS}
    ok = both_open & np.all([np.isfinite(r) for r in returns.values()], axis=0)
    ok[np.flatnonzero(ok)[:2]] = False  # settle after the Sunday open
    return grid[:-1][ok], {s: r[ok] for s, r in returns.items()}


def test_week_batches_are_well_formed(week):
    for symbol, batch in week.items():
        spec = DEFAULT_SPECS[symbol]
        assert len(batch) > 100_000
        assert batch.time_us.dtype == np.int64
        assert batch.bid.dtype == batch.ask.dtype == batch.volume.dtype == np.float64
        assert np.all(np.diff(batch.time_us) > 0), "timestamps strictly increasing"
        assert np.all(batch.bid > 0)
        assert np.all(batch.ask > batch.bid)
        spread_points = np.rint((batch.ask - batch.bid) * 10**spec.digits)
        assert spread_points.min() >= 1
        np.testing.assert_array_equal(np.round(batch.bid, spec.digits), batch.bid)
        np.testing.assert_array_equal(np.round(batch.ask, spec.digits), batch.ask)
        changed = (np.diff(batch.bid) != 0) | (np.diff(batch.ask) != 0)
        assert changed.all(), "only changed quotes are sent"
        assert np.all(batch.volume > 0) and np.all(np.isfinite(batch.volume))


def test_week_tick_rate_matches_ticks_per_second(week):
    open_seconds = 5 * 24 * 3600
    for batch in week.values():
        rate = len(batch) / open_seconds
        assert 0.8 * WEEK_TPS < rate < 1.05 * WEEK_TPS


def test_no_ticks_outside_the_trading_week(week):
    for batch in week.values():
        assert is_market_open(batch.time_us).all()
        assert batch.time_us[0] >= ny_us(2024, 6, 2, 17)
        assert batch.time_us[0] < ny_us(2024, 6, 2, 17, 5)
        assert batch.time_us[-1] < ny_us(2024, 6, 7, 17)
        assert batch.time_us[-1] > ny_us(2024, 6, 7, 16, 50)


def test_pair_correlations(minute_returns):
    _, r = minute_returns
    assert np.corrcoef(r["EURUSD"], r["GBPUSD"])[0, 1] > 0.5
    assert np.corrcoef(r["EURUSD"], r["USDCHF"])[0, 1] < -0.3
    assert np.corrcoef(r["EURUSD"], r["USDJPY"])[0, 1] < 0
    assert np.corrcoef(r["USDJPY"], r["EURJPY"])[0, 1] > 0.5


def test_volatility_clustering(minute_returns):
    _, r = minute_returns
    for symbol in ("EURUSD", "USDJPY"):
        squared = r[symbol] ** 2 - np.mean(r[symbol] ** 2)
        denominator = np.dot(squared, squared)
        for lag in range(1, 6):
            acf = np.dot(squared[:-lag], squared[lag:]) / denominator
            assert acf > 0.03, (symbol, lag, acf)


def test_realised_volatility_matches_spec(minute_returns):
    _, r = minute_returns
    for symbol, returns in r.items():
        realised = returns.std() * math.sqrt(TRADING_MINUTES_PER_YEAR)
        assert 0.5 < realised / DEFAULT_SPECS[symbol].annual_vol < 2.0, (symbol, realised)


def test_busy_sessions_have_more_ticks_and_volatility(week, minute_returns):
    times, r = minute_returns
    hour_utc = (times // HOUR) % 24
    overlap = (hour_utc >= 13) & (hour_utc < 15)  # London afternoon, New York morning
    asia = (hour_utc >= 2) & (hour_utc < 4)
    assert np.var(r["EURUSD"][overlap]) > 1.5 * np.var(r["EURUSD"][asia])
    ticks_hour = (week["EURUSD"].time_us // HOUR) % 24
    assert np.isin(ticks_hour, [13, 14]).sum() > 1.4 * np.isin(ticks_hour, [2, 3]).sum()


def test_spreads_widen_around_the_new_york_rollover(week):
    batch = week["EURUSD"]
    spread = batch.ask - batch.bid
    offset = datetime.fromtimestamp(WEEK_START / SECOND, tz=NY).utcoffset()
    assert offset == datetime.fromtimestamp(WEEK_END / SECOND, tz=NY).utcoffset()  # no DST change
    ny_minutes = (batch.time_us // MINUTE + int(offset.total_seconds()) // 60) % 1440
    rollover = np.abs(ny_minutes - 17 * 60) <= 5
    utc_minutes = (batch.time_us // MINUTE) % 1440
    midday = np.abs(utc_minutes - 13 * 60) <= 15
    assert rollover.sum() > 100 and midday.sum() > 1000
    assert spread[rollover].mean() > 2.5 * spread[midday].mean()
    typical = DEFAULT_SPECS["EURUSD"].typical_spread_pips * DEFAULT_SPECS["EURUSD"].pip_size
    assert 0.5 * typical < np.median(spread[midday]) < 1.5 * typical


def test_crosses_follow_their_legs_tick_by_tick(week, minute_returns):
    times, _ = minute_returns
    cross = mids_at(week["EURJPY"], times)
    legs = mids_at(week["EURUSD"], times) * mids_at(week["USDJPY"], times)
    deviation = np.abs(cross / legs - 1)
    # last quotes are up to a few seconds apart and rounded: a few 1e-5 at most
    assert np.median(deviation) < 3e-5
    assert np.quantile(deviation, 0.99) < 2e-4


def test_crosses_are_exact_in_the_model():
    symbols = ("EURUSD", "USDJPY", "EURJPY", "GBPUSD", "EURGBP", "GBPJPY")
    start = utc_us(2024, 6, 4, 8)
    market = SyntheticMarket(symbols, seed=5, start_us=start)
    for hour in range(1, 4):
        market.advance(start + hour * HOUR)
        mids = {s: v["mid"] for s, v in market.state()["symbols"].items()}
        assert mids["EURJPY"] == pytest.approx(mids["EURUSD"] * mids["USDJPY"], rel=1e-12)
        assert mids["EURGBP"] == pytest.approx(mids["EURUSD"] / mids["GBPUSD"], rel=1e-12)
        assert mids["GBPJPY"] == pytest.approx(mids["GBPUSD"] * mids["USDJPY"], rel=1e-12)


# ------------------------------------------------------------ determinism

SPAN_START = utc_us(2024, 6, 5, 13, 58, 17) + 123_457  # mid-minute, odd microsecond


def test_same_seed_same_ticks_and_other_seed_other_ticks():
    def run(seed):
        market = SyntheticMarket(("EURUSD", "USDJPY"), seed=seed, start_us=SPAN_START)
        return [market.advance(SPAN_START + k * 7 * MINUTE) for k in (1, 2)]

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again, strict=True):
        assert_same(a, b)
    assert not np.array_equal(first[0]["EURUSD"].bid, other[0]["EURUSD"].bid)


def split_points(start: int, end: int, cuts: list[int]) -> list[int]:
    return sorted({start + c for c in cuts if 0 < c < end - start} | {end})


def assert_split_invariant(symbols, start, end, cuts, **kwargs):
    whole = SyntheticMarket(symbols, start_us=start, **kwargs).advance(end)
    market = SyntheticMarket(symbols, start_us=start, **kwargs)
    parts = [market.advance(t) for t in split_points(start, end, cuts)]
    assert market.clock_us == end
    assert_same(whole, joined(parts))
    return whole


def test_split_advance_equals_one_advance():
    end = SPAN_START + 20 * MINUTE
    cuts = [
        1,
        250_000,
        2 * MINUTE - 123_457,
        2 * MINUTE - 123_456,
        5 * MINUTE + 17,
        5 * MINUTE + 17,
    ]
    cuts += [k * SECOND for k in range(300, 330)]  # a feed polling every second
    whole = assert_split_invariant(("EURUSD", "GBPJPY", "XAUUSD"), SPAN_START, end, cuts, seed=9)
    assert all(len(b) > 1000 for b in whole.values())


def test_split_across_the_weekend():
    start = ny_us(2024, 3, 8, 16, 30)  # the Friday before US DST starts
    end = ny_us(2024, 3, 10, 17, 30)
    cuts = [
        30 * MINUTE,
        30 * MINUTE + 1,
        10 * HOUR,
        48 * HOUR,
        48 * HOUR + 1,
        48 * HOUR + 5 * MINUTE,
    ]
    whole = assert_split_invariant(("EURUSD", "AUDUSD"), start, end, cuts, seed=1)
    assert len(whole["EURUSD"]) > 1000


@settings(
    max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=12 * MINUTE), max_size=8),
    seed=st.integers(min_value=0, max_value=2**32),
    tps=st.sampled_from([0.5, 4.0, 20.0]),
)
def test_split_invariance_property(cuts, seed, tps):
    assert_split_invariant(
        ("EURUSD", "USDJPY"),
        SPAN_START,
        SPAN_START + 12 * MINUTE,
        cuts,
        seed=seed,
        ticks_per_second=tps,
    )


def test_zero_length_advance_and_going_back():
    market = SyntheticMarket(("EURUSD",), start_us=SPAN_START)
    empty = market.advance(SPAN_START)
    assert len(empty["EURUSD"]) == 0
    assert empty["EURUSD"].time_us.dtype == np.int64
    with pytest.raises(ValueError):
        market.advance(SPAN_START - 1)


def test_a_symbol_does_not_depend_on_the_others():
    alone = SyntheticMarket(("EURUSD",), seed=8, start_us=SPAN_START).advance(SPAN_START + HOUR)
    crowd = SyntheticMarket(DEFAULT_SPECS, seed=8, start_us=SPAN_START).advance(SPAN_START + HOUR)
    assert_same(alone, {"EURUSD": crowd["EURUSD"]})


# ------------------------------------------------------------ state


@pytest.mark.parametrize("stop", [SPAN_START + 9 * MINUTE + 1, utc_us(2024, 6, 5, 14, 10)])
def test_state_round_trip_resumes_exactly(stop):
    symbols = ("EURUSD", "USDCHF", "XAUUSD")
    original = SyntheticMarket(symbols, seed=21, start_us=SPAN_START)
    original.advance(stop)
    saved = json.loads(json.dumps(original.state()))
    assert saved["clock_us"] == stop
    resumed = SyntheticMarket(symbols, seed=21, state=saved)
    assert resumed.clock_us == stop
    assert resumed.state() == original.state()
    for until in (stop + 30 * SECOND, stop + 17 * MINUTE + 3):
        assert_same(resumed.advance(until), original.advance(until))
    assert resumed.state() == original.state()


def test_state_contents_and_validation():
    market = SyntheticMarket(("EURUSD", "USDJPY"), seed=2, start_us=SPAN_START)
    market.advance(SPAN_START + 5 * MINUTE)
    state = market.state()
    assert set(state) >= {"clock_us", "currencies", "symbols", "rng", "seed"}
    assert set(state["currencies"]["EUR"]) == {"log_value", "garch_variance"}
    assert state["symbols"]["EURUSD"]["mid"] == pytest.approx(1.085, rel=0.01)
    with pytest.raises(ValueError, match="seed"):
        SyntheticMarket(("EURUSD", "USDJPY"), seed=3, state=state)
    with pytest.raises(ValueError, match="ticks_per_second"):
        SyntheticMarket(("EURUSD", "USDJPY"), seed=2, state=state, ticks_per_second=2.0)
    with pytest.raises(ValueError, match="start_us"):
        SyntheticMarket(("EURUSD",))


# ------------------------------------------------------------ calendar


@pytest.mark.parametrize(
    "friday, sunday, close_utc_hour, open_utc_hour",
    [
        ((2024, 3, 8), (2024, 3, 10), 22, 21),  # US clocks go forward on that Sunday
        ((2024, 11, 1), (2024, 11, 3), 21, 22),  # and back
        ((2024, 3, 29), (2024, 3, 31), 21, 21),  # European change only
    ],
)
def test_weekend_closure_follows_new_york_time(friday, sunday, close_utc_hour, open_utc_hour):
    close = ny_us(*friday, 17)
    reopen = ny_us(*sunday, 17)
    assert close == utc_us(*friday, close_utc_hour)
    assert reopen == utc_us(*sunday, open_utc_hour)
    assert is_market_open(close - 1) and not is_market_open(close)
    assert not is_market_open(reopen - 1) and is_market_open(reopen)

    market = SyntheticMarket(("EURUSD", "USDJPY"), seed=4, start_us=close - 2 * HOUR)
    batches = market.advance(reopen + HOUR)
    for batch in batches.values():
        times = batch.time_us
        assert not np.any((times >= close) & (times < reopen))
        assert np.any(times > close - 5 * MINUTE) and np.any(times < reopen + 5 * MINUTE)
        assert np.max(np.diff(times)) >= reopen - close - 5 * MINUTE


def test_activity_profile_is_normalised_and_shaped():
    minutes = np.arange(ny_us(2024, 1, 7, 17), ny_us(2024, 1, 12, 17), MINUTE) // MINUTE
    activity, spread = activity_profile(minutes)
    assert activity.mean() == pytest.approx(1.0, rel=1e-9)
    assert activity.min() > 0
    hour_utc = (minutes // 60) % 24
    assert activity[hour_utc == 14].mean() > 1.5 * activity[hour_utc == 3].mean()
    assert spread.max() > 3 * np.median(spread)


# ------------------------------------------------------------ specs and speed


def test_default_specs():
    assert set(MAJORS) < set(DEFAULT_SPECS)
    for symbol, spec in DEFAULT_SPECS.items():
        assert spec.symbol == symbol == spec.base + spec.quote
        expected = {"JPY": 3}.get(spec.quote, 2 if spec.base == "XAU" else 5)
        assert spec.digits == expected
        assert spec.pip_size == pytest.approx(10 * 10.0**-spec.digits)
    d = {s: spec.start_price for s, spec in DEFAULT_SPECS.items()}
    assert d["EURJPY"] == pytest.approx(d["EURUSD"] * d["USDJPY"], rel=1e-5)
    assert d["EURGBP"] == pytest.approx(d["EURUSD"] / d["GBPUSD"], rel=1e-5)
    assert d["GBPJPY"] == pytest.approx(d["GBPUSD"] * d["USDJPY"], rel=1e-5)


def test_all_default_symbols_start_at_their_spec_prices():
    batches = SyntheticMarket(seed=6, start_us=SPAN_START).advance(SPAN_START + 10 * SECOND)
    for symbol, batch in batches.items():
        spec = DEFAULT_SPECS[symbol]
        assert len(batch) > 0
        assert mid(batch)[0] == pytest.approx(spec.start_price, rel=5e-4)
        np.testing.assert_array_equal(np.round(batch.bid, spec.digits), batch.bid)


def test_custom_spec_with_a_currency_outside_the_model():
    eursek = SymbolSpec("EURSEK", "EUR", "SEK", 11.45, 5, 0.0001, 25.0, 0.08)
    market = SyntheticMarket([eursek, "EURUSD"], seed=1, start_us=SPAN_START)
    batches = market.advance(SPAN_START + 30 * MINUTE)
    batch = batches["EURSEK"]
    assert len(batch) > 1000
    assert mid(batch)[0] == pytest.approx(11.45, rel=1e-3)
    assert np.all(batch.ask > batch.bid)
    saved = json.loads(json.dumps(market.state()))
    assert "SEK" in saved["currencies"]
    resumed = SyntheticMarket([eursek, "EURUSD"], seed=1, state=saved)
    assert_same(resumed.advance(SPAN_START + HOUR), market.advance(SPAN_START + HOUR))
    with pytest.raises(ValueError, match="unknown symbol"):
        SyntheticMarket(["EURSEK"], start_us=SPAN_START)


def test_one_hour_of_the_majors_is_fast():
    start = utc_us(2024, 6, 5, 12)
    market = SyntheticMarket(MAJORS, seed=0, start_us=start, ticks_per_second=4.0)
    market.advance(start + MINUTE)  # warm up
    began = time.perf_counter()
    batches = market.advance(start + MINUTE + HOUR)
    elapsed = time.perf_counter() - began
    assert elapsed < 1.0
    for batch in batches.values():
        assert 3600 * 2 < len(batch) < 3600 * 12  # busy hours: several ticks a second


def test_trading_week_agrees_with_the_market_calendar():
    from apps.marketdata.calendar import WeeklySession

    session = WeeklySession()  # Sunday 17:00 to Friday 17:00 New York
    for friday in ((2024, 3, 8), (2024, 11, 1), (2025, 3, 7)):
        start = ny_us(*friday, 12)
        times = np.arange(start, start + 4 * 24 * HOUR, MINUTE) + 59 * SECOND
        times = np.concatenate([times, times - 59 * SECOND])
        np.testing.assert_array_equal(is_market_open(times), session.is_open(times))

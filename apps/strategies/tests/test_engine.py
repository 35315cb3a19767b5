"""The backtest engine: fills at the next open with the spread, stops inside
a bar, swap and commission through the trading accounting, both paths
identical, and no look-ahead."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.strategies.builtin import BUILTIN
from apps.strategies.engine.data import attach_ticks
from apps.strategies.engine.run import rollover_dates, run
from apps.strategies.engine.simulator import Settings
from apps.strategies.framework import Strategy
from apps.strategies.tests.helpers import HOUR_US, T0, bars, series, walk
from apps.trading import accounting as acc

pytestmark = pytest.mark.django_db

NO_COSTS = Settings(swap=False)


class Script(Strategy):
    """Calls what ``plan[i]`` says on bar i: ("target", d, kwargs) or ("buy"/"sell", kwargs)."""

    key = "script"
    plan: dict = {}

    def on_bar(self, ctx, i):
        for step in self.plan.get(i, []):
            getattr(ctx, step[0])(*step[1:-1], **step[-1])


def scripted(plan):
    return type("S", (Script,), {"plan": plan})


def test_market_orders_fill_at_the_next_open_buying_at_the_ask():
    se = series(
        bars(
            [
                (1.1000, 1.1010, 1.0990, 1.1005),
                (1.1010, 1.1030, 1.1000, 1.1020),  # the buy fills at 1.1010 + 0.0002 spread
                (1.1020, 1.1050, 1.1015, 1.1040),
                (1.1045, 1.1060, 1.1030, 1.1050),  # the sell fills at this open, the bid
            ],
            spread=0.0002,
        )
    )
    plan = {0: [("target", 1, {})], 2: [("target", 0, {})]}
    result = run(scripted(plan), [se], NO_COSTS)
    (trade,) = result.trades
    assert trade["side"] == "long"
    assert trade["entry_price"] == 1.1012 and trade["entry_index"] == 1
    assert trade["exit_price"] == 1.1045 and trade["exit_time"] == T0 + 3 * HOUR_US
    assert trade["net_pnl"] == pytest.approx(100_000 * (1.1045 - 1.1012))
    # Equity: marked at each close (longs at the bid) then the realised balance.
    assert result.equity[1] == pytest.approx(100_000 + 100_000 * (1.1020 - 1.1012))
    assert result.equity[-1] == pytest.approx(100_000 + trade["net_pnl"])


def test_short_positions_close_at_the_ask_with_slippage_against_the_order():
    se = series(bars([(1.1, 1.1, 1.1, 1.1)] * 4, spread=0.0002))
    plan = {0: [("target", -1, {})], 2: [("target", 0, {})]}
    result = run(scripted(plan), [se], Settings(swap=False, slippage_pips=0.5))
    (trade,) = result.trades
    assert trade["entry_price"] == pytest.approx(1.1 - 0.00005)  # sold at the bid, slipped
    assert trade["exit_price"] == pytest.approx(1.1 + 0.0002 + 0.00005)  # bought at the ask


def test_stop_loss_first_when_both_levels_are_inside_one_bar():
    rows = [
        (1.1000, 1.1000, 1.1000, 1.1000),
        (1.1000, 1.1001, 1.0999, 1.1000),  # entry at 1.1000 (+0 spread)
        (1.1000, 1.1100, 1.0900, 1.1000),  # both the stop (1.0950) and the target (1.1050)
        (1.1000, 1.1000, 1.1000, 1.1000),
    ]
    se = series(bars(rows, spread=0.0))
    plan = {0: [("target", 1, {"stop": 0.0050, "take": 0.0050})]}
    result = run(scripted(plan), [se], NO_COSTS)
    (trade,) = result.trades
    assert trade["reason"] == "stop_loss" and trade["exit_price"] == 1.0950
    # The target alone: filled at its price.
    rows[2] = (1.1000, 1.1100, 1.0990, 1.1000)
    (trade,) = run(scripted(plan), [series(bars(rows, spread=0.0))], NO_COSTS).trades
    assert trade["reason"] == "take_profit" and trade["exit_price"] == 1.1050
    # A gap through the stop fills at the open (worse than the stop).
    rows[2] = (1.0900, 1.0920, 1.0890, 1.0900)
    (trade,) = run(scripted(plan), [series(bars(rows, spread=0.0))], NO_COSTS).trades
    assert trade["reason"] == "stop_loss" and trade["exit_price"] == 1.0900


def test_limit_and_stop_orders_trigger_on_the_bar_range():
    rows = [
        (1.1000, 1.1000, 1.1000, 1.1000),
        (1.1000, 1.1005, 1.0980, 1.0990),  # buy limit 1.0985 fills at 1.0985 (ask = bid here)
        (1.0990, 1.1040, 1.0985, 1.1030),  # sell stop 1.0950 not touched; buy stop 1.1020 fills
        (1.1030, 1.1030, 1.1030, 1.1030),
    ]
    se = series(bars(rows, spread=0.0))
    plan = {
        0: [("buy", {"lots": 1, "type": "limit", "price": 1.0985})],
        1: [("buy", {"lots": 1, "type": "stop", "price": 1.1020})],
    }
    result = run(scripted(plan), [se], NO_COSTS)
    (trade,) = result.trades  # closed at the end of data
    assert trade["lots"] == 2 and trade["reason"] == "end_of_data"
    assert trade["entry_price"] == pytest.approx((1.0985 + 1.1020) / 2)


def test_commission_and_swap_go_through_the_trading_accounting():
    n = 24 * 7  # a week of hours from Monday 00:00 UTC: rollovers Mon..Fri, Wednesday triple
    se = series(bars([(1.1, 1.1, 1.1, 1.1)] * n, spread=0.0))
    spec = se.spec
    plan = {0: [("target", 1, {})], n - 2: [("target", 0, {})]}
    result = run(
        scripted(plan),
        [se],
        Settings(commission_mode="per_lot", commission_value=3.5, swap=True),
    )
    (trade,) = result.trades
    assert trade["commission"] == pytest.approx(7.0)  # 3.5 per lot per side
    nights = sum(acc.swap_nights(d) for days in rollover_dates(se.time_us).values() for d in days)
    assert nights == 7  # Mon, Tue, Thu, Fri + Wednesday's three
    per_night = 1 * spec.contract_size * spec.point * spec.swap_long
    assert trade["swap"] == pytest.approx(per_night * nights)
    assert result.metrics["final_equity"] == pytest.approx(100_000 - 7.0 + trade["swap"])


def test_rollover_dates_follow_17_00_new_york():
    times = np.array([T0 + h * HOUR_US for h in range(0, 48)], dtype=np.int64)
    rolls = rollover_dates(times)
    # Monday 2024-01-08 17:00 New York = 22:00 UTC: the bar opening then is after it.
    assert list(rolls) == [22, 46]
    assert rolls[22] == [date(2024, 1, 8)]


def test_pnl_of_a_jpy_quoted_pair_converts_at_the_rate_known_at_the_fill():
    se = series(
        bars(
            [(150.0, 150.0, 150.0, 150.0), (150.0, 151, 150, 151.0), (152.0, 152, 152, 152.0)],
            spread=0.0,
        ),
        "USDJPY",
        quote_rate_open=np.array([1 / 150.0, 1 / 150.0, 1 / 151.0]),
        quote_rate_close=np.array([1 / 150.0, 1 / 151.0, 1 / 152.0]),
    )
    plan = {0: [("target", 1, {})], 1: [("target", 0, {})]}
    (trade,) = run(scripted(plan), [se], NO_COSTS).trades
    # 100,000 × (152 − 150) JPY at the USDJPY rate known at the open of the exit bar
    assert trade["net_pnl"] == pytest.approx(round(200_000 / 151.0, 8))


@pytest.mark.parametrize("key", ["sma_cross", "ema_cross", "macd_trend", "bollinger_breakout"])
def test_vectorised_and_bar_paths_give_identical_trades_and_equity(key):
    se = series(walk(6_000, seed=7))
    cls = BUILTIN[key]
    costs = Settings(
        commission_value=3.5, slippage_pips=0.3, sizing_mode="fraction", sizing_value=2.0
    )
    fast = run(cls, [se], costs, path="vectorised")
    slow = run(cls, [se], costs, path="bar")
    assert fast.path == "vectorised" and slow.path == "bar"
    assert len(fast.trades) > 20
    assert fast.trades == slow.trades
    assert np.array_equal(fast.equity, slow.equity)
    assert fast.metrics == slow.metrics


def _rates(n: int, seed: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Conversion rates as of each open and at each close (the open's rate is
    the close before)."""
    close = level * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.001, n)))
    return np.r_[close[0], close[:-1]], close


BATCH_CASES = {
    "eurusd lots, per-lot commission, swap": ("EURUSD", {}, Settings(commission_value=3.5)),
    "eurusd units, notional commission, slippage, fixed spread": (
        "EURUSD",
        {},
        Settings(
            sizing_mode="units",
            sizing_value=150_000,
            commission_mode="notional",
            commission_value=25,
            slippage_pips=0.4,
            spread_pips=1.3,
        ),
    ),
    "usdjpy in a usd account: quote rates": (
        "USDJPY",
        {"start": 150.0, "step": 0.09, "spread": 0.012},
        Settings(sizing_value=0.7, commission_mode="notional", commission_value=30),
    ),
    "eurgbp in a usd account: quote and base rates": (
        "EURGBP",
        {"start": 0.86, "step": 0.0006, "spread": 0.00015},
        Settings(sizing_value=2.3, commission_value=4.0, slippage_pips=0.2),
    ),
    "eurusd in a eur account": (
        "EURUSD",
        {},
        Settings(account_ccy="EUR", initial_balance=54_321.12345678, commission_value=2.0),
    ),
    "no swap, no costs": ("EURUSD", {}, Settings(swap=False)),
}


@pytest.mark.parametrize("case", BATCH_CASES)
@pytest.mark.parametrize("key", ["sma_cross", "macd_trend"])
def test_fills_booked_at_once_equal_the_simulator_fill_by_fill(case, key):
    symbol, walk_args, costs = BATCH_CASES[case]
    n = 5_000
    se = series(walk(n, seed=11, **walk_args), symbol)
    if symbol == "USDJPY":
        se.quote_rate_open, se.quote_rate_close = _rates(n, 1, 1 / 150)
    elif symbol == "EURGBP":
        se.quote_rate_open, se.quote_rate_close = _rates(n, 2, 1.27)
        se.base_rate_open, se.base_rate_close = _rates(n, 3, 1.09)
    elif costs.account_ccy == "EUR":
        se.quote_rate_open, se.quote_rate_close = _rates(n, 4, 0.92)
        se.base_rate_open = se.base_rate_close = 1
    cls = BUILTIN[key]
    slow = run(cls, [se], costs, path="bar", at_once=False)
    assert not slow.booked_at_once and len(slow.trades) > 50
    if costs.swap:
        assert any(t["swap"] for t in slow.trades)
    for path in ("vectorised", "bar"):
        fast = run(cls, [se], costs, path=path)
        assert fast.path == path and fast.booked_at_once
        assert fast.trades == slow.trades
        assert list(fast.fills) == slow.fills
        assert np.array_equal(fast.equity, slow.equity)
        assert fast.metrics == slow.metrics
        assert fast.monthly == slow.monthly


def test_bar_runs_with_stops_targets_and_resting_orders_booked_at_once_equal_fill_by_fill():
    """Random scripts of market, limit and stop orders with stop-loss,
    take-profit and trailing stops. Most are booked at once; a script whose
    orders add to a position (a resting order and a target filling on one
    bar) goes fill by fill: either way the results are identical."""
    booked = [_random_script_run(seed) for seed in range(8)]
    assert sum(booked) >= 5


def _random_script_run(seed: int) -> bool:
    rng = np.random.default_rng(seed)
    n = 1_500
    plan = {}
    for i in sorted(rng.choice(np.arange(5, n - 5), 150, replace=False).tolist()):
        kind = rng.integers(0, 4)
        pips = {k: float(rng.choice([0, 8, 15, 30])) * 0.0001 for k in ("stop", "take", "trail")}
        protect = {k: v or None for k, v in pips.items()}
        if kind == 0:
            plan[i] = [("target", int(rng.choice([-1, 0, 1])), protect)]
        elif kind == 1:
            plan[i] = [("close_position", {})]
        else:
            side = "buy" if rng.random() < 0.5 else "sell"
            order_type = "limit" if kind == 2 else "stop"
            plan[i] = [("cancel_all", {}), (side, {"type": order_type, **protect})]
    se = series(walk(n, seed=seed + 40))

    class Randomised(Script):
        def on_bar(self, ctx, i):
            for step in plan.get(i, []):
                if step[0] in ("buy", "sell"):
                    if ctx.position:
                        continue  # only opening orders: no adding to a position
                    above = (step[0] == "buy") == (step[1]["type"] == "stop")
                    price = ctx.close[i] + (0.0012 if above else -0.0012)
                    getattr(ctx, step[0])(price=price, **step[1])
                else:
                    getattr(ctx, step[0])(*step[1:-1], **step[-1])

    costs = Settings(commission_value=2.5, slippage_pips=0.2)
    slow = run(Randomised, [se], costs, path="bar", at_once=False)
    fast = run(Randomised, [se], costs, path="bar")
    reasons = {t["reason"] for t in slow.trades}
    assert len(slow.trades) > 30 and {"signal", "stop_loss"} <= reasons
    assert fast.trades == slow.trades
    assert list(fast.fills) == slow.fills
    assert np.array_equal(fast.equity, slow.equity)
    assert fast.metrics == slow.metrics
    return fast.booked_at_once


def test_a_strategy_reading_the_equity_runs_fill_by_fill():
    class Reader(Script):
        def on_bar(self, ctx, i):
            if i % 50 == 10:
                ctx.target(1 if ctx.equity > 0 and (i // 50) % 2 else -1)

    se = series(walk(600, seed=3))
    result = run(Reader, [se], Settings(commission_value=1.0), path="bar")
    reference = run(Reader, [se], Settings(commission_value=1.0), path="bar", at_once=False)
    assert not result.booked_at_once
    assert result.trades == reference.trades and len(result.trades) > 5


def test_runs_the_account_feeds_back_into_go_fill_by_fill():
    # 40 lots on 50,000 USD: the margin (about 147,000) is not covered, so
    # orders are refused; the batch booking hands the run to the simulator.
    se = series(walk(2_000, seed=5))
    heavy = Settings(initial_balance=50_000, sizing_value=40)
    fast = run(BUILTIN["sma_cross"], [se], heavy, path="vectorised")
    slow = run(BUILTIN["sma_cross"], [se], heavy, path="bar")
    assert fast.path == "vectorised" and not fast.booked_at_once
    assert fast.rejected and fast.rejected == slow.rejected
    assert fast.trades == slow.trades and np.array_equal(fast.equity, slow.equity)
    # 3 lots long on 12,000 USD (margin about 11,000), then a 330-pip fall:
    # stopped out at that close.
    close = np.r_[
        1.1 - np.arange(25) * 0.0002,  # down: short, or flat in the warm-up
        1.0952 + np.arange(1, 16) * 0.0004,  # up: the cross makes it long
        1.0622 + np.arange(30) * 0.00001,  # a 330-pip gap down
    ]
    rows = [(c, c + 0.0002, c - 0.0002, c) for c in close]
    rows[40] = (close[39], close[39], close[40], close[40])
    se = series(bars(rows, spread=0.0))
    tight = Settings(initial_balance=12_000, sizing_value=3, swap=False)
    fast = run(BUILTIN["sma_cross"], [se], tight, path="vectorised")
    slow = run(BUILTIN["sma_cross"], [se], tight, path="bar")
    assert not fast.booked_at_once
    assert any(t["reason"] == "stop_out" for t in fast.trades)
    assert fast.trades == slow.trades and np.array_equal(fast.equity, slow.equity)


def test_stop_out_closes_the_position_and_orders_the_account_cannot_afford_are_refused():
    # A steady fall against a 2-lot long on 10,000 USD (margin 7,333 at 1.1).
    n = 200
    close = 1.1 - np.arange(n) * 0.0005
    rows = [(c + 0.0005, c + 0.0006, c - 0.0001, c) for c in close]
    se = series(bars(rows, spread=0.0))
    plan = {0: [("target", 1, {})], 150: [("target", 1, {})]}
    result = run(
        scripted(plan),
        [se],
        Settings(initial_balance=10_000, leverage=100, sizing_value=2, swap=False),
    )
    first = result.trades[0]
    assert first["reason"] == "stop_out"
    margin = 2 * 100_000 * first["exit_price"] * 0.033333  # EURUSD margin rate
    # Stopped at the first close where equity fell under 50% of the margin.
    assert result.equity[first["exit_index"]] >= 0
    assert 10_000 + first["net_pnl"] < margin * 0.5 + 1
    assert result.rejected  # the later order could not be afforded


class Peeker(Strategy):
    """Trades on a moving average; logs what it saw (for the look-ahead test)."""

    key = "peek"

    def indicators(self):
        return {"ma": ("sma", {"period": 5}, "sma")}

    def on_bar(self, ctx, i):
        ma = ctx.ind["ma"][i]
        if ma != ma:
            return
        ctx.target(1 if ctx.close[i] > ma else -1, stop=0.002)


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(30, 380), seed=st.integers(0, 1000))
def test_no_look_ahead_changing_later_bars_never_changes_earlier_fills(cut, seed):
    base = walk(400, seed=3)
    other = walk(400, seed=seed + 10)
    changed = {k: v.copy() for k, v in base.items()}
    for name in ("open", "high", "low", "close"):
        changed[name][cut:] = other[name][cut:] + 0.05
    a = run(Peeker, [series(base)], NO_COSTS)
    b = run(Peeker, [series(changed)], NO_COSTS)

    def before(result):
        # Trades closed before bar `cut` (fills on bars up to cut-1 happen at opens before cut)
        return [t for t in result.trades if t["exit_index"] < cut and t["reason"] != "end_of_data"]

    assert before(a) == before(b)
    assert np.array_equal(a.equity[: cut - 1], b.equity[: cut - 1])


# --- filling from stored ticks ---------------------------------------------------


def _with_ticks(se, ticks_per_bar: dict[int, list[tuple[float, float]]]):
    """Attach (bid, ask) ticks to bars, evenly spaced inside each."""
    times, bids, asks = [], [], []
    for j in sorted(ticks_per_bar):
        quotes = ticks_per_bar[j]
        for x, (bid, ask) in enumerate(quotes):
            times.append(int(se.time_us[j]) + (x + 1) * HOUR_US // (len(quotes) + 1))
            bids.append(bid)
            asks.append(ask)
    attach_ticks(se, np.array(times, dtype=np.int64), np.array(bids), np.array(asks))
    return se


def test_ticks_decide_which_of_stop_and_target_comes_first():
    rows = [
        (1.1000, 1.1002, 1.0998, 1.1000),
        (1.1000, 1.1002, 1.0998, 1.1000),  # the buy fills at this open
        (1.1000, 1.1030, 1.0970, 1.1000),  # both 20-pip levels inside the bar
        (1.1000, 1.1002, 1.0998, 1.1000),
    ]
    plan = {0: [("target", 1, {"stop": 0.0020, "take": 0.0020})]}
    bar_only = run(scripted(plan), [series(bars(rows, spread=0.0))], NO_COSTS)
    assert [t["reason"] for t in bar_only.trades] == ["stop_loss"]  # conservative
    # The ticks say the market went up to the target first.
    se = _with_ticks(
        series(bars(rows, spread=0.0)),
        {
            1: [(1.1000, 1.1001)],
            2: [(1.1010, 1.1011), (1.1021, 1.1022), (1.0975, 1.0976)],
        },
    )
    (trade,) = run(scripted(plan), [se], replace(NO_COSTS, ticks=True)).trades
    assert trade["reason"] == "take_profit"
    assert trade["entry_price"] == 1.1001  # the first tick's ask, not open + bar spread
    assert trade["exit_price"] == 1.1021  # the tick's bid that reached the target


def test_resting_orders_and_trailing_stops_follow_the_ticks():
    rows = [(1.1000, 1.1002, 1.0998, 1.1000)] * 4
    plan = {0: [("buy", {"type": "stop", "price": 1.1005, "trail": 0.0004})]}
    se = _with_ticks(
        series(bars(rows, spread=0.0)),
        {
            1: [(1.1001, 1.1002), (1.1006, 1.1007), (1.1012, 1.1013), (1.1007, 1.1008)],
        },
    )
    (trade,) = run(scripted(plan), [se], replace(NO_COSTS, ticks=True)).trades
    # Bought at the ask of the first tick over 1.1005; trailed to 1.1008 by the
    # 1.1012 bid; stopped on the next tick's bid.
    assert trade["entry_price"] == 1.1007
    assert (trade["reason"], trade["exit_price"]) == ("trailing_stop", 1.1007)


class TickTrader(Strategy):
    """Buys on the first tick whose ask is under the last close minus 5 pips,
    sells on the first tick whose bid is 5 pips over its entry."""

    key = "tick_trader"

    def start(self, ctx):
        self.seen = []
        self.entry = None

    def on_bar(self, ctx, i):
        pass

    def on_tick(self, ctx, tick):
        self.seen.append((ctx.i, tick.time_us))
        if ctx.i < 0:
            return
        if not ctx.position and self.entry is None and tick.ask < ctx.close[ctx.i] - 0.0005:
            ctx.buy(1)
            self.entry = tick.ask
        elif ctx.position > 0 and tick.bid > self.entry + 0.0005:
            ctx.close_position()
            self.entry = None


def test_on_tick_sees_each_tick_and_its_orders_fill_at_the_next_tick():
    rows = [(1.1000, 1.1002, 1.0990, 1.1000)] * 3
    se = _with_ticks(
        series(bars(rows, spread=0.0)),
        {
            0: [(1.1000, 1.1001)],
            1: [(1.0998, 1.0999), (1.0993, 1.0994), (1.0996, 1.0997), (1.1001, 1.1002)],
            2: [(1.1004, 1.1005), (1.1003, 1.1004)],
        },
    )
    instances = []

    def factory():
        instances.append(TickTrader())
        return instances[-1]

    result = run(factory, [se], replace(NO_COSTS, ticks=True))
    (trade,) = result.trades
    assert trade["entry_price"] == 1.0997  # the tick after the signal (1.0994 ask)
    # The 1.1001 bid (entry + 5 pips) closes it at the next tick: the next bar's first.
    assert trade["exit_price"] == 1.1004
    # Ticks of bar j come while bar j-1 is the last closed one.
    assert [i for i, _ in instances[-1].seen] == [-1, 0, 0, 0, 0, 1, 1]


def test_runs_filled_from_ticks_book_at_once_as_fill_by_fill():
    rng = np.random.default_rng(8)
    se = series(walk(800, seed=12))
    quotes = {}
    for j in range(len(se)):
        if j % 7 == 3:
            continue  # some bars without ticks: filled from the bar
        k = int(rng.integers(1, 6))
        bids = np.sort(rng.uniform(se.low[j], se.high[j], k))
        if rng.random() < 0.5:
            bids = bids[::-1]
        quotes[j] = [(round(b, 5), round(b + 0.0001, 5)) for b in bids]
    _with_ticks(se, quotes)
    cls = BUILTIN["sma_cross"]

    def make():
        return cls(fast=5, slow=12, stop_pips=8, take_pips=12, trail_pips=6)

    costs = Settings(commission_value=3.0, slippage_pips=0.1, ticks=True)
    slow = run(make, [se], costs, at_once=False)
    fast = run(make, [se], costs)
    assert fast.booked_at_once and len(slow.trades) > 20
    assert {"take_profit", "trailing_stop"} <= {t["reason"] for t in slow.trades}
    assert fast.trades == slow.trades
    assert np.array_equal(fast.equity, slow.equity)


@pytest.mark.parametrize("key", sorted(k for k in BUILTIN if k != "ml_signal"))
def test_every_parameter_bound_a_built_in_accepts_computes_its_indicators(key):
    """At each range end (with the other defaults) a strategy either refuses
    the value with a field error from its own rules, or runs: no value inside
    its schema may give an indicator it cannot compute (live deployments
    would fail on every bar)."""
    from apps.strategies.errors import InvalidParameters

    cls = BUILTIN[key]
    data = walk(300, seed=2)
    for name, param in cls.params.items():
        if param.kind not in ("int", "float"):
            continue
        for value in (param.min, param.max):
            try:
                strategy = cls(**{name: value})
            except InvalidParameters as exc:
                assert not any("parameter" in m for msgs in exc.fields.values() for m in msgs)
                continue
            strategy.compute_indicators(data)
            strategy.incremental_indicators()


def test_an_indicator_parameter_out_of_range_is_a_field_error_of_the_strategy():
    from apps.strategies.errors import InvalidParameters
    from apps.strategies.params import Int

    class TooShort(Strategy):
        key = "too_short"
        params = {"n": Int(5, 1, 10, "Period.")}

        def indicators(self):
            return {
                "a": ("sma", {"period": self.p.n}, "sma"),
                "b": ("ema", {"period": self.p.n}, "ema"),
            }

    with pytest.raises(InvalidParameters) as caught:
        TooShort(n=1)
    (messages,) = caught.value.fields.values()
    assert list(caught.value.fields) == ["n"] and len(messages) == 2
    assert "sma: parameter 'period'" in messages[0]

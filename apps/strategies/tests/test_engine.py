"""The backtest engine: fills at the next open with the spread, stops inside
a bar, swap and commission through the trading accounting, both paths
identical, and no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.strategies.builtin import BUILTIN
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

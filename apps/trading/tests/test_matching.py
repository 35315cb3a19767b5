"""Paper broker matching engine against hand-computed fills.

EURUSD: digits 5, point 0.00001, quote 1.10000/1.10010 unless stated.
USDJPY: digits 3, point 0.001, quote 150.000/150.020 unless stated.
Times are microseconds; quantities lots (lot_step 0.01).
"""

from dataclasses import replace
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.trading.matching import (
    EXPIRED_GTD,
    FOK_NOT_FILLABLE,
    IOC_REMAINDER,
    NO_QUOTE,
    Execution,
    MatchingEngine,
    PaperConfig,
    PaperOrder,
    Quote,
    Transition,
)

EURUSD = PaperConfig(point=D("0.00001"), digits=5)
USDJPY = PaperConfig(point=D("0.001"), digits=3)


def eurusd(**changes) -> MatchingEngine:
    return MatchingEngine(replace(EURUSD, **changes))


def usdjpy(**changes) -> MatchingEngine:
    return MatchingEngine(replace(USDJPY, **changes))


def q(t: int, bid: str, ask: str) -> Quote:
    return Quote(t, D(bid), D(ask))


def order(**fields) -> PaperOrder:
    defaults = dict(id="o1", side="buy", type="market", quantity=D("1"), submitted_at_us=0)
    defaults.update(fields)
    for name in ("quantity", "price", "stop_price", "filled"):
        if isinstance(defaults.get(name), str):
            defaults[name] = D(defaults[name])
    return PaperOrder(**defaults)


def fill(qty: str, price: str, t: int, liquidity: str = "taker", oid: str = "o1") -> Execution:
    return Execution(oid, D(qty), D(price), t, liquidity)


def tr(status: str, reason: str = "", oid: str = "o1") -> Transition:
    return Transition(oid, status, reason)


EU = q(0, "1.10000", "1.10010")
UJ = q(0, "150.000", "150.020")


# -- market orders ------------------------------------------------------------


def test_market_buy_at_ask_sell_at_bid():
    engine = eurusd()
    buy, sell = order(), order(id="o2", side="sell", quantity="0.5")
    assert engine.submit(buy, EU, 10) == ([fill("1", "1.10010", 10)], [tr("filled")])
    assert engine.submit(sell, EU, 11) == (
        [fill("0.5", "1.10000", 11, oid="o2")],
        [tr("filled", oid="o2")],
    )
    assert buy.filled == D("1") and buy.terminal
    assert sell.filled == D("0.5") and sell.terminal


def test_market_slippage_is_adverse():
    # EURUSD 3 points = 0.00003: buy 1.10010 + 0.00003, sell 1.10000 − 0.00003
    engine = eurusd(slippage_points=3)
    assert engine.submit(order(), EU, 1)[0] == [fill("1", "1.10013", 1)]
    assert engine.submit(order(side="sell"), EU, 1)[0] == [fill("1", "1.09997", 1)]
    # USDJPY 2 points = 0.002: 150.020 + 0.002, 150.000 − 0.002
    engine = usdjpy(slippage_points=2)
    assert engine.submit(order(), UJ, 1)[0] == [fill("1", "150.022", 1)]
    assert engine.submit(order(side="sell"), UJ, 1)[0] == [fill("1", "149.998", 1)]


def test_prices_rounded_half_even_to_digits():
    engine = eurusd()
    # a 6-digit feed: 1.100125 → 1.10012 (half to even), 1.100135 → 1.10014
    assert engine.submit(order(), q(0, "1.100000", "1.100125"), 1)[0][0].price == D("1.10012")
    assert engine.submit(order(), q(0, "1.100000", "1.100135"), 1)[0][0].price == D("1.10014")
    # USDJPY 150.0205 + 1 point 0.001 = 150.0215 → 150.022
    engine = usdjpy(slippage_points=1)
    assert engine.submit(order(), q(0, "150.000", "150.0205"), 1)[0][0].price == D("150.022")


def test_market_order_latency():
    engine = eurusd(latency_us=50_000)
    o = order(submitted_at_us=1_000_000)
    assert engine.submit(o, q(1_000_000, "1.10000", "1.10010"), 1_000_000) == ([], [])
    assert engine.on_quote([o], q(1_020_000, "1.10001", "1.10011")) == ([], [])
    assert o.filled == 0
    # the first quote at submitted_at + latency fills it, at that quote
    assert engine.on_quote([o], q(1_050_000, "1.10002", "1.10012")) == (
        [fill("1", "1.10012", 1_050_000)],
        [tr("filled")],
    )
    assert engine.on_quote([o], q(1_060_000, "1.10002", "1.10012")) == ([], [])


def test_market_order_without_quote_waits_for_the_first():
    engine = eurusd()
    o = order(submitted_at_us=100)
    assert engine.submit(o, None, 100) == ([], [])
    # a quote older than the order is not the market it meets
    assert engine.on_quote([o], q(99, "1.10000", "1.10010")) == ([], [])
    assert engine.on_quote([o], q(150, "1.10020", "1.10030")) == (
        [fill("1", "1.10030", 150)],
        [tr("filled")],
    )


@pytest.mark.parametrize("tif", ["IOC", "FOK"])
@pytest.mark.parametrize("latency", [0, 1000])
def test_immediate_orders_without_quote_are_cancelled(tif, latency):
    engine = eurusd(latency_us=latency)
    market = order(time_in_force=tif)
    limit = order(id="o2", type="limit", price="1.10050", time_in_force=tif)
    assert engine.submit(market, None, 5) == ([], [tr("cancelled", NO_QUOTE)])
    assert engine.submit(limit, None, 5) == ([], [tr("cancelled", NO_QUOTE, "o2")])
    assert market.terminal and limit.terminal
    assert engine.on_quote([market, limit], q(10_000, "1.10000", "1.10010")) == ([], [])
    # a stop's immediacy applies when it triggers: without a quote it just waits
    stop = order(id="o3", type="stop", stop_price="1.10050", time_in_force=tif)
    assert engine.submit(stop, None, 5) == ([], [])
    assert not stop.terminal


# -- limit orders -------------------------------------------------------------


def test_marketable_limit_on_submission_fills_at_ask_as_taker():
    engine = eurusd()
    buy = order(type="limit", price="1.10050")
    assert engine.submit(buy, EU, 7) == ([fill("1", "1.10010", 7)], [tr("filled")])
    sell = order(side="sell", type="limit", price="1.09950")
    assert engine.submit(sell, EU, 7)[0] == [fill("1", "1.10000", 7)]
    # a limit exactly at the touch is marketable too
    assert engine.submit(order(type="limit", price="1.10010"), EU, 7)[0] == [
        fill("1", "1.10010", 7)
    ]


def test_marketable_limit_slips_but_never_past_its_limit():
    engine = eurusd(slippage_points=3)
    # ask 1.10010 + 3 points = 1.10013 < limit 1.10050
    assert engine.submit(order(type="limit", price="1.10050"), EU, 1)[0] == [
        fill("1", "1.10013", 1)
    ]
    # 1.10013 capped at the limit 1.10012
    assert engine.submit(order(type="limit", price="1.10012"), EU, 1)[0] == [
        fill("1", "1.10012", 1)
    ]
    # sell: bid 1.10000 − 3 points = 1.09997, floored at 1.09998
    assert engine.submit(order(side="sell", type="limit", price="1.09998"), EU, 1)[0] == [
        fill("1", "1.09998", 1)
    ]


def test_resting_buy_limit_fills_at_its_price_when_the_market_gaps_through():
    engine = eurusd(slippage_points=5)
    o = order(type="limit", price="1.09950")
    assert engine.submit(o, EU, 0) == ([], [])
    assert o.resting and not o.terminal
    assert engine.on_quote([o], q(10, "1.09950", "1.09960")) == ([], [])
    # ask gaps from 1.09960 to 1.09900: maker at the limit, no slippage, no improvement
    assert engine.on_quote([o], q(20, "1.09890", "1.09900")) == (
        [fill("1", "1.09950", 20, "maker")],
        [tr("filled")],
    )


def test_resting_sell_limit_usdjpy():
    engine = usdjpy(slippage_points=2)
    o = order(side="sell", type="limit", price="150.500", quantity="2")
    assert engine.submit(o, UJ, 0) == ([], [])
    assert engine.on_quote([o], q(10, "150.499", "150.519")) == ([], [])
    # bid touches the limit exactly
    assert engine.on_quote([o], q(20, "150.500", "150.520")) == (
        [fill("2", "150.500", 20, "maker")],
        [tr("filled")],
    )


def test_limit_submitted_without_quote_takes_on_its_first_quote():
    engine = eurusd()
    o = order(type="limit", price="1.10050")
    assert engine.submit(o, None, 0) == ([], [])
    assert not o.resting
    assert engine.on_quote([o], q(5, "1.10020", "1.10030"))[0] == [fill("1", "1.10030", 5)]


def test_limit_with_latency_is_judged_on_the_quote_it_arrives_at():
    engine = eurusd(latency_us=100)
    o = order(type="limit", price="1.10050", submitted_at_us=1000)
    assert engine.submit(o, q(1000, "1.10000", "1.10010"), 1000) == ([], [])
    # before arrival the order does not see the market (not even to rest)
    assert engine.on_quote([o], q(1050, "1.10000", "1.10010")) == ([], [])
    assert not o.resting
    # arrival at 1100: still marketable → taker at that quote's ask
    assert engine.on_quote([o], q(1100, "1.10030", "1.10040"))[0] == [fill("1", "1.10040", 1100)]


# -- stop orders --------------------------------------------------------------


def test_buy_stop_triggers_at_the_stop_and_fills_at_market_with_slippage():
    engine = eurusd(slippage_points=1)
    o = order(type="stop", stop_price="1.10050")
    assert engine.submit(o, EU, 0) == ([], [])
    assert engine.on_quote([o], q(10, "1.10030", "1.10049")) == ([], [])
    assert engine.on_quote([o], q(20, "1.10040", "1.10050")) == (
        [fill("1", "1.10051", 20)],
        [tr("triggered"), tr("filled")],
    )
    assert o.triggered and o.terminal


def test_buy_stop_gap_fills_at_the_worse_market_price():
    engine = eurusd(slippage_points=2)
    o = order(type="stop", stop_price="1.10050")
    engine.submit(o, EU, 0)
    # ask gaps from 1.10010 to 1.10200: 1.10200 + 0.00002, not the stop
    assert engine.on_quote([o], q(10, "1.10190", "1.10200"))[0] == [fill("1", "1.10202", 10)]


def test_sell_stop_gap_usdjpy():
    engine = usdjpy(slippage_points=2)
    o = order(side="sell", type="stop", stop_price="149.500")
    engine.submit(o, UJ, 0)
    assert engine.on_quote([o], q(10, "149.501", "149.521")) == ([], [])
    # bid gaps to 149.200: 149.200 − 0.002
    assert engine.on_quote([o], q(20, "149.200", "149.220")) == (
        [fill("1", "149.198", 20)],
        [tr("triggered"), tr("filled")],
    )


def test_stop_already_through_on_submission_triggers_at_once():
    engine = eurusd()
    o = order(type="stop", stop_price="1.10005")
    assert engine.submit(o, EU, 3) == ([fill("1", "1.10010", 3)], [tr("triggered"), tr("filled")])


def test_stop_limit_triggers_then_fills_later_as_maker():
    engine = eurusd(slippage_points=3)
    o = order(type="stop_limit", stop_price="1.10050", price="1.10060")
    assert engine.submit(o, EU, 0) == ([], [])
    # ask gaps to 1.10080: stop hit, the limit 1.10060 is not marketable → rests
    assert engine.on_quote([o], q(10, "1.10070", "1.10080")) == ([], [tr("triggered")])
    assert o.triggered and o.resting and o.filled == 0
    assert engine.on_quote([o], q(20, "1.10060", "1.10070")) == ([], [])
    # back to 1.10055 ≤ 1.10060: maker at the limit, no slippage
    assert engine.on_quote([o], q(30, "1.10045", "1.10055")) == (
        [fill("1", "1.10060", 30, "maker")],
        [tr("filled")],
    )


def test_stop_limit_marketable_when_triggered_fills_on_the_same_quote():
    engine = eurusd(slippage_points=3)
    o = order(side="sell", type="stop_limit", stop_price="1.09950", price="1.09940")
    engine.submit(o, EU, 0)
    # bid 1.09945 ≤ stop: triggered; ≥ limit 1.09940: taker at 1.09945 − 3 points = 1.09942
    assert engine.on_quote([o], q(10, "1.09945", "1.09955")) == (
        [fill("1", "1.09942", 10)],
        [tr("triggered"), tr("filled")],
    )


# -- time in force ------------------------------------------------------------


def test_gtd_expires_on_the_first_quote_at_or_after_expiry_without_filling():
    engine = eurusd()
    o = order(type="limit", price="1.09900", time_in_force="GTD", expire_at_us=2_000_000)
    assert engine.submit(o, EU, 0) == ([], [])
    assert engine.on_quote([o], q(1_999_999, "1.09990", "1.10000")) == ([], [])
    # marketable, but expiry wins
    assert engine.on_quote([o], q(2_000_000, "1.09800", "1.09810")) == (
        [],
        [tr("expired", EXPIRED_GTD)],
    )
    assert o.terminal and o.filled == 0
    assert engine.on_quote([o], q(2_000_001, "1.09800", "1.09810")) == ([], [])


def test_gtd_already_expired_on_submission_and_before_arrival():
    engine = eurusd(latency_us=1000)
    late = order(time_in_force="GTD", expire_at_us=50, submitted_at_us=60)
    assert engine.submit(late, EU, 60) == ([], [tr("expired", EXPIRED_GTD)])
    # expiry is checked before latency: an order still in flight expires too
    o = order(id="o2", time_in_force="GTD", expire_at_us=500, submitted_at_us=0)
    engine.submit(o, EU, 0)
    assert engine.on_quote([o], q(600, "1.10000", "1.10010")) == (
        [],
        [tr("expired", EXPIRED_GTD, "o2")],
    )


def test_gtd_fills_before_expiry():
    engine = eurusd()
    o = order(type="limit", price="1.09900", time_in_force="GTD", expire_at_us=100)
    engine.submit(o, EU, 0)
    assert engine.on_quote([o], q(99, "1.09880", "1.09890"))[0] == [
        fill("1", "1.09900", 99, "maker")
    ]


def test_ioc_fills_the_available_liquidity_and_cancels_the_rest():
    engine = eurusd(liquidity_lots_per_tick=D("0.5"))
    o = order(quantity="1.2", time_in_force="IOC")
    assert engine.submit(o, EU, 1) == (
        [fill("0.5", "1.10010", 1)],
        [tr("partially_filled"), tr("cancelled", IOC_REMAINDER)],
    )
    assert o.filled == D("0.5") and o.terminal
    assert engine.on_quote([o], q(2, "1.10000", "1.10010")) == ([], [])


def test_ioc_within_liquidity_fills_completely():
    engine = eurusd(liquidity_lots_per_tick=D("2"))
    o = order(quantity="1.2", time_in_force="IOC")
    assert engine.submit(o, EU, 1) == ([fill("1.2", "1.10010", 1)], [tr("filled")])


def test_ioc_limit_not_marketable_is_cancelled_whole():
    engine = eurusd()
    o = order(type="limit", price="1.09990", time_in_force="IOC")
    assert engine.submit(o, EU, 1) == ([], [tr("cancelled", IOC_REMAINDER)])
    assert o.filled == 0


def test_ioc_with_latency_is_judged_on_its_arrival_quote():
    engine = eurusd(latency_us=100, liquidity_lots_per_tick=D("0.3"))
    o = order(quantity="1", time_in_force="IOC")
    assert engine.submit(o, EU, 0) == ([], [])
    assert engine.on_quote([o], q(50, "1.10000", "1.10010")) == ([], [])
    assert engine.on_quote([o], q(100, "1.10001", "1.10011")) == (
        [fill("0.3", "1.10011", 100)],
        [tr("partially_filled"), tr("cancelled", IOC_REMAINDER)],
    )


def test_fok_all_or_nothing_against_liquidity():
    engine = usdjpy(liquidity_lots_per_tick=D("1"))
    whole = order(quantity="1", time_in_force="FOK")
    assert engine.submit(whole, UJ, 1) == ([fill("1", "150.020", 1)], [tr("filled")])
    too_big = order(id="o2", quantity="1.5", time_in_force="FOK")
    assert engine.submit(too_big, UJ, 1) == ([], [tr("cancelled", FOK_NOT_FILLABLE, "o2")])
    assert too_big.filled == 0 and too_big.terminal


def test_fok_limit_not_marketable():
    engine = eurusd()
    o = order(side="sell", type="limit", price="1.10001", time_in_force="FOK")
    assert engine.submit(o, EU, 1) == ([], [tr("cancelled", FOK_NOT_FILLABLE)])


def test_immediate_stop_waits_then_applies_on_the_trigger_quote():
    engine = eurusd(liquidity_lots_per_tick=D("0.4"))
    ioc = order(type="stop", stop_price="1.10050", time_in_force="IOC")
    fok = order(id="o2", type="stop", stop_price="1.10050", time_in_force="FOK")
    assert engine.submit(ioc, EU, 0) == ([], [])
    assert engine.submit(fok, EU, 0) == ([], [])
    assert engine.on_quote([ioc, fok], q(5, "1.10000", "1.10010")) == ([], [])
    assert engine.on_quote([ioc, fok], q(10, "1.10050", "1.10060")) == (
        [fill("0.4", "1.10060", 10)],
        [
            tr("triggered"),
            tr("partially_filled"),
            tr("cancelled", IOC_REMAINDER),
            tr("triggered", oid="o2"),
            tr("cancelled", FOK_NOT_FILLABLE, "o2"),
        ],
    )


def test_ioc_stop_limit_not_marketable_when_triggered_is_cancelled():
    engine = eurusd()
    o = order(type="stop_limit", stop_price="1.10050", price="1.10055", time_in_force="IOC")
    engine.submit(o, EU, 0)
    assert engine.on_quote([o], q(10, "1.10070", "1.10080")) == (
        [],
        [tr("triggered"), tr("cancelled", IOC_REMAINDER)],
    )


# -- partial fills ------------------------------------------------------------


def test_partial_fills_over_several_quotes():
    # 0.375 lots per quote rounds down to 0.37
    engine = eurusd(liquidity_lots_per_tick=D("0.375"))
    o = order(quantity="1")
    assert engine.submit(o, EU, 0) == ([fill("0.37", "1.10010", 0)], [tr("partially_filled")])
    assert engine.on_quote([o], q(1, "1.10001", "1.10011")) == (
        [fill("0.37", "1.10011", 1)],
        [tr("partially_filled")],
    )
    assert engine.on_quote([o], q(2, "1.10002", "1.10012")) == (
        [fill("0.26", "1.10012", 2)],
        [tr("filled")],
    )
    assert o.filled == D("1") and o.terminal
    assert engine.on_quote([o], q(3, "1.10002", "1.10012")) == ([], [])


def test_partially_filled_marketable_limit_keeps_taking_then_rests():
    engine = eurusd(liquidity_lots_per_tick=D("0.5"))
    o = order(type="limit", price="1.10020", quantity="2")
    assert engine.submit(o, EU, 0)[0] == [fill("0.5", "1.10010", 0)]
    # still marketable: takes again at the quote, not at its limit
    assert engine.on_quote([o], q(1, "1.10005", "1.10015"))[0] == [fill("0.5", "1.10015", 1)]
    assert not o.resting
    # not marketable: the remainder joins the book ...
    assert engine.on_quote([o], q(2, "1.10020", "1.10030")) == ([], [])
    assert o.resting
    # ... and from then on fills at its limit as maker
    assert engine.on_quote([o], q(3, "1.09990", "1.10000")) == (
        [fill("0.5", "1.10020", 3, "maker")],
        [tr("partially_filled")],
    )
    assert engine.on_quote([o], q(4, "1.09990", "1.10000")) == (
        [fill("0.5", "1.10020", 4, "maker")],
        [tr("filled")],
    )


def test_partially_filled_stop_continues_as_a_market_order():
    engine = eurusd(liquidity_lots_per_tick=D("0.6"))
    o = order(side="sell", type="stop", stop_price="1.09990", quantity="1")
    engine.submit(o, EU, 0)
    assert engine.on_quote([o], q(1, "1.09990", "1.10000")) == (
        [fill("0.6", "1.09990", 1)],
        [tr("triggered"), tr("partially_filled")],
    )
    # the bid is back above the stop, but the stop has triggered: market order
    assert engine.on_quote([o], q(2, "1.10100", "1.10110")) == (
        [fill("0.4", "1.10100", 2)],
        [tr("filled")],
    )


def test_fok_fills_the_remainder_of_a_resumed_order_in_one_go():
    engine = eurusd(liquidity_lots_per_tick=D("1"))
    o = order(quantity="1.5", filled="0.6", time_in_force="FOK")
    assert engine.submit(o, EU, 0) == ([fill("0.9", "1.10010", 0)], [tr("filled")])
    assert o.filled == D("1.5")


# -- orders the engine must not touch -----------------------------------------


def test_terminal_and_filled_orders_are_skipped():
    engine = eurusd()
    done = order(quantity="1", filled="1")
    cancelled = order(id="o2", terminal=True)
    assert engine.submit(done, EU, 0) == ([], [])
    assert engine.on_quote([done, cancelled], EU) == ([], [])
    assert cancelled.filled == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": D("0.015")},
        {"quantity": D("0")},
        {"filled": D("1.01")},
        {"side": "long"},
        {"type": "trailing"},
        {"time_in_force": "DAY"},
        {"time_in_force": "GTD"},
        {"type": "limit"},
        {"type": "stop_limit", "price": D("1.10000")},
        {"type": "limit", "price": D("1.100005")},
        {"type": "stop", "stop_price": 1.1},
        {"quantity": 1.0},
    ],
)
def test_invalid_orders_are_rejected_before_any_order_changes(fields):
    engine = eurusd()
    good = order(id="good")
    bad = order(id="bad", **fields)
    with pytest.raises((ValueError, TypeError)):
        engine.on_quote([good, bad], EU)
    assert good.filled == 0 and not good.terminal
    with pytest.raises((ValueError, TypeError)):
        engine.submit(bad, EU, 0)


def test_invalid_config_and_quotes():
    with pytest.raises(ValueError):
        replace(EURUSD, liquidity_lots_per_tick=D("0.005"))
    with pytest.raises(TypeError):
        PaperConfig(point=0.00001, digits=5)
    with pytest.raises(TypeError):
        Quote(0, 1.1, D("1.1"))
    with pytest.raises(ValueError):
        q(0, "1.10010", "1.10000")  # crossed
    assert q(0, "1.10000", "1.10000").ask == D("1.10000")  # locked is allowed


# -- properties ---------------------------------------------------------------

TICK = D("0.00001")
BASE = D("1.10000")


def rnd(price: D) -> D:
    return price.quantize(TICK, rounding=ROUND_HALF_EVEN)


configs = st.builds(
    lambda slip, latency, liq: PaperConfig(
        point=TICK,
        digits=5,
        slippage_points=slip,
        latency_us=latency,
        liquidity_lots_per_tick=None if liq is None else D(liq) / 100,
    ),
    st.integers(0, 5),
    st.sampled_from([0, 0, 15, 100]),
    st.none() | st.integers(1, 150),
)


@st.composite
def orders(draw, oid: str) -> PaperOrder:
    kind = draw(st.sampled_from(["market", "limit", "stop", "stop_limit"]))
    tif = draw(st.sampled_from(["GTC", "GTD", "IOC", "FOK"]))

    def price() -> D:
        # often within a few points of where the quotes start, to meet the edge cases
        return BASE + draw(st.integers(-4, 6) | st.integers(-25, 25)) * TICK

    return PaperOrder(
        id=oid,
        side=draw(st.sampled_from(["buy", "sell"])),
        type=kind,
        quantity=draw(st.integers(1, 300)) * D("0.01"),
        submitted_at_us=draw(st.integers(0, 400)),
        price=price() if kind in ("limit", "stop_limit") else None,
        stop_price=price() if kind in ("stop", "stop_limit") else None,
        time_in_force=tif,
        expire_at_us=draw(st.integers(0, 600)) if tif == "GTD" else None,
    )


@st.composite
def quote_streams(draw) -> list[Quote]:
    """Random walk in points with gaps, some prices in 1e-6 so rounding matters."""
    quotes, t, bid = [], 0, 1_100_000
    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.integers(1, 40))
        bid += 10 * draw(st.sampled_from([0, 1, -1, 2, -2, 3, -3, 8, -8, 40, -40]))
        bid += draw(st.sampled_from([0, 0, 0, 5, -5, 1]))
        spread = draw(st.sampled_from([0, 5, 10, 20, 30, 15]))
        quotes.append(Quote(t, D(bid).scaleb(-6), D(bid + spread).scaleb(-6)))
    return quotes


def check_execution(config: PaperConfig, o: PaperOrder, e: Execution, quote: Quote) -> None:
    """An execution is consistent with the quote it happened on (± slippage)."""
    slip = config.slippage_points * config.point
    assert e.quantity > 0 and e.quantity % config.lot_step == 0
    assert e.price == rnd(e.price)
    if o.side == "buy":
        assert e.price >= rnd(quote.ask)
        if o.type in ("limit", "stop_limit"):
            assert e.price <= o.price
    else:
        assert e.price <= rnd(quote.bid)
        if o.type in ("limit", "stop_limit"):
            assert e.price >= o.price
    if e.liquidity == "maker":
        assert o.type in ("limit", "stop_limit") and e.price == o.price
    else:
        assert e.liquidity == "taker"
        if o.side == "buy":
            assert e.price <= rnd(quote.ask + slip)
        else:
            assert e.price >= rnd(quote.bid - slip)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, quotes=quote_streams(), data=st.data())
def test_properties_over_random_quote_streams(config, quotes, data):
    engine = MatchingEngine(config)
    batch = data.draw(st.lists(orders("x"), min_size=1, max_size=6))
    for i, o in enumerate(batch):
        o.id = f"o{i}"
    by_id = {o.id: o for o in batch}
    executed: dict[str, D] = {o.id: D(0) for o in batch}
    exec_counts: dict[str, int] = {o.id: 0 for o in batch}
    closed: set[str] = set()

    # events in time order; a submission at the same time as a quote comes first
    events = [(o.submitted_at_us, 0, o) for o in batch] + [(qt.time_us, 1, qt) for qt in quotes]
    events.sort(key=lambda ev: (ev[0], ev[1]))
    live: list[PaperOrder] = []
    current: Quote | None = None
    for time_us, kind, item in events:
        before = {o.id: (o.filled, o.terminal) for o in live}
        if kind == 0:
            o = item
            live.append(o)
            before[o.id] = (o.filled, o.terminal)
            execs, trans = engine.submit(o, current, time_us)
            quote_of_call = current
        else:
            current = item
            quote_of_call = item
            # the caller persists and reloads the orders between calls
            live = [replace(o) for o in live]
            by_id.update({o.id: o for o in live})
            execs, trans = engine.on_quote(live, item)

        for e in execs:
            o = by_id[e.order_id]
            assert quote_of_call is not None
            assert e.order_id not in closed, "a terminal order executed again"
            assert e.time_us == time_us
            assert time_us >= o.submitted_at_us + config.latency_us or (
                kind == 0 and config.latency_us == 0
            )
            if o.time_in_force == "GTD":
                assert time_us < o.expire_at_us
            check_execution(config, o, e, quote_of_call)
            executed[o.id] += e.quantity
            exec_counts[o.id] += 1
        for t in trans:
            assert t.order_id not in closed, "a terminal order changed again"
            if t.status in ("filled", "cancelled", "expired"):
                closed.add(t.order_id)
            if t.status == "triggered":
                o = by_id[t.order_id]
                assert quote_of_call is not None
                if o.side == "buy":
                    assert quote_of_call.ask >= o.stop_price
                else:
                    assert quote_of_call.bid <= o.stop_price
        executed_now = {e.order_id for e in execs}
        for o in live:
            evaluated = kind == 1 or o is item  # submit evaluates only the new order
            was_open = evaluated and not before[o.id][1]
            arrived = time_us >= o.submitted_at_us + config.latency_us or (
                kind == 0 and config.latency_us == 0
            )
            expired = o.time_in_force == "GTD" and time_us >= o.expire_at_us
            if was_open and arrived and not expired and quote_of_call is not None:
                # liveness: an order that can trade on this quote does (or is closed)
                if o.type == "market" or (o.type == "stop" and o.triggered):
                    can_trade = True
                elif o.type == "limit" or (o.type == "stop_limit" and o.triggered):
                    if o.side == "buy":
                        can_trade = quote_of_call.ask <= o.price
                    else:
                        can_trade = quote_of_call.bid >= o.price
                else:
                    can_trade = False
                if can_trade:
                    assert o.id in executed_now or o.terminal
            assert 0 <= o.filled <= o.quantity
            assert o.filled % config.lot_step == 0
            assert executed[o.id] == o.filled
            assert o.terminal == (o.id in closed)
            assert (o.filled == o.quantity) <= o.terminal
            if before.get(o.id, (None, False))[1]:
                assert o.filled == before[o.id][0]
            if o.time_in_force == "FOK":
                assert o.filled in (0, o.quantity) and exec_counts[o.id] <= 1
            if o.time_in_force == "IOC":
                assert exec_counts[o.id] <= 1
                if exec_counts[o.id]:
                    assert o.terminal

"""MT5TradingClient against the fake MetaTrader5 trading terminal (pure Python, no database)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from apps.marketdata.mt5 import fake as mt5
from apps.marketdata.mt5.client import MT5Client
from apps.marketdata.mt5.fake import FakeBroker, FakeMetaTrader5
from apps.marketdata.mt5.trading import (
    COMMENT_MAX_LEN,
    MT5TradingClient,
    SubmitResult,
    decode_comment,
    encode_client_order_id,
)

NOW = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # a Wednesday
NOW_MS = int(NOW.timestamp() * 1000)
SATURDAY = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
SYMBOL, BROKER_SYMBOL, POINT = "EURUSD", "EURUSD.m", Decimal("0.00001")
MAGIC = 4242


def make(**broker: object) -> tuple[FakeMetaTrader5, MT5TradingClient]:
    fake = FakeMetaTrader5(FakeBroker(**broker), now=NOW)  # type: ignore[arg-type]
    client = MT5Client(module=fake, sleep=lambda s: None, rng=random.Random(7)).connect()
    trading = MT5TradingClient(client, clock=lambda: fake.now_msc / 1000, sleep=lambda s: None)
    return fake, trading


@pytest.fixture
def fake_trading() -> tuple[FakeMetaTrader5, MT5TradingClient]:
    return make()


def future_ticks(hours: float, symbol: str = BROKER_SYMBOL) -> np.ndarray:
    """The ticks the fake will produce after NOW (same seed: the same feed)."""
    peek = FakeMetaTrader5(FakeBroker(), now=NOW + timedelta(hours=hours))
    assert peek.initialize()
    ticks = peek.copy_ticks_range(symbol, NOW, peek.now, mt5.COPY_TICKS_ALL)
    return ticks[ticks["time_msc"] > NOW_MS]


def quote(fake: FakeMetaTrader5) -> tuple[Decimal, Decimal]:
    tick = fake.symbol_info_tick(BROKER_SYMBOL)
    return Decimal(repr(tick.bid)), Decimal(repr(tick.ask))


def dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def market(
    trading: MT5TradingClient, cid: str, side: str = "buy", volume: str = "0.10", **kw: object
) -> SubmitResult:
    return trading.submit(
        client_order_id=cid, symbol=SYMBOL, side=side, type="market", volume=Decimal(volume),
        magic=MAGIC, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


# ---------------------------------------------------------------- the fake module


def test_trading_constants_and_named_tuples_are_the_real_ones() -> None:
    fake = FakeMetaTrader5(now=NOW)
    assert (fake.TRADE_ACTION_DEAL, fake.TRADE_ACTION_PENDING, fake.TRADE_ACTION_SLTP) == (1, 5, 6)
    assert (fake.TRADE_ACTION_MODIFY, fake.TRADE_ACTION_REMOVE, fake.TRADE_ACTION_CLOSE_BY) == (
        7, 8, 10,
    )  # fmt: skip
    assert (fake.ORDER_TYPE_BUY_STOP_LIMIT, fake.ORDER_TYPE_CLOSE_BY) == (6, 8)
    assert (fake.ORDER_FILLING_FOK, fake.ORDER_FILLING_IOC, fake.ORDER_FILLING_RETURN) == (0, 1, 2)
    assert (fake.ORDER_TIME_GTC, fake.ORDER_TIME_SPECIFIED) == (0, 2)
    assert (fake.ORDER_STATE_PLACED, fake.ORDER_STATE_FILLED, fake.ORDER_STATE_EXPIRED) == (1, 4, 6)
    assert (fake.DEAL_ENTRY_IN, fake.DEAL_ENTRY_OUT, fake.DEAL_ENTRY_INOUT) == (0, 1, 2)
    assert (fake.DEAL_ENTRY_OUT_BY, fake.DEAL_TYPE_BALANCE, fake.POSITION_TYPE_SELL) == (3, 2, 1)
    assert (fake.TRADE_RETCODE_REQUOTE, fake.TRADE_RETCODE_REJECT) == (10004, 10006)
    assert (fake.TRADE_RETCODE_PLACED, fake.TRADE_RETCODE_DONE) == (10008, 10009)
    assert (fake.TRADE_RETCODE_MARKET_CLOSED, fake.TRADE_RETCODE_NO_MONEY) == (10018, 10019)
    assert (fake.TRADE_RETCODE_INVALID_FILL, fake.TRADE_RETCODE_CONNECTION) == (10030, 10031)
    assert (fake.ACCOUNT_MARGIN_MODE_RETAIL_NETTING, fake.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING) == (
        0, 2,
    )  # fmt: skip
    assert mt5.OrderSendResult._fields == (
        "retcode", "deal", "order", "volume", "price", "bid", "ask", "comment", "request_id",
        "retcode_external", "request",
    )  # fmt: skip
    assert mt5.TradeRequest._fields == (
        "action", "magic", "order", "symbol", "volume", "price", "stoplimit", "sl", "tp",
        "deviation", "type", "type_filling", "type_time", "expiration", "comment", "position",
        "position_by",
    )  # fmt: skip
    assert len(mt5.TradeOrder._fields) == 24 and mt5.TradeOrder._fields[-3:] == (
        "symbol", "comment", "external_id",
    )  # fmt: skip
    assert len(mt5.TradePosition._fields) == 19 and mt5.TradePosition._fields[7] == "identifier"
    assert mt5.TradeDeal._fields[:6] == ("ticket", "order", "time", "time_msc", "type", "entry")
    assert len(mt5.TradeDeal._fields) == 18


def test_fake_order_send_results_and_getters() -> None:
    fake = FakeMetaTrader5(now=NOW)
    request = {"action": 1, "symbol": BROKER_SYMBOL, "volume": 0.1, "type": 0, "magic": 7,
               "comment": "python script", "type_filling": mt5.ORDER_FILLING_IOC}  # fmt: skip
    assert fake.order_send(request) is None
    assert fake.last_error() == (-10004, "No IPC connection")
    assert fake.initialize()
    assert fake.order_send([request]) is None  # type: ignore[arg-type]
    assert fake.last_error() == (-2, "Invalid arguments")
    assert fake.order_send({**request, "volume": Decimal("0.1")}) is None
    assert fake.last_error() == (-2, 'Invalid "volume" argument')
    tick = fake.symbol_info_tick(BROKER_SYMBOL)
    result = fake.order_send(request)
    assert result.retcode == 10009 and result.comment == "Request executed"
    assert (result.price, result.bid, result.ask, result.volume) == (
        tick.ask,
        tick.bid,
        tick.ask,
        0.1,
    )
    assert result.request.comment == "python script" and result.request_id == 1
    deals = fake.history_deals_get(ticket=result.order)  # by ORDER ticket, as documented
    assert [d.ticket for d in deals] == [result.deal] and deals[0].entry == mt5.DEAL_ENTRY_IN
    assert fake.history_deals_get(position=result.order) == deals
    assert fake.history_orders_get(ticket=result.order)[0].state == mt5.ORDER_STATE_FILLED
    assert fake.history_orders_get() is None and fake.last_error() == (-2, "Invalid arguments")
    assert fake.positions_total() == 1 and fake.positions_get(symbol="GBPUSD.m") == ()
    assert fake.positions_get(group="*USD*")[0].comment == "python script"
    assert fake.positions_get(ticket=123) == () and fake.orders_total() == 0
    # The history begins with the deposit, a balance deal.
    first = fake.history_deals_get(0, NOW)[0]
    assert (first.type, first.profit, first.symbol) == (mt5.DEAL_TYPE_BALANCE, 10_000.0, "")
    # A price further than `deviation` points from the market is requoted.
    far = fake.order_send({**request, "price": tick.ask - 0.0005, "deviation": 10})
    assert far.retcode == 10004 and far.comment == "Requote" and (far.deal, far.order) == (0, 0)
    assert (far.bid, far.ask) == (tick.bid, tick.ask)
    near = fake.order_send({**request, "price": tick.ask - 0.0001, "deviation": 10})
    assert near.retcode == 10009
    fake.set_trade_server_connected(False)
    assert fake.order_send(request).retcode == 10031
    fake.set_trade_server_connected(True)
    check = fake.order_check({**request, "volume": 50.0})
    assert (check.retcode, check.comment) == (10019, "No money")
    ok = fake.order_check(request)
    assert (ok.retcode, ok.comment) == (0, "Done") and ok.margin > fake.account_info().margin
    assert fake.positions_total() == 2  # order_check changed nothing
    fake.disconnect()
    assert fake.positions_get() is None and fake.last_error()[0] == -10004


def test_fake_close_by_in_hedging_mode() -> None:
    fake = FakeMetaTrader5(now=NOW)
    assert fake.initialize()
    base = {"action": 1, "symbol": BROKER_SYMBOL, "type_filling": 1, "magic": 1}
    buy = fake.order_send({**base, "volume": 0.3, "type": 0})
    sell = fake.order_send({**base, "volume": 0.1, "type": 1})
    result = fake.order_send({"action": 10, "position": buy.order, "position_by": sell.order})
    assert result.retcode == 10009
    deals = fake.history_deals_get(ticket=result.order)
    assert [d.entry for d in deals] == [mt5.DEAL_ENTRY_OUT_BY] * 2
    assert [p.volume for p in fake.positions_get()] == [pytest.approx(0.2)]
    total = sum(d.profit for d in deals)
    assert total == pytest.approx((sell.price - buy.price) * 0.1 * 100_000, abs=0.011)


# ---------------------------------------------------------------- market orders


def test_market_buy_fills_at_ask_and_sell_at_bid(fake_trading) -> None:
    fake, trading = fake_trading
    bid, ask = quote(fake)
    buy = market(trading, "buy-1", "buy")
    sell = market(trading, "sell-1", "sell", "0.25")
    assert (buy.status, buy.filled_volume, buy.average_price) == ("filled", Decimal("0.1"), ask)
    assert (sell.status, sell.filled_volume, sell.average_price) == ("filled", Decimal("0.25"), bid)
    assert buy.retcode == 10009 and buy.attempts == 1 and not buy.recovered
    [deal] = buy.deals
    assert (deal.side, deal.entry, deal.price, deal.time_us) == ("buy", "in", ask, NOW_MS * 1000)
    assert (deal.client_order_id, deal.magic, deal.comment) == ("buy-1", MAGIC, "fx-buy-1")
    assert deal.broker_order_id == buy.broker_order_id == deal.broker_position_id
    # Comment and magic are on the order, the deal and the position.
    order = fake.history_orders_get(ticket=int(buy.broker_order_id))[0]
    assert (order.comment, order.magic, order.state) == ("fx-buy-1", MAGIC, mt5.ORDER_STATE_FILLED)
    positions = {p.client_order_id: p for p in trading.positions()}
    assert positions["buy-1"].side == "buy" and positions["buy-1"].price_open == ask
    assert positions["sell-1"].side == "sell" and positions["sell-1"].volume == Decimal("0.25")
    assert positions["buy-1"].profit == (bid - ask) * 10_000  # 0.1 lot of EURUSD: $1 a point
    assert fake.orders_created == 2 and fake.order_send_count == 2


def test_requote_is_retried_with_a_fresh_price(fake_trading) -> None:
    fake, trading = fake_trading
    fake.requote_next(2)
    result = market(trading, "rq-1")
    assert result.status == "filled" and result.attempts == 3
    assert fake.order_send_count == 3 and fake.orders_created == 1
    prices = [call[1][0]["price"] for call in fake.calls if call[0] == "order_send"]
    assert len(prices) == 3 and prices[-1] == float(result.average_price)


def test_requote_exhaustion_is_a_rejection(fake_trading) -> None:
    fake, trading = fake_trading
    fake.requote_next(10)
    result = market(trading, "rq-2")
    assert (result.status, result.reject_code, result.retcode) == ("rejected", "REQUOTE", 10004)
    assert result.attempts == trading.requote_retries + 1 == 4
    assert "requoted the price 4 time(s)" in result.reject_message
    assert fake.orders_created == 0 and trading.positions() == []


def test_no_money(fake_trading) -> None:
    fake, trading = fake_trading
    result = market(trading, "big", volume="50")  # 50 lots x 100k EUR / 100 = ~$54k of margin
    assert (result.status, result.reject_code, result.retcode) == ("rejected", "NO_MONEY", 10019)
    assert "Not enough free margin for 50 lots of EURUSD" in result.reject_message
    assert fake.orders_created == 0
    assert market(trading, "fits", volume="5").status == "filled"  # ~$5.4k


def test_market_closed_on_a_weekend(fake_trading) -> None:
    fake, trading = fake_trading
    fake.set_time(SATURDAY)
    result = market(trading, "weekend")
    assert (result.status, result.reject_code, result.retcode) == (
        "rejected",
        "MARKET_CLOSED",
        10018,
    )
    assert result.reject_message.startswith("The market for EURUSD is closed.")
    pending = trading.submit(
        client_order_id="weekend-limit", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.1"), price=Decimal("1.0"), magic=MAGIC,
    )  # fmt: skip
    assert pending.reject_code == "MARKET_CLOSED"
    # order_check does not look at sessions (as reported from live terminals).
    request = {"action": 1, "symbol": BROKER_SYMBOL, "volume": 0.1, "type": 0, "type_filling": 1}
    assert fake.order_check(request).retcode == 0


@pytest.mark.parametrize("volume", ["0.015", "0.001", "500"])
def test_invalid_volume(fake_trading, volume: str) -> None:
    fake, trading = fake_trading
    result = market(trading, f"vol-{volume}".replace(".", "_"), volume=volume)
    assert (result.status, result.reject_code, result.retcode) == (
        "rejected",
        "INVALID_VOLUME",
        10014,
    )
    assert f"Volume {volume} is not allowed for EURUSD (min 0.01, step 0.01, max 200.0" in (
        result.reject_message
    )
    assert fake.orders_created == 0


def test_partial_fill_and_filling_policies(fake_trading) -> None:
    fake, trading = fake_trading
    fake.partial_fill_next(0.5)
    partial = market(trading, "ioc", volume="0.3", time_in_force="IOC")
    assert (partial.status, partial.filled_volume, partial.retcode) == (
        "partially_filled", Decimal("0.15"), 10010,
    )  # fmt: skip
    found = trading.find_by_client_order_id("ioc")
    assert found.status == "partially_filled" and found.filled_volume == Decimal("0.15")
    # EURUSD.m allows IOC only (filling_mode 2): FOK is refused by the broker.
    fok = market(trading, "fok", time_in_force="FOK")
    assert (fok.reject_code, fok.retcode) == ("INVALID_FILL", 10030)
    sent = [call[1][0]["type_filling"] for call in fake.calls if call[0] == "order_send"]
    assert sent == [mt5.ORDER_FILLING_IOC, mt5.ORDER_FILLING_FOK]
    # IOC/FOK make no sense for resting orders: refused locally, nothing sent.
    ioc_limit = trading.submit(
        client_order_id="ioc-limit", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.1"), price=Decimal("1.0"), time_in_force="IOC", magic=MAGIC,
    )  # fmt: skip
    assert ioc_limit.reject_code == "INVALID_TIF" and fake.order_send_count == 2
    off_grid = trading.submit(
        client_order_id="grid", symbol=SYMBOL, side="buy", type="limit", volume=Decimal("0.1"),
        price=Decimal("1.000001"), magic=MAGIC,
    )  # fmt: skip
    assert off_grid.reject_code == "INVALID_PRICE" and "more than 5 decimals" in (
        off_grid.reject_message
    )
    with pytest.raises(ValueError, match="needs a stop_price"):
        trading.submit(
            client_order_id="x", symbol=SYMBOL, side="buy", type="stop", volume=Decimal("1"),
            magic=MAGIC,
        )  # fmt: skip


# ---------------------------------------------------------------- pending orders, SL/TP


def test_pending_limit_order_triggers_as_the_clock_passes_through_its_price(fake_trading) -> None:
    fake, trading = fake_trading
    _, ask = quote(fake)
    ticks = future_ticks(6)
    limit = dec(ticks["ask"].min()) + 2 * POINT
    assert limit < ask - 2 * POINT, "the feed must come down to the limit"
    hit = ticks[ticks["ask"] <= float(limit)][0]
    result = trading.submit(
        client_order_id="lim-1", symbol=SYMBOL, side="buy", type="limit", volume=Decimal("0.2"),
        price=limit, sl=limit - 100 * POINT, magic=MAGIC,
    )  # fmt: skip
    assert (result.status, result.retcode, result.deals) == ("accepted", 10009, [])
    [order] = trading.open_orders()
    assert (order.type, order.price, order.sl, order.client_order_id) == (
        "limit", limit, limit - 100 * POINT, "lim-1",
    )  # fmt: skip
    fake.set_time(datetime.fromtimestamp((int(hit["time_msc"]) - 1) / 1000, UTC))
    assert len(trading.open_orders()) == 1 and trading.positions() == []  # not yet
    fake.advance(0.001)
    assert trading.open_orders() == []
    [position] = trading.positions()
    assert (position.price_open, position.sl, position.volume) == (
        limit, limit - 100 * POINT, Decimal("0.2"),
    )  # fmt: skip
    assert position.broker_position_id == result.broker_order_id
    [deal] = trading.deals_since(NOW_MS * 1000)
    assert (deal.price, deal.time_us, deal.entry) == (limit, int(hit["time_msc"]) * 1000, "in")
    found = trading.find_by_client_order_id("lim-1")
    assert (found.status, found.is_open, found.filled_volume) == ("filled", False, Decimal("0.2"))
    assert found.deals == [deal]


def test_stop_and_stop_limit_orders_trigger(fake_trading) -> None:
    fake, trading = fake_trading
    _, ask = quote(fake)
    ticks = future_ticks(6)
    top = dec(ticks["ask"].max())
    stop = top - 5 * POINT
    assert stop > ask + 5 * POINT, "the feed must rise to the stop"
    hit = ticks[ticks["ask"] >= float(stop)][0]
    buy_stop = trading.submit(
        client_order_id="stop-1", symbol=SYMBOL, side="buy", type="stop", volume=Decimal("0.1"),
        stop_price=stop, magic=MAGIC,
    )  # fmt: skip
    # A stop-limit whose limit is far below: triggers with the stop, then rests as a limit.
    stop_limit = trading.submit(
        client_order_id="sl-1", symbol=SYMBOL, side="buy", type="stop_limit",
        volume=Decimal("0.1"), stop_price=stop, price=stop - 500 * POINT, magic=MAGIC,
    )  # fmt: skip
    assert buy_stop.status == stop_limit.status == "accepted"
    fake.advance(6 * 3600)
    filled = trading.find_by_client_order_id("stop-1")
    assert filled.status == "filled" and filled.average_price == dec(hit["ask"])  # at the market
    assert filled.deals[0].time_us == int(hit["time_msc"]) * 1000
    [resting] = trading.open_orders()
    assert (resting.client_order_id, resting.type, resting.price) == (
        "sl-1", "limit", stop - 500 * POINT,
    )  # fmt: skip


def test_take_profit_and_stop_loss_trigger_from_ticks(fake_trading) -> None:
    fake, trading = fake_trading
    bid, ask = quote(fake)
    ticks = future_ticks(6)
    tp = dec(ticks["bid"].max()) - 2 * POINT
    sl = dec(ticks["ask"].max()) - 2 * POINT
    assert tp > bid + 5 * POINT and sl > ask + 5 * POINT
    long = market(trading, "long", "buy", tp=tp, sl=bid - 1000 * POINT)
    short = market(trading, "short", "sell", sl=sl)
    assert long.status == short.status == "filled"
    tp_hit = ticks[ticks["bid"] >= float(tp)][0]
    sl_hit = ticks[ticks["ask"] >= float(sl)][0]
    fake.advance(6 * 3600)
    assert trading.positions() == []
    closes = {d.reason: d for d in trading.deals_since(NOW_MS * 1000 + 1)}
    assert set(closes) == {"tp", "sl"}
    assert (closes["tp"].entry, closes["tp"].price, closes["tp"].side) == (
        "out", dec(tp_hit["bid"]), "sell",
    )  # fmt: skip
    assert closes["tp"].time_us == int(tp_hit["time_msc"]) * 1000
    assert closes["tp"].comment == f"[tp {tp}]" and closes["tp"].client_order_id is None
    assert closes["tp"].broker_position_id == long.broker_position_id
    assert (closes["sl"].price, closes["sl"].side) == (dec(sl_hit["ask"]), "buy")
    assert closes["tp"].profit > 0 > closes["sl"].profit
    account = trading.account()
    assert account.balance == Decimal("10000") + closes["tp"].profit + closes["sl"].profit
    assert account.equity == account.balance and account.margin == 0
    assert account.margin_level is None


def test_cancel_amend_and_expiry(fake_trading) -> None:
    fake, trading = fake_trading
    bid, ask = quote(fake)
    price = ask - 300 * POINT
    placed = trading.submit(
        client_order_id="amend-me", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.1"), price=price, magic=MAGIC,
    )  # fmt: skip
    ticket = placed.broker_order_id
    expire = NOW + timedelta(hours=1)
    changed = trading.amend(ticket, price=price - 10 * POINT, sl=price - 200 * POINT,
                            expire_at=expire)  # fmt: skip
    assert (changed.ok, changed.code, changed.retcode) == (True, "DONE", 10009)
    [order] = trading.open_orders()
    assert (order.price, order.sl, order.time_in_force) == (
        price - 10 * POINT, price - 200 * POINT, "GTD",
    )  # fmt: skip
    assert order.expire_at_us == int(expire.timestamp()) * 1_000_000
    same = trading.amend(ticket, price=price - 10 * POINT)
    assert (same.ok, same.code) == (True, "NO_CHANGES")
    wrong = trading.amend(ticket, sl=price + 100 * POINT)  # SL above a buy's price
    assert (wrong.ok, wrong.code, wrong.retcode) == (False, "INVALID_STOPS", 10016)
    assert trading.cancel(ticket).ok
    assert trading.open_orders() == []
    assert trading.cancel(ticket).message == f"Order {ticket} was already cancelled."
    assert trading.find_by_client_order_id("amend-me").status == "cancelled"
    assert trading.amend(ticket, price=price).code == "ALREADY_CLOSED"
    assert trading.cancel(999).code == "ORDER_NOT_FOUND"
    # GTD: the order expires with the clock.
    gtd = trading.submit(
        client_order_id="gtd", symbol=SYMBOL, side="sell", type="limit", volume=Decimal("0.1"),
        price=bid + 300 * POINT, time_in_force="GTD", expire_at=NOW + timedelta(minutes=10),
        magic=MAGIC,
    )  # fmt: skip
    assert gtd.status == "accepted"
    fake.advance(9 * 60)
    assert trading.find_by_client_order_id("gtd").status == "accepted"
    fake.advance(2 * 60)
    expired = trading.find_by_client_order_id("gtd")
    assert (expired.status, expired.is_open, expired.state) == ("expired", False, 6)
    assert expired.time_done_us == int((NOW + timedelta(minutes=10)).timestamp()) * 1_000_000


def test_modify_and_close_position(fake_trading) -> None:
    fake, trading = fake_trading
    bid, _ = quote(fake)
    opened = market(trading, "pos-1", volume="0.3")
    ticket = opened.broker_position_id
    assert trading.modify_position(ticket, sl=bid - 50 * POINT, tp=bid + 50 * POINT).ok
    [position] = trading.positions()
    assert (position.sl, position.tp) == (bid - 50 * POINT, bid + 50 * POINT)
    assert trading.modify_position(ticket, tp=Decimal(0)).ok  # 0 removes it, SL kept
    [position] = trading.positions()
    assert (position.sl, position.tp) == (bid - 50 * POINT, None)
    bad = trading.modify_position(ticket, sl=bid + 50 * POINT)
    assert (bad.ok, bad.code) == (False, "INVALID_STOPS")
    part = trading.close_position(ticket, Decimal("0.1"), client_order_id="close-1")
    assert (part.status, part.filled_volume) == ("filled", Decimal("0.1"))
    assert (part.deals[0].entry, part.deals[0].side, part.deals[0].price) == ("out", "sell", bid)
    assert part.deals[0].broker_position_id == ticket and part.deals[0].magic == MAGIC
    [position] = trading.positions()
    assert position.volume == Decimal("0.2")
    rest = trading.close_position(ticket, client_order_id="close-2")
    assert rest.filled_volume == Decimal("0.2") and trading.positions() == []
    # Closing again under the same client order id reports the close, sends nothing.
    sends = fake.order_send_count
    again = trading.close_position(ticket, client_order_id="close-2")
    assert again.duplicate and again.status == "filled" and fake.order_send_count == sends
    gone = trading.close_position(ticket, client_order_id="close-3")
    assert (gone.status, gone.reject_code) == ("rejected", "POSITION_NOT_FOUND")
    assert trading.modify_position(ticket, sl=bid).code == "POSITION_NOT_FOUND"


# ---------------------------------------------------------------- lost replies, reconnection


def test_lost_reply_is_recovered_by_lookup_and_never_sent_twice(fake_trading) -> None:
    fake, trading = fake_trading
    fake.fail_after_send()  # the broker executes it, the reply never arrives (-10005)
    result = market(trading, "lost-1", volume="0.2")
    assert (result.status, result.recovered, result.attempts) == ("filled", True, 1)
    assert result.filled_volume == Decimal("0.2") and len(result.deals) == 1
    assert result.lookup.broker_order_id == result.broker_order_id
    assert fake.order_send_count == 1 and fake.orders_created == 1
    assert fake.connected  # reconnected for the lookup
    # The platform retries the same order: it is found, not sent again.
    again = market(trading, "lost-1", volume="0.2")
    assert again.duplicate and again.status == "filled" and again.attempts == 0
    assert again.broker_order_id == result.broker_order_id
    assert fake.order_send_count == 1 and len(trading.positions()) == 1


def test_lost_reply_of_a_pending_order_and_a_timeout_retcode(fake_trading) -> None:
    fake, trading = fake_trading
    _, ask = quote(fake)
    fake.fail_after_send()
    pending = trading.submit(
        client_order_id="lost-limit", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.1"), price=ask - 100 * POINT, magic=MAGIC,
    )  # fmt: skip
    assert (pending.status, pending.recovered) == ("accepted", True)
    assert pending.broker_order_id == trading.open_orders()[0].broker_order_id
    fake.fail_after_send(retcode=mt5.TRADE_RETCODE_TIMEOUT)  # executed, but "timeout"
    timed_out = market(trading, "timeout-1")
    assert (timed_out.status, timed_out.recovered) == ("filled", True)
    assert fake.order_send_count == 2 and fake.orders_created == 2


def test_lost_replies_of_cancel_amend_and_sltp_are_confirmed_by_reading_back(fake_trading) -> None:
    fake, trading = fake_trading
    bid, ask = quote(fake)
    order = trading.submit(
        client_order_id="lost-amend", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.1"), price=ask - 100 * POINT, magic=MAGIC,
    )  # fmt: skip
    position = market(trading, "lost-sltp")
    sends = fake.order_send_count
    fake.fail_after_send()
    amended = trading.amend(order.broker_order_id, price=ask - 120 * POINT)
    assert (amended.ok, amended.code) == (True, "DONE") and "lost reply" in amended.message
    fake.fail_after_send()
    moved = trading.modify_position(position.broker_position_id, sl=bid - 80 * POINT)
    assert moved.ok and trading.positions()[0].sl == bid - 80 * POINT
    fake.fail_after_send()
    assert trading.cancel(order.broker_order_id).ok and trading.open_orders() == []
    assert fake.order_send_count == sends + 3  # confirmed, never resent


def test_request_that_never_left_is_sent_once_more(fake_trading) -> None:
    fake, trading = fake_trading
    send = fake.order_send

    def terminal_gone_just_before_sending(request: dict) -> object:
        if fake.order_send_count == 0:
            fake.disconnect()  # order_send gets -10004: no channel, nothing left
        return send(request)

    fake.order_send = terminal_gone_just_before_sending  # type: ignore[method-assign]
    result = market(trading, "resend-1")
    assert (result.status, result.attempts) == ("filled", 2)
    assert fake.order_send_count == 2 and fake.orders_created == 1


def test_unknown_when_the_order_cannot_be_found(fake_trading) -> None:
    fake, trading = fake_trading
    fake.requote_next(1)
    fake.fail_after_send()  # requoted (not executed) and the reply lost: nothing to find
    result = market(trading, "ghost")
    assert result.status == "unknown" and "find_by_client_order_id" in result.reject_message
    assert fake.order_send_count == 1 and fake.orders_created == 0
    # Lost reply and the terminal gone for good.
    fake.fail_after_send()
    fake.fail_next_initialize(100)
    gone = market(trading, "ghost-2")
    assert gone.status == "unknown" and "cannot be reached" in gone.reject_message
    assert fake.orders_created == 1  # it was executed: reconcile later
    fake._fail_initialize.clear()
    assert trading.find_by_client_order_id("ghost-2").status == "filled"


def test_disconnect_then_reconnect_and_reconcile(fake_trading) -> None:
    fake, trading = fake_trading
    bid, ask = quote(fake)
    ticks = future_ticks(6)
    limit = dec(ticks["ask"].min()) + 2 * POINT
    tp = dec(ticks["bid"].max()) - 2 * POINT
    assert limit < ask - 2 * POINT and tp > bid + 5 * POINT
    start_us = NOW_MS * 1000
    opened = market(trading, "rc-long", tp=tp)
    trading.submit(
        client_order_id="rc-limit", symbol=SYMBOL, side="buy", type="limit",
        volume=Decimal("0.2"), price=limit, magic=MAGIC,
    )  # fmt: skip
    keep = trading.submit(
        client_order_id="rc-far", symbol=SYMBOL, side="sell", type="limit",
        volume=Decimal("0.1"), price=ask + 2000 * POINT, magic=MAGIC,
    )  # fmt: skip
    fake.disconnect()
    fake.fail_next_initialize(2)  # the terminal takes a while to come back
    fake.advance(6 * 3600)  # the broker keeps trading: the limit fills, the TP closes
    positions = trading.positions()  # reconnects
    orders = trading.open_orders()
    deals = trading.deals_since(start_us)
    assert fake.connected
    assert [o.client_order_id for o in orders] == ["rc-far"]
    assert orders[0].broker_order_id == keep.broker_order_id
    assert [p.client_order_id for p in positions] == ["rc-limit"]
    by_key = {(d.client_order_id, d.entry, d.reason): d for d in deals}
    assert set(by_key) == {("rc-long", "in", "expert"), ("rc-limit", "in", "expert"),
                           (None, "out", "tp")}  # fmt: skip
    assert by_key[(None, "out", "tp")].broker_position_id == opened.broker_position_id
    assert by_key[("rc-limit", "in", "expert")].broker_position_id == (
        positions[0].broker_position_id
    )
    # Everything adds up: balance = deposit + realised P&L of the deals.
    account = trading.account()
    realised = sum((d.profit + d.commission + d.swap for d in deals), Decimal(0))
    assert account.balance == Decimal("10000") + realised
    assert account.equity == account.balance + positions[0].profit
    assert [d.time_us for d in deals] == sorted(d.time_us for d in deals)
    later = trading.deals_since(deals[-1].time_us)
    assert [d.broker_deal_id for d in later] == [deals[-1].broker_deal_id]


# ---------------------------------------------------------------- comments


def test_comment_encoding_round_trip() -> None:
    assert encode_client_order_id("ord-42_a") == "fx-ord-42_a"
    assert decode_comment("fx-ord-42_a").client_order_id == "ord-42_a"
    ident = str(uuid.uuid4())
    comment = encode_client_order_id(ident)
    assert comment.startswith("fxu") and len(comment) == 25
    assert decode_comment(comment).client_order_id == ident
    for odd in ("A" * 24, "order #7: retry", str(uuid.uuid4()).upper(), "é" * 64, "x" * 64):
        comment = encode_client_order_id(odd)
        assert comment.startswith("fxh") and len(comment) == 25  # 128 bits in base 62
        tag = decode_comment(comment)
        assert tag.kind == "hash" and tag.client_order_id is None
        assert encode_client_order_id(odd) == comment  # deterministic
    for any_id in ("a", "A" * 23, str(uuid.uuid4()), "order #7", "z" * 64):
        comment = encode_client_order_id(any_id)
        assert len(comment) <= COMMENT_MAX_LEN and all(c.isalnum() or c in "-_" for c in comment)
    assert encode_client_order_id("A" * 23) == "fx-" + "A" * 23  # the longest literal
    assert decode_comment("[sl 1.08400]") is None and decode_comment("") is None
    assert decode_comment("fxuNOTBASE62!!!!!!!!!!!") is None
    assert encode_client_order_id("abc", prefix="pl", max_len=31) == "pl-abc"
    with pytest.raises(ValueError):
        encode_client_order_id("")
    with pytest.raises(ValueError):
        encode_client_order_id("abc", max_len=10)


def test_hashed_ids_are_found_again(fake_trading) -> None:
    fake, trading = fake_trading
    long_id = "strategy-7/deployment-3/entry/2024-03-06T12:00:00.000000Z"
    result = market(trading, long_id)
    assert result.status == "filled"
    [position] = trading.positions()
    assert position.client_order_id is None and position.comment.startswith("fxh")
    found = trading.find_by_client_order_id(long_id)
    assert found.broker_order_id == result.broker_order_id and found.client_order_id == long_id


def test_the_server_keeps_31_characters_and_some_builds_refuse_longer() -> None:
    fake = FakeMetaTrader5(now=NOW)
    assert fake.initialize()
    long_comment = "0123456789" * 4
    request = {"action": 1, "symbol": BROKER_SYMBOL, "volume": 0.1, "type": 0,
               "type_filling": 1, "comment": long_comment}  # fmt: skip
    result = fake.order_send(request)
    assert result.retcode == 10009 and result.request.comment == long_comment
    assert fake.positions_get()[0].comment == long_comment[:31]
    assert fake.history_deals_get(ticket=result.order)[0].comment == long_comment[:31]
    strict, trading = make(comment_arg_limit=28)
    assert strict.order_send({**request, "comment": "x" * 29}) is None
    assert strict.last_error() == (-2, 'Invalid "comment" argument')
    assert strict.order_send({**request, "comment": "x" * 28}).retcode == 10009
    # Our comments fit the strictest builds; a longer configuration is refused before
    # anything reaches the broker, and reported as such.
    wide = MT5TradingClient(trading.client, comment_max_len=31, clock=trading._clock)
    refused = wide.submit(
        client_order_id="y" * 28, symbol=SYMBOL, side="buy", type="market",
        volume=Decimal("0.1"), magic=MAGIC,
    )  # fmt: skip
    assert (refused.status, refused.reject_code) == ("rejected", "INVALID_REQUEST")
    assert 'Invalid "comment" argument' in refused.reject_message
    assert strict.orders_created == 1  # only the direct 28-character one
    assert wide.encode("y" * 28) == "fx-" + "y" * 28  # 31 characters
    assert len(trading.encode("y" * 28)) == 25  # hashed by default: accepted
    assert market(trading, "y" * 28).status == "filled"


# ---------------------------------------------------------------- accounts


def test_hedging_and_netting_accounts() -> None:
    hedging_fake, hedging = make()
    _, ask = quote(hedging_fake)
    assert hedging.account().margin_mode == "hedging"
    market(hedging, "h1", volume="0.1")
    market(hedging, "h2", volume="0.2")
    short = market(hedging, "h3", "sell", volume="0.1")
    assert [(p.side, p.volume) for p in hedging.positions()] == [
        ("buy", Decimal("0.1")), ("buy", Decimal("0.2")), ("sell", Decimal("0.1")),
    ]  # fmt: skip
    assert short.deals[0].entry == "in"

    netting_fake, netting = make(margin_mode="netting")
    bid, ask = quote(netting_fake)
    account = netting.account()
    assert account.margin_mode == "netting" and account.margin == 0
    first = market(netting, "n1", volume="0.1")
    second = market(netting, "n2", volume="0.2")
    [position] = netting.positions()
    assert (position.side, position.volume, position.price_open) == ("buy", Decimal("0.3"), ask)
    assert position.broker_position_id == first.broker_order_id  # the opening order's ticket
    assert second.deals[0].entry == "in"
    assert second.deals[0].broker_position_id == position.broker_position_id
    flip = market(netting, "n3", "sell", volume="0.5")  # reverses: 0.3 out, 0.2 short
    assert flip.deals[0].entry == "inout" and flip.deals[0].profit == (bid - ask) * 30_000
    [position] = netting.positions()
    assert (position.side, position.volume, position.price_open) == ("sell", Decimal("0.2"), bid)
    assert position.broker_position_id == first.broker_order_id  # same position id
    close = market(netting, "n4", "buy", volume="0.2")
    assert close.deals[0].entry == "out" and netting.positions() == []
    margin_before = netting.account().margin
    assert margin_before == 0


def test_account_snapshot(fake_trading) -> None:
    fake, trading = fake_trading
    account = trading.account()
    assert (account.login, account.currency, account.leverage) == (51234567, "USD", 100)
    assert account.balance == account.equity == account.free_margin == Decimal("10000")
    market(trading, "acc-1", volume="1")
    account = trading.account()
    _, ask = quote(fake)
    assert float(account.margin) == pytest.approx(float(ask) * 1000, abs=1)  # 100k EUR / 100
    assert account.free_margin == account.equity - account.margin
    level = float(account.equity / account.margin * 100)
    assert float(account.margin_level) == pytest.approx(level, rel=1e-3)
    assert account.profit < 0  # the spread


def test_server_time_zone_conversion() -> None:
    fake, _ = make()
    client = MT5Client(module=fake, sleep=lambda s: None).connect()
    athens = MT5TradingClient(client, server_timezone="Europe/Athens", clock=lambda: 0.0)
    winter_ms = int(datetime(2024, 3, 6, 14, 0).replace(tzinfo=UTC).timestamp() * 1000)
    assert athens._to_utc_us(winter_ms) == (winter_ms - 2 * 3_600_000) * 1000  # UTC+2
    summer_ms = int(datetime(2024, 7, 6, 15, 0).replace(tzinfo=UTC).timestamp() * 1000)
    assert athens._to_utc_us(summer_ms) == (summer_ms - 3 * 3_600_000) * 1000  # UTC+3
    utc_us = int(datetime(2024, 7, 6, 12, 0, tzinfo=UTC).timestamp() * 1_000_000)
    assert athens._to_server_s(utc_us) == utc_us // 1_000_000 + 3 * 3600

"""The MetaTrader 5 broker against the fake ``MetaTrader5`` module.

The execution tasks are called as functions here (one task's logic); the
fake terminal stands in for MetaTrader, everything else is real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.marketdata.mt5.fake import FakeBroker, FakeMetaTrader5
from apps.trading import services
from apps.trading.brokers import for_account, queue_for
from apps.trading.brokers import mt5 as mt5_broker
from apps.trading.models import Fill, Order, OrderEvent, Position, Reconciliation, TradingAccount
from apps.trading.tasks import broker_amend, broker_cancel, execute_order, mt5_sync

pytestmark = pytest.mark.django_db

MAGIC = 4711


@pytest.fixture
def fake(monkeypatch):
    terminal = FakeMetaTrader5(
        FakeBroker(always_open=True, commission_per_lot=3.5, margin_mode="netting"),
        now=datetime.now(UTC).replace(microsecond=0),
    )
    monkeypatch.setattr(mt5_broker, "module", lambda: terminal)
    mt5_broker.BROKER.forget()
    yield terminal
    mt5_broker.BROKER.forget()


@pytest.fixture
def account(trader, fake):
    account = services.account_open(
        owner=trader,
        name="MT5",
        broker=TradingAccount.Broker.MT5,
        deposit=D("10000"),
        mode=TradingAccount.Mode.NETTING,
    )
    account.broker_config = {"magic": MAGIC, "symbol_map": {"EURUSD": "EURUSD.m"}}
    account.save(update_fields=["broker_config"])
    session = mt5_broker.BROKER.session(account)
    session.client._sleep = session.trading._sleep = lambda seconds: None  # no real backoff
    session.client.connect()
    fake.symbol_select("EURUSD.m", True)
    return account


@pytest.fixture
def eurusd():
    return Instrument.objects.get(symbol="EURUSD")


def place(account, eurusd, **kw):
    defaults = {"side": "buy", "type": "market", "quantity": D("0.10")}
    order, _ = services.order_place(account=account, instrument=eurusd, **{**defaults, **kw})
    return order


def run(order) -> Order:
    execute_order(order.pk)
    return Order.objects.get(pk=order.pk)


def requests(fake, action=None):
    sent = [args[0] for name, args, _ in fake.calls if name == "order_send"]
    return [r for r in sent if action is None or r["action"] == action]


def test_orders_go_to_the_mt5_queue(account):
    assert queue_for(account) == "mt5"
    assert for_account(account).name == "mt5"


def test_market_order_is_a_deal_request_carrying_the_client_order_id(account, eurusd, fake):
    order = run(place(account, eurusd, client_order_id="scalp-1"))
    assert order.status == Order.Status.FILLED
    (request,) = requests(fake)
    assert request["action"] == fake.TRADE_ACTION_DEAL
    assert request["type"] == fake.ORDER_TYPE_BUY
    assert request["comment"] == "fx-scalp-1"
    assert request["magic"] == MAGIC
    assert request["deviation"] == 20
    assert request["type_filling"] in (fake.ORDER_FILLING_FOK, fake.ORDER_FILLING_IOC)
    fill = Fill.objects.get(order=order)
    deal = fake.history_deals_get(ticket=int(order.broker_order_id))[0]
    assert fill.broker_deal_id == str(deal.ticket)
    assert fill.price == D(repr(deal.price))
    assert fill.commission == D("0.35")  # 3.5 per lot, a cost
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == D("0.10")
    assert position.broker_position_id == str(deal.position_id)
    account.refresh_from_db()
    assert account.balance == D("10000") - D("0.35")


def test_a_task_delivered_twice_sends_once(account, eurusd, fake):
    order = place(account, eurusd)
    execute_order(order.pk)
    execute_order(order.pk)
    assert len(requests(fake)) == 1
    assert Fill.objects.filter(order=order).count() == 1


def test_a_worker_dying_after_the_send_never_sends_twice(account, eurusd, fake):
    """The send happened but the transaction recording it rolled back (the
    worker died): the next delivery finds the order at the broker by its
    comment and books it without sending again."""
    from django.db import transaction

    order = place(account, eurusd)
    with pytest.raises(RuntimeError), transaction.atomic():
        locked = Order.objects.select_related("account", "instrument", "position").get(pk=order.pk)
        mt5_broker.BROKER.submit(locked)
        raise RuntimeError("worker killed")
    assert Order.objects.get(pk=order.pk).status == Order.Status.NEW
    order = run(order)
    assert order.status == Order.Status.FILLED
    assert len(requests(fake, fake.TRADE_ACTION_DEAL)) == 1
    assert OrderEvent.objects.filter(order=order, event="accepted", data__duplicate=True).exists()


def test_requotes_are_retried_then_rejected_with_a_reason(account, eurusd, fake):
    fake.requote_next(2)
    assert run(place(account, eurusd)).status == Order.Status.FILLED
    fake.requote_next(10)
    order = run(place(account, eurusd))
    assert order.status == Order.Status.REJECTED
    assert order.reject_code == "REQUOTE"
    assert "requoted" in order.reject_reason
    assert not Fill.objects.filter(order=order).exists()


def test_no_money_is_rejected_with_a_clear_reason(account, eurusd, fake):
    order = run(place(account, eurusd, quantity=D("90")))
    assert order.status == Order.Status.REJECTED
    assert order.reject_code == "NO_MONEY"
    assert "Not enough free margin for 90" in order.reject_reason


def test_market_closed_is_rejected(account, eurusd, fake):
    fake.broker.always_open = False
    fake.set_time(datetime(2024, 3, 9, 12, 0, tzinfo=UTC))  # a Saturday
    order = run(place(account, eurusd))
    assert (order.status, order.reject_code) == (Order.Status.REJECTED, "MARKET_CLOSED")
    assert "closed" in order.reject_reason


def test_a_lost_reply_is_looked_up_not_resent(account, eurusd, fake):
    fake.fail_after_send(1)
    order = run(place(account, eurusd))
    assert order.status == Order.Status.FILLED
    assert len(requests(fake, fake.TRADE_ACTION_DEAL)) == 1
    assert OrderEvent.objects.filter(order=order, data__recovered=True).exists()


@pytest.mark.parametrize(
    "client_order_id",
    [None, "strategy-7-eurusd-breakout-2026-11-21-0001"],  # generated; long (hashed comment)
)
def test_disconnected_terminal_leaves_the_order_unknown_until_reconciled(
    account, eurusd, fake, django_capture_on_commit_callbacks, client_order_id
):
    fake.fail_after_send(1)
    fake.fail_next_initialize(50)  # the terminal stays away during the lookups
    with django_capture_on_commit_callbacks() as scheduled:
        order = run(place(account, eurusd, client_order_id=client_order_id))
    assert order.status == Order.Status.NEW
    assert OrderEvent.objects.filter(order=order, event="submit_unknown").exists()
    assert scheduled, "a reconciliation is scheduled"
    fake._fail_initialize.clear()  # the terminal is back
    # The reconciliation runs a few seconds later (countdown).
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(seconds=10))
    record = for_account(account).reconcile(account, trigger=Reconciliation.Trigger.ORDER)
    order.refresh_from_db()
    assert order.status == Order.Status.FILLED
    assert len(requests(fake, fake.TRADE_ACTION_DEAL)) == 1
    assert record.status == Reconciliation.Status.REPAIRED
    (action,) = record.actions
    assert (action["action"], action["order"]) == ("booked_deal", order.client_order_id)


def test_pending_limit_rests_fills_later_and_is_synced(account, eurusd, fake):
    tick = fake.symbol_info_tick("EURUSD.m")
    price = D(repr(tick.ask)) + D("0.00500")  # a sell limit above the market
    order = run(place(account, eurusd, side="sell", type="limit", price=price))
    assert order.status == Order.Status.ACCEPTED
    (request,) = requests(fake)
    assert request["action"] == fake.TRADE_ACTION_PENDING
    assert request["type"] == fake.ORDER_TYPE_SELL_LIMIT
    assert fake.orders_get(ticket=int(order.broker_order_id))
    # Amend the price, then cancel: both go to the broker through tasks.
    services.order_amend(order=order, changes={"price": price + D("0.00010")})
    broker_amend(order.pk, {"price": str(price + D("0.00010"))})
    order.refresh_from_db()
    assert order.price == price + D("0.00010")
    assert fake.orders_get(ticket=int(order.broker_order_id))[0].price_open == pytest.approx(
        float(price + D("0.00010"))
    )
    assert requests(fake)[-1]["action"] == fake.TRADE_ACTION_MODIFY
    services.order_cancel(order=order)
    order.refresh_from_db()
    assert order.cancel_requested and order.status == Order.Status.ACCEPTED
    broker_cancel(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert requests(fake)[-1]["action"] == fake.TRADE_ACTION_REMOVE
    assert not fake.orders_get(ticket=int(order.broker_order_id))


def test_a_resting_order_filled_at_the_broker_is_booked_by_the_sync(account, eurusd, fake):
    tick = fake.symbol_info_tick("EURUSD.m")
    order = run(
        place(account, eurusd, side="buy", type="limit", price=D(repr(tick.bid)) - D("0.00003"))
    )
    assert order.status == Order.Status.ACCEPTED
    # Let the market trade through the limit. The fake's prices depend on the
    # hour (the tests follow the real clock), so give it up to three days.
    for _ in range(3 * 24 * 6):
        fake.advance(600)
        fake.positions_get()
        if not fake.orders_get(ticket=int(order.broker_order_id)):
            break
    mt5_sync(account.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FILLED
    assert Fill.objects.get(order=order).broker_deal_id
    assert Position.objects.get(account=account, closed_at__isnull=True).quantity == D("0.10")


def test_amending_volume_is_refused_by_mt5(account, eurusd, fake):
    tick = fake.symbol_info_tick("EURUSD.m")
    order = run(place(account, eurusd, type="limit", price=D(repr(tick.bid)) - D("0.01000")))
    services.order_amend(order=order, changes={"quantity": D("0.20")})
    broker_amend(order.pk, {"quantity": "0.20"})
    order.refresh_from_db()
    assert order.quantity == D("0.10")
    event = OrderEvent.objects.filter(order=order, event="amend_rejected").get()
    assert event.data["code"] == "VOLUME_NOT_AMENDABLE"


def test_bracket_legs_are_the_positions_sl_tp_and_vanish_with_it(account, eurusd, fake):
    tick = fake.symbol_info_tick("EURUSD.m")
    bid = D(repr(tick.bid))
    entry = run(
        place(account, eurusd, stop_loss=bid - D("0.00500"), take_profit=bid + D("0.00500"))
    )
    assert entry.status == Order.Status.FILLED
    assert requests(fake)[0]["sl"] == pytest.approx(float(bid - D("0.00500")))
    legs = list(Order.objects.filter(parent=entry).order_by("role"))
    assert {leg.role for leg in legs} == {Order.Role.STOP_LOSS, Order.Role.TAKE_PROFIT}
    for leg in legs:
        assert run(leg).status == Order.Status.ACCEPTED
    position = Position.objects.get(account=account, closed_at__isnull=True)
    (broker_position,) = fake.positions_get()
    assert broker_position.sl == pytest.approx(float(bid - D("0.00500")))
    assert broker_position.tp == pytest.approx(float(bid + D("0.00500")))
    close = services.position_close(position=position)
    assert run(close).status == Order.Status.FILLED
    assert fake.positions_get() == ()
    for leg in legs:
        leg.refresh_from_db()
        assert leg.cancel_requested
        broker_cancel(leg.pk)
        leg.refresh_from_db()
        assert leg.status == Order.Status.CANCELLED
    assert fake.orders_get() == ()
    position.refresh_from_db()
    assert position.closed_at is not None and position.quantity == 0


def test_stop_loss_hit_at_the_broker_fills_the_leg_and_cancels_the_other(account, eurusd, fake):
    tick = fake.symbol_info_tick("EURUSD.m")
    bid = D(repr(tick.bid))
    entry = run(
        place(account, eurusd, stop_loss=bid - D("0.00020"), take_profit=bid + D("0.05000"))
    )
    for leg in Order.objects.filter(parent=entry):
        run(leg)
    for _ in range(3 * 24 * 6):  # up to three days of the fake's prices
        fake.advance(600)
        if not fake.positions_get():
            break
    assert fake.positions_get() == ()
    mt5_sync(account.pk)
    stop = Order.objects.get(parent=entry, role=Order.Role.STOP_LOSS)
    take = Order.objects.get(parent=entry, role=Order.Role.TAKE_PROFIT)
    assert stop.status == Order.Status.FILLED
    assert take.cancel_requested
    broker_cancel(take.pk)
    take.refresh_from_db()
    assert take.status == Order.Status.CANCELLED
    assert Position.objects.filter(account=account, closed_at__isnull=True).count() == 0


def test_reconcile_adopts_trades_made_in_the_terminal_and_removes_orphans(account, eurusd, fake):
    # A trade made by hand in the terminal.
    tick = fake.symbol_info_tick("EURUSD.m")
    fake.order_send(
        {
            "action": fake.TRADE_ACTION_DEAL,
            "symbol": "EURUSD.m",
            "volume": 0.3,
            "type": fake.ORDER_TYPE_SELL,
            "price": tick.bid,
            "type_filling": fake.ORDER_FILLING_IOC,
        }
    )
    # An order cancelled here whose removal never reached the broker.
    order = run(place(account, eurusd, type="limit", price=D(repr(tick.bid)) - D("0.01000")))
    services.order_transition(order=order, to_status=Order.Status.CANCELLED, actor="test")
    record = for_account(account).reconcile(account, trigger=Reconciliation.Trigger.MANUAL)
    kinds = [a["action"] for a in record.actions]
    assert "adopted_deal" in kinds
    assert "removed_orphan_order" in kinds
    assert fake.orders_get() == ()
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == D("-0.30")
    assert record.status == Reconciliation.Status.REPAIRED
    account.refresh_from_db()
    assert account.balance == D(repr(fake.account_info().balance))
    # A second pass finds everything in order.
    again = for_account(account).reconcile(account, trigger=Reconciliation.Trigger.MANUAL)
    assert again.status == Reconciliation.Status.OK, again.actions


def test_reconnect_schedules_a_reconciliation(
    account, eurusd, fake, django_capture_on_commit_callbacks
):
    run(place(account, eurusd))
    fake.disconnect()
    with django_capture_on_commit_callbacks() as scheduled:
        run(place(account, eurusd))
    assert len(scheduled) >= 1
    assert mt5_broker.BROKER.session(account).client.connects == 2


def test_reject_reason_when_the_password_variable_is_missing(account, eurusd):
    TradingAccount.objects.filter(pk=account.pk).update(
        broker_config={"password_env": "FX_TEST_NO_SUCH_VARIABLE"}
    )
    account.refresh_from_db()
    order = run(place(account, eurusd))
    assert order.status == Order.Status.REJECTED
    assert order.reject_code == "BROKER_UNAVAILABLE"
    assert "FX_TEST_NO_SUCH_VARIABLE" in order.reject_reason


def test_unknown_order_not_at_the_broker_is_rejected_as_lost_after_the_timeout(
    account, eurusd, fake
):
    order = place(account, eurusd)
    services.order_event(order=order, event="submit_unknown", actor="test")
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(minutes=5))
    order = run(order)
    assert order.status == Order.Status.REJECTED
    assert order.reject_code == "LOST"
    assert requests(fake) == []


def test_trailing_stop_moves_the_positions_sl_with_the_market_never_back(account, eurusd, fake):
    from apps.marketdata import live

    entry = run(place(account, eurusd, trailing_stop=D("0.00100")))
    (leg,) = Order.objects.filter(parent=entry)
    assert run(leg).status == Order.Status.ACCEPTED
    start = entry.average_fill_price - D("0.00100")
    assert fake.positions_get()[0].sl == pytest.approx(float(start))
    assert mt5_broker.has_trailing(eurusd.pk)

    def quote(bid):
        live.quote_store(
            {"symbol": "EURUSD", "bid": str(bid), "ask": str(bid + D("0.00010")), "time": "t",
             "ts": 1, "source": "t"}
        )  # fmt: skip

    quote(entry.average_fill_price + D("0.00050"))
    assert mt5_broker.trail(eurusd.pk) == 1
    target = (entry.average_fill_price + D("0.00050") - D("0.00100")).quantize(D("0.00001"))
    event = OrderEvent.objects.filter(order=leg, event="amend_requested").last()
    assert event.data == {"stop_price": str(target)}
    broker_amend(leg.pk, event.data)
    leg.refresh_from_db()
    assert leg.stop_price == target
    assert fake.positions_get()[0].sl == pytest.approx(float(target))
    quote(entry.average_fill_price - D("0.00050"))  # the market falls back: the stop stays
    assert mt5_broker.trail(eurusd.pk) == 0

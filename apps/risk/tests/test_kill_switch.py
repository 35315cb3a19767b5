"""The kill switch and trading states: halting cancels working orders through
the broker (the paper book at once, MetaTrader through the fake terminal),
optionally closes positions, is idempotent; only operators lift a halt."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.marketdata.mt5.fake import FakeBroker, FakeMetaTrader5
from apps.risk import services as risk
from apps.risk import tasks
from apps.risk.errors import InvalidRiskRequest, RiskPermissionDenied, RiskRejected
from apps.risk.models import AccountRisk, PlatformRisk, RiskEvent, TradingStateChange
from apps.risk.tests.conftest import check, hold, set_quotes
from apps.trading import services as trading
from apps.trading.brokers import mt5 as mt5_broker
from apps.trading.models import AlgoOrder, Order, Position, TradingAccount
from apps.trading.tasks import broker_cancel, execute_order

pytestmark = pytest.mark.django_db


def resting_paper_limit(account, price="1.20000") -> Order:
    order, _ = trading.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="limit",
        quantity=D("0.10"),
        price=D(price),
    )
    execute_order(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED  # resting in the paper book
    return order


def test_kill_switch_cancels_resting_paper_orders_and_flattens(account, operator):
    hold(account, "EURUSD", "1.00")
    resting = resting_paper_limit(account)
    result = risk.kill_switch(
        scope="account", account=account, flatten=True, actor=operator, reason="runaway strategy"
    )
    assert result == {
        "scope": "account",
        "accounts": 1,
        "state_changed": True,
        "cancelled": 1,
        "closing": 1,
        "algos_cancelled": 0,
    }
    resting.refresh_from_db()
    assert resting.status == Order.Status.CANCELLED
    assert resting.events.last().actor == "user:operator1"
    close = Order.objects.get(account=account, role=Order.Role.CLOSE)
    assert (close.side, close.quantity, close.source) == ("sell", D("1.00"), "system")
    assert AccountRisk.objects.get(pk=account.pk).state == "halted"
    change = TradingStateChange.objects.get(account=account)
    assert (change.actor, change.user, change.reason) == (
        "user:operator1",
        operator,
        "runaway strategy",
    )
    assert RiskEvent.objects.filter(account=account, kind="kill_switch").count() == 1
    # The close goes through although the account is halted.
    execute_order(close.pk)
    assert not Position.objects.filter(account=account, closed_at__isnull=True).exists()
    with pytest.raises(RiskRejected) as caught:
        check(account, "EURUSD", "buy", "0.10")
    assert caught.value.code == "RISK_HALTED"


def test_kill_switch_is_idempotent(account, operator):
    hold(account, "EURUSD", "1.00")
    resting_paper_limit(account)
    risk.kill_switch(scope="account", account=account, flatten=True, actor=operator, reason="x")
    again = risk.kill_switch(
        scope="account", account=account, flatten=True, actor=operator, reason="x"
    )
    assert (again["state_changed"], again["cancelled"], again["closing"]) == (False, 0, 0)
    assert Order.objects.filter(account=account, role=Order.Role.CLOSE).count() == 1
    assert TradingStateChange.objects.filter(account=account).count() == 1
    assert RiskEvent.objects.filter(account=account, kind="kill_switch").count() == 1


def test_kill_switch_without_flatten_keeps_positions(account, operator):
    hold(account, "EURUSD", "1.00")
    result = risk.kill_switch(scope="account", account=account, actor=operator, reason="pause")
    assert result["closing"] == 0
    assert Position.objects.filter(account=account, closed_at__isnull=True).count() == 1


def test_kill_switch_cancels_running_algos(account, operator):
    from apps.trading import algos

    algo, _ = algos.algo_create(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        strategy="twap",
        quantity=D("1.00"),
        end_at=datetime.now(UTC) + timedelta(hours=1),
        slice_count=4,
    )
    result = risk.kill_switch(scope="account", account=account, actor=operator, reason="stop")
    assert result["algos_cancelled"] == 1
    algo.refresh_from_db()
    assert algo.status == AlgoOrder.Status.CANCELLED


def test_platform_kill_switch_halts_everything(account, operator, quotes):
    from apps.accounts.tests.factories import UserFactory

    other = trading.account_open(
        owner=UserFactory(username="trader2", roles=["trader"]), name="Other", deposit=D("5000")
    )
    orders = [resting_paper_limit(account), resting_paper_limit(other)]
    result = risk.kill_switch(scope="all", actor=operator, reason="market chaos")
    assert (result["state_changed"], result["cancelled"]) == (True, 2)
    assert all(Order.objects.get(pk=o.pk).status == Order.Status.CANCELLED for o in orders)
    assert PlatformRisk.objects.get().state == "halted"
    assert TradingStateChange.objects.get(account=None).reason == "market chaos"
    for acct in (account, other):
        with pytest.raises(RiskRejected) as caught:
            check(acct, "EURUSD", "buy", "0.10")
        assert caught.value.extra["scope"] == "platform"
    assert risk.kill_switch(scope="all", actor=operator, reason="again")["state_changed"] is False


def test_only_operators_lift_a_halt(account, trader, operator):
    risk.trading_state_set(state="halted", account=account, actor=operator, reason="limit")
    for state in ("reducing", "active"):
        with pytest.raises(RiskPermissionDenied):
            risk.trading_state_set(state=state, account=account, actor=trader, reason="please")
    risk.trading_state_set(state="reducing", actor=operator, reason="month end")
    with pytest.raises(RiskPermissionDenied):
        risk.trading_state_set(state="active", actor=trader, reason="please")
    change = risk.trading_state_set(
        state="active", account=account, actor=operator, reason="reviewed"
    )
    assert (change.from_state, change.to_state) == ("halted", "active")
    assert (
        risk.trading_state_set(state="active", account=account, actor=operator, reason="x") is None
    )


def test_a_state_change_needs_a_reason(account, operator):
    with pytest.raises(InvalidRiskRequest):
        risk.trading_state_set(state="halted", account=account, actor=operator, reason=" ")
    with pytest.raises(InvalidRiskRequest):
        risk.kill_switch(scope="account", account=account, actor=operator, reason="")


def test_kill_switch_task_takes_ids(account, operator):
    resting = resting_paper_limit(account)
    result = tasks.kill_switch(
        "account", account_id=account.pk, user_id=operator.pk, reason="from an alert"
    )
    assert result["cancelled"] == 1
    resting.refresh_from_db()
    assert resting.status == Order.Status.CANCELLED
    assert TradingStateChange.objects.get(account=account).actor == "user:operator1"


# --- MetaTrader 5 through the fake terminal ----------------------------------

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
def mt5_account(trader, fake):
    account = trading.account_open(
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


def requests(fake, action):
    return [a[0] for name, a, _ in fake.calls if name == "order_send" and a[0]["action"] == action]


def test_kill_switch_cancels_mt5_orders_through_the_terminal(mt5_account, fake, operator):
    eurusd = Instrument.objects.get(symbol="EURUSD")
    tick = fake.symbol_info_tick("EURUSD.m")
    pending, _ = trading.order_place(
        account=mt5_account,
        instrument=eurusd,
        side="buy",
        type="limit",
        quantity=D("0.10"),
        price=D(repr(tick.bid)) - D("0.01000"),
    )
    execute_order(pending.pk)
    market, _ = trading.order_place(
        account=mt5_account, instrument=eurusd, side="buy", type="market", quantity=D("0.20")
    )
    execute_order(market.pk)
    pending.refresh_from_db()
    assert pending.status == Order.Status.ACCEPTED and fake.orders_get()

    result = risk.kill_switch(
        scope="account", account=mt5_account, flatten=True, actor=operator, reason="broker issue"
    )
    assert (result["cancelled"], result["closing"]) == (1, 1)
    pending.refresh_from_db()
    assert pending.cancel_requested and pending.status == Order.Status.ACCEPTED
    broker_cancel(pending.pk)  # the mt5 worker's task
    pending.refresh_from_db()
    assert pending.status == Order.Status.CANCELLED
    assert len(requests(fake, fake.TRADE_ACTION_REMOVE)) == 1
    assert not fake.orders_get()
    close = Order.objects.get(account=mt5_account, role=Order.Role.CLOSE)
    execute_order(close.pk)
    assert not fake.positions_get()
    again = risk.kill_switch(
        scope="account", account=mt5_account, flatten=True, actor=operator, reason="again"
    )
    assert (again["cancelled"], again["closing"]) == (0, 0)
    assert len(requests(fake, fake.TRADE_ACTION_REMOVE)) == 1


def test_no_stop_out_on_mt5_accounts(mt5_account, fake):
    """MetaTrader stops out at the broker; the monitor leaves it alone."""
    tick = fake.symbol_info_tick("EURUSD.m")
    order, _ = trading.order_place(
        account=mt5_account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=D("2.00"),
    )
    execute_order(order.pk)
    set_quotes(EURUSD=(f"{tick.bid - 0.04:.5f}", f"{tick.ask - 0.04:.5f}"))
    result = risk.account_monitor(mt5_account.pk)
    assert D(result["figures"]["margin_level"]) < 50
    assert not Order.objects.filter(account=mt5_account, role=Order.Role.CLOSE).exists()

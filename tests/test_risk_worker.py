"""Risk on a real worker: the ``risk`` queue runs the kill switch and the
monitor queued by the fill hook (real Celery worker, Redis, PostgreSQL)."""

import time
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.risk import services as risk
from apps.risk import tasks
from apps.risk.models import AccountRisk, RiskEvent
from apps.trading import services as trading
from apps.trading.models import Order
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db(transaction=True)


def _quote(bid: str, ask: str) -> None:
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": bid,
            "ask": ask,
            "time": "t",
            "ts": time.time_ns() // 1_000_000,
            "source": "test",
            "simulated": True,
        }
    )


def _until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_risk_tasks_are_routed_to_the_risk_queue(celery_worker):
    from fxsite.celery import app

    for name in ("kill_switch", "monitor_account", "monitor_sweep"):
        assert app.amqp.router.route({}, f"apps.risk.tasks.{name}")["queue"].name == "risk"


def test_kill_switch_task_on_the_worker_cancels_a_resting_order(celery_worker):
    trader = UserFactory(username="risk-worker-trader", roles=["trader"])
    operator = UserFactory(username="risk-worker-operator", roles=["operator"])
    account = trading.account_open(owner=trader, name="Paper", deposit=Decimal("10000"))
    _quote("1.10000", "1.10010")
    order, _ = trading.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="limit",
        quantity=Decimal("0.10"),
        price=Decimal("1.05000"),
    )
    execute_order(order.pk)  # resting in the paper book
    result = tasks.kill_switch.delay(
        "account", account_id=account.pk, user_id=operator.pk, reason="worker test"
    ).get(timeout=30)
    assert result["cancelled"] == 1 and result["state_changed"] is True
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert AccountRisk.objects.get(pk=account.pk).state == "halted"


def test_the_fill_hook_values_the_account_on_the_worker(celery_worker):
    trader = UserFactory(username="risk-monitor-trader", roles=["trader"])
    account = trading.account_open(owner=trader, name="Watched", deposit=Decimal("10000"))
    _quote("1.10000", "1.10000")
    order, _ = trading.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=Decimal("1.00"),
    )
    execute_order(order.pk)
    # An operator lowers the limit under the open position (an order that
    # breached it would have been refused before reaching the broker).
    risk.limits_update(account=account, changes={"max_net_exposure": Decimal("50000")}, actor="t")
    risk.on_fill(account_id=account.pk)
    _until(lambda: AccountRisk.objects.filter(pk=account.pk, monitored_at__isnull=False).exists())
    row = AccountRisk.objects.get(pk=account.pk)
    assert row.breaches == ["RISK_EXPOSURE"] and row.state == "reducing"
    assert RiskEvent.objects.filter(account=account, kind="breach").exists()

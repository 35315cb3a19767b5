"""Orders whose execution task was lost are dispatched again, once a minute at most."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck(trader):
    account = services.account_open(owner=trader, name="Paper", deposit=D("1000"))
    order, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=D("0.10"),
    )
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(seconds=20))
    return order


def test_a_stuck_order_is_dispatched_again_once_per_minute(
    stuck, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as first:
        assert services.orders_sweep(older_than_seconds=10) == 1
    assert len(first) == 1
    with django_capture_on_commit_callbacks() as second:
        assert services.orders_sweep(older_than_seconds=10) == 0
    assert second == []


def test_young_and_finished_orders_are_left_alone(stuck):
    assert services.orders_sweep(older_than_seconds=60) == 0
    services.order_cancel(order=stuck)
    assert services.orders_sweep(older_than_seconds=10) == 0


def test_periodic_mt5_work_is_not_piled_up_without_a_worker(trader, settings):
    """Without an MT5 worker the queue only grows: the periodic sync stops
    adding to it once a backlog is there."""
    import uuid

    from apps.marketdata import live
    from apps.trading import tasks
    from apps.trading.models import TradingAccount

    settings.MT5_QUEUE = queue = f"mt5-test-{uuid.uuid4().hex[:8]}"
    services.account_open(owner=trader, name="MT5", broker=TradingAccount.Broker.MT5)
    try:
        while tasks.queue_backlog(queue) < tasks.MT5_BACKLOG_LIMIT:
            assert tasks.mt5_sync_all() == 1
        assert tasks.mt5_sync_all() == 0
        assert tasks.queue_backlog(queue) == tasks.MT5_BACKLOG_LIMIT
    finally:
        live.client().delete(queue)

"""Execution tasks: thin, idempotent, on the ``execution`` queue."""

from celery import shared_task
from django.db import transaction

from apps.trading import services
from apps.trading.brokers import paper
from apps.trading.models import Order, TradingAccount


@shared_task(name="apps.trading.tasks.execute_order", acks_late=True, max_retries=5)
def execute_order(order_id: int) -> str:
    """Send a new order to its broker. Safe to run twice: only an order still
    ``new`` (checked under a row lock) is sent."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .select_related("account", "instrument")
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            return "missing"
        if order.status != Order.Status.NEW:
            return order.status
        if order.account.broker == TradingAccount.Broker.PAPER:
            paper.submit(order)
        else:
            services.order_transition(
                order=order,
                to_status=Order.Status.REJECTED,
                actor="system",
                reject_code="BROKER_UNAVAILABLE",
                reject_reason="Orders for MetaTrader 5 accounts are not executed yet on this platform.",
            )
        order.refresh_from_db()
        return order.status


@shared_task(name="apps.trading.tasks.paper_match", acks_late=True, ignore_result=True)
def paper_match(instrument_id: int, source_id: int, first_us: int, last_us: int) -> int:
    """Trigger and fill resting paper orders from newly stored ticks."""
    return paper.match_ticks(
        instrument_id=instrument_id, source_id=source_id, first_us=first_us, last_us=last_us
    )


@shared_task(name="apps.trading.tasks.paper_refresh_working", ignore_result=True, expires=25)
def paper_refresh_working() -> None:
    paper.refresh_working()


def on_ticks_stored(sender, instrument_id, source_id, first_us, last_us, **kwargs) -> None:
    """Receiver of ``marketdata.signals.ticks_stored``: only enqueues, and only
    for instruments with working paper orders."""
    if paper.has_working(instrument_id):
        paper_match.delay(instrument_id, source_id, first_us, last_us)


@shared_task(name="apps.trading.tasks.charge_swaps", ignore_result=True, expires=240)
def charge_swaps() -> int:
    """Book the swap of the latest 17:00 New York rollover (beat; idempotent)."""
    from django.utils import timezone

    return services.swaps_charge(rollover_date=services.latest_rollover_date(timezone.now()))

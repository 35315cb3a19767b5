"""Execution tasks: thin, idempotent, on the ``execution`` queue."""

from celery import shared_task
from celery.signals import worker_ready
from django.db import transaction

from apps.trading import brokers, services
from apps.trading.brokers import paper
from apps.trading.models import Order, TradingAccount


@shared_task(name="apps.trading.tasks.execute_order", acks_late=True, max_retries=5)
def execute_order(order_id: int) -> str:
    """Send a new order to its broker. Safe to run twice: only an order still
    ``new`` (checked under a row lock) is sent, and the MT5 broker looks the
    client order id up at the broker before sending. A paper order is booked
    as a batch of one (``paper.submit_many``)."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("account", "instrument", "position")
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            return "missing"
        if order.status != Order.Status.NEW:
            return order.status
        if order.account.broker == TradingAccount.Broker.PAPER:
            account = TradingAccount.objects.select_for_update().get(pk=order.account_id)
            paper.submit_many(account, [order])
        else:
            brokers.for_account(order.account).submit(order)
        return order.status


@shared_task(name="apps.trading.tasks.execute_orders", acks_late=True, max_retries=5)
def execute_orders(order_ids: list[int]) -> dict:
    """Send new orders (a batch placed together) to their broker: a paper
    account's in one transaction, booked together; any other broker's one by
    one through ``execute_order``. Safe to run twice, or alongside
    ``execute_order`` for the same orders: only orders still ``new`` are
    sent, under their row locks (an order another task holds is skipped:
    that task sends it, or, if it dies, the ``orders_sweep`` does)."""
    accounts = list(
        Order.objects.filter(pk__in=order_ids, status=Order.Status.NEW)
        .order_by()
        .values_list("account_id", "account__broker")
        .distinct()
    )
    sent = {}
    for account_id, broker in accounts:
        if broker != TradingAccount.Broker.PAPER:
            ids = Order.objects.filter(pk__in=order_ids, account_id=account_id)
            for pk in ids.values_list("pk", flat=True).order_by("pk"):
                sent[pk] = execute_order(pk)
            continue
        with transaction.atomic():
            orders = list(
                Order.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("instrument", "position")
                .filter(pk__in=order_ids, account_id=account_id, status=Order.Status.NEW)
                .order_by("pk")
            )
            if not orders:
                continue
            account = TradingAccount.objects.select_for_update().get(pk=account_id)
            paper.submit_many(account, orders)
            sent.update({o.pk: o.status for o in orders})
    return {"orders": len(sent)}


def _working(order_id: int) -> Order | None:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("account", "instrument", "position")
        .filter(pk=order_id)
        .exclude(status__in=Order.FINAL)
        .first()
    )


@shared_task(name="apps.trading.tasks.broker_cancel", acks_late=True)
def broker_cancel(order_id: int) -> str:
    """Cancel at the broker an order whose cancel was requested."""
    with transaction.atomic():
        order = _working(order_id)
        if order is None or not order.cancel_requested:
            return "nothing to do"
        brokers.for_account(order.account).cancel(order, actor="broker")
        return order.status


@shared_task(name="apps.trading.tasks.broker_amend", acks_late=True)
def broker_amend(order_id: int, changes: dict) -> str:
    """Send an amendment to the broker (applied here once it accepts)."""
    with transaction.atomic():
        order = _working(order_id)
        if order is None:
            return "order ended"
        brokers.for_account(order.account).amend(
            order, services.changes_from_json(changes), actor="broker"
        )
        return order.status


@shared_task(name="apps.trading.tasks.orders_sweep", ignore_result=True, expires=10)
def orders_sweep() -> int:
    """Beat: dispatch again orders stuck ``new`` (their task was lost)."""
    return services.orders_sweep(older_than_seconds=10)


@shared_task(name="apps.trading.tasks.reconcile_account", acks_late=True, ignore_result=True)
def reconcile_account(account_id: int, trigger: str = "manual") -> str:
    account = TradingAccount.objects.filter(pk=account_id).first()
    if account is None or account.status != TradingAccount.Status.ACTIVE:
        return "inactive"
    return brokers.for_account(account).reconcile(account, trigger=trigger).status


@shared_task(name="apps.trading.tasks.mt5_sync", acks_late=True, ignore_result=True, expires=10)
def mt5_sync(account_id: int) -> int:
    """Book the new deals of an MT5 account (fills of resting orders, SL/TP)."""
    from apps.trading.brokers.mt5 import BROKER

    account = TradingAccount.objects.filter(pk=account_id).first()
    if account is None or account.status != TradingAccount.Status.ACTIVE:
        return 0
    return len(BROKER.sync(account))


def _mt5_accounts():
    return TradingAccount.objects.filter(
        broker=TradingAccount.Broker.MT5, status=TradingAccount.Status.ACTIVE
    ).values_list("pk", flat=True)


#: Periodic MT5 work is not queued while this many messages wait on the MT5
#: queue: no worker is consuming it (the MetaTrader host is down), and the
#: work would only pile up; it resumes when the worker drains the queue.
MT5_BACKLOG_LIMIT = 50


def queue_backlog(queue: str) -> int:
    """Messages waiting on a Celery queue (Redis transport: the list's length)."""
    from celery import current_app

    with current_app.connection_for_read() as connection:
        return int(connection.default_channel.client.llen(queue))


@shared_task(name="apps.trading.tasks.mt5_sync_all", ignore_result=True, expires=5)
def mt5_sync_all() -> int:
    """Beat: one sync per active MT5 account, on the MT5 workers' queue."""
    accounts = list(_mt5_accounts())
    if not accounts or queue_backlog(brokers.mt5_queue()) >= MT5_BACKLOG_LIMIT:
        return 0
    for pk in accounts:
        mt5_sync.apply_async((pk,), queue=brokers.mt5_queue(), expires=10)
    return len(accounts)


@shared_task(name="apps.trading.tasks.reconcile_all", ignore_result=True, expires=50)
def reconcile_all() -> int:
    """Beat: reconcile every active account on its broker's queue."""
    accounts = TradingAccount.objects.filter(status=TradingAccount.Status.ACTIVE)
    mt5_stalled = queue_backlog(brokers.mt5_queue()) >= MT5_BACKLOG_LIMIT
    count = 0
    for account in accounts:
        if mt5_stalled and account.broker == TradingAccount.Broker.MT5:
            continue
        reconcile_account.apply_async(
            (account.pk, "periodic"), queue=brokers.queue_for(account), expires=55
        )
        count += 1
    return count


@worker_ready.connect
def reconcile_on_start(sender=None, **kwargs) -> None:
    """A worker consuming the MT5 queue reconciles its accounts when it starts."""
    consumer = getattr(sender, "task_consumer", None)
    queues = {q.name for q in getattr(consumer, "queues", [])} if consumer else set()
    if brokers.mt5_queue() not in queues:
        return
    for pk in _mt5_accounts():
        reconcile_account.apply_async((pk, "start"), queue=brokers.mt5_queue())


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
    from apps.trading.brokers import mt5

    if mt5.has_trailing(instrument_id):
        mt5_trail.delay(instrument_id)


@shared_task(name="apps.trading.tasks.mt5_trail", ignore_result=True, expires=5)
def mt5_trail(instrument_id: int) -> int:
    """Move MT5 trailing stops of an instrument with the market."""
    from apps.trading.brokers import mt5

    with transaction.atomic():
        return mt5.trail(instrument_id)


@shared_task(name="apps.trading.tasks.charge_swaps", ignore_result=True, expires=240)
def charge_swaps() -> int:
    """Book the swap of the latest 17:00 New York rollover (beat; idempotent)."""
    from django.utils import timezone

    return services.swaps_charge(rollover_date=services.latest_rollover_date(timezone.now()))

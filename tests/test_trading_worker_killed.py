"""A real execution worker SIGKILLed during a burst of orders.

Execution tasks are ``acks_late`` and the broker's visibility timeout is two
hours, so the messages a killed worker held are not redelivered in any useful
time: the platform recovers with the beat task ``orders_sweep``, which
dispatches again every order still ``new`` after 10 s. Whatever happens,
nothing is lost, nothing is doubled, and the books add up: one fill per market
order, the position is the signed sum of the fills, the balance is the sum of
the ledger.

To kill the worker while its tasks are certainly in flight (not between two
tasks), the test holds the account's row for a moment: both pool processes
then wait inside ``fill_apply`` with their order already ``accepted`` in an
open transaction, and die there.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Sum

from apps.accounts.tests.factories import UserFactory
from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.models import Fill, LedgerEntry, Order, OrderEvent, Position, TradingAccount
from apps.trading.tasks import execute_order, orders_sweep
from fxsite.celery import app
from tests.workers import KillableWorker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEPOSIT = Decimal("1000000")
BID, ASK = Decimal("1.10000"), Decimal("1.10010")


@pytest.fixture
def workers(transactional_db, process_logs, metrics_dir):
    """Start killable prefork workers on ``execution,default``; every one is
    stopped at teardown, before the database is flushed, pass or fail. Any
    other worker of the session (the ``celery_worker`` fixture's) stops
    consuming ``execution`` meanwhile: these tests decide which worker holds
    which task when."""
    started: list[KillableWorker] = []
    others = app.control.cancel_consumer("execution", reply=True, timeout=2) or []

    def start(name: str) -> KillableWorker:
        worker = KillableWorker(
            name,
            queues="execution,default",
            log_dir=process_logs,
            metrics=metrics_dir,
            concurrency=2,
        )
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        try:
            worker.stop()
        except Exception:  # still stop the others; SIGKILL this one
            worker.kill()
    if others:
        names = [name for reply in others for name in reply]
        app.control.add_consumer("execution", destination=names, reply=True, timeout=2)


@pytest.fixture
def account(transactional_db) -> TradingAccount:
    owner = UserFactory(username="burst-trader", roles=["trader"])
    account = services.account_open(owner=owner, name="Burst", deposit=DEPOSIT)
    # latency_ms stays 0: with a latency the paper broker fills a market order
    # only on a later stored tick, never in the execution task itself.
    TradingAccount.objects.filter(pk=account.pk).update(
        broker_config={"latency_ms": 0, "slippage_points": 0},
        commission_per_lot=Decimal("3.5"),
    )
    account.refresh_from_db()
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": str(BID),
            "ask": str(ASK),
            "time": "2024-01-02T10:00:00Z",
            "ts": int(time.time() * 1000),
            "source": "test",
            "simulated": True,
        }
    )
    return account


def _burst(count: int, duplicates: int, seed: int) -> list[tuple[str, str, Decimal]]:
    """``count`` distinct market orders, mixed sides and sizes, and
    ``duplicates`` of them placed a second time later in the burst."""
    rng = random.Random(seed)
    orders = [
        (f"burst-{i:04d}", rng.choice(["buy", "sell"]), Decimal(rng.randint(1, 200)) / 100)
        for i in range(count)
    ]
    burst = list(orders)
    for original in rng.sample(orders[: count // 2], duplicates):
        position = rng.randint(burst.index(original) + 1, len(burst))
        burst.insert(position, original)
    return burst


def _place(account, instrument, client_order_id: str, side: str, quantity: Decimal):
    return services.order_place(
        account=account,
        instrument=instrument,
        side=side,
        type=Order.Type.MARKET,
        quantity=quantity,
        client_order_id=client_order_id,
    )


def _fills(account) -> int:
    return Fill.objects.filter(account=account).count()


def _backends(worker: KillableWorker, waiting_on_lock: bool = False) -> int:
    """The worker's database sessions (all, or those waiting for a lock)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    if waiting_on_lock:
        sql += " AND wait_event_type = 'Lock'"
    with connection.cursor() as cursor:
        cursor.execute(sql, [worker.name])
        return cursor.fetchone()[0]


def _wait(predicate, timeout: float, what: str, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting until {what}")
        time.sleep(interval)


class AccountRowHold:
    """Hold the account's row (``FOR NO KEY UPDATE``) from another connection:
    fill_apply waits for it (and so would placing an order, whose risk check
    locks the row)."""

    def __init__(self, account: TradingAccount):
        self.account_id = account.pk
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                TradingAccount.objects.select_for_update(no_key=True).get(pk=self.account_id)
                self._held.set()
                self._release.wait(60)
        finally:
            connections.close_all()

    def acquire(self) -> None:
        self._thread.start()
        assert self._held.wait(10), "could not lock the account row"

    def release(self) -> None:
        self._release.set()
        if self._thread.is_alive():
            self._thread.join(10)


def _all_final(account) -> bool:
    return not Order.objects.filter(account=account).exclude(status__in=Order.FINAL).exists()


def _wait_until_quiet(account, quiet: float, timeout: float) -> None:
    """Until no order of the account has been filled or sent for ``quiet``
    seconds: the workers have nothing left of it in their queue."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        now = (
            _fills(account),
            Order.objects.filter(account=account, status=Order.Status.NEW).count(),
        )
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"orders still moving after {timeout}s: {now}")
        time.sleep(0.1)


def _recover(account, timeout: float = 40) -> None:
    """What beat does (every 10 s, here every 2 s): run the sweep task on the
    workers until every order is final. The task dispatches again the orders
    still ``new`` 10 s after they were placed."""
    deadline = time.monotonic() + timeout
    while True:
        orders_sweep.delay()
        try:
            _wait(lambda: _all_final(account), 2, "every order is final", interval=0.1)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                stuck = list(
                    Order.objects.filter(account=account)
                    .exclude(status__in=Order.FINAL)
                    .values_list("client_order_id", "status")
                )
                raise AssertionError(f"orders not final after {timeout}s: {stuck}") from None


def _assert_books(account, placed: dict[str, int], quantities: dict[str, Decimal]) -> None:
    """Every order filled exactly once and the books add up."""
    orders = {o.client_order_id: o for o in Order.objects.filter(account=account)}
    # nothing lost, nothing extra
    assert set(orders) == set(placed)
    assert len(orders) == len(placed)
    assert {cid: o.pk for cid, o in orders.items()} == placed
    # each order filled, once, for its whole quantity
    not_filled = {cid: o.status for cid, o in orders.items() if o.status != Order.Status.FILLED}
    assert not not_filled, not_filled
    for cid, order in orders.items():
        assert order.quantity == quantities[cid], cid
        assert order.filled_quantity == order.quantity, cid
    fills = list(Fill.objects.filter(account=account).select_related("order"))
    per_order = Counter(f.order_id for f in fills)
    doubled = {o.client_order_id: per_order[o.pk] for o in orders.values() if per_order[o.pk] != 1}
    assert not doubled, f"orders without exactly one fill: {doubled}"
    for fill in fills:
        assert fill.quantity == fill.order.quantity, fill.order.client_order_id
        assert fill.price == (ASK if fill.side == Order.Side.BUY else BID)
    deals = Counter(f.broker_deal_id for f in fills)
    assert [d for d, n in deals.items() if n > 1] == []
    # the order event log: one submission and one fill each
    for event in ("submitted", "fill"):
        counts = dict(
            OrderEvent.objects.filter(order__account=account, event=event)
            .values_list("order__client_order_id")
            .annotate(n=Count("id"))
        )
        wrong = {cid: counts.get(cid, 0) for cid in placed if counts.get(cid, 0) != 1}
        assert not wrong, f"orders without exactly one {event!r} event: {wrong}"
    # position = signed sum of the fills (netting: at most one open position)
    signed = sum(
        (f.quantity if f.side == Order.Side.BUY else -f.quantity for f in fills), Decimal(0)
    )
    open_positions = list(Position.objects.filter(account=account, closed_at__isnull=True))
    assert len(open_positions) <= 1
    assert sum((p.quantity for p in open_positions), Decimal(0)) == signed
    # balance = opening deposit + every later ledger entry, and each entry's
    # balance_after follows from the one before (no lost update)
    account.refresh_from_db()
    entries = list(LedgerEntry.objects.filter(account=account).order_by("id"))
    assert entries[0].kind == LedgerEntry.Kind.DEPOSIT and entries[0].amount == DEPOSIT
    assert account.balance == DEPOSIT + sum((e.amount for e in entries[1:]), Decimal(0))
    running = Decimal(0)
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running, entry.pk
    realized = Fill.objects.filter(account=account).aggregate(s=Sum("realized_pnl"))["s"]
    commission = Fill.objects.filter(account=account).aggregate(s=Sum("commission"))["s"]
    booked = dict(
        LedgerEntry.objects.filter(account=account).values_list("kind").annotate(s=Sum("amount"))
    )
    assert booked.get(LedgerEntry.Kind.REALIZED_PNL, Decimal(0)) == realized
    assert booked.get(LedgerEntry.Kind.COMMISSION, Decimal(0)) == -commission
    assert commission == sum(f.quantity for f in fills) * Decimal("3.5")


def _kill_in_flight(worker: KillableWorker, account, place_more, placed: dict, what: str) -> dict:
    """SIGKILL ``worker`` with work certainly in flight: it stops taking tasks
    while ``place_more()`` places orders, the account's row is held, and it
    takes tasks again; once both its pool processes wait for the row
    (``what``), it dies there. Returns the fills and orders placed then."""
    hold = AccountRowHold(account)
    try:
        app.control.cancel_consumer("execution", destination=[worker.hostname], reply=True)
        place_more()
        hold.acquire()
        app.control.add_consumer("execution", destination=[worker.hostname], reply=True)
        _wait(lambda: _backends(worker, waiting_on_lock=True) == 2, 15, what)
        stats = {"filled_at_kill": _fills(account), "placed_at_kill": len(placed)}
        worker.kill()
    finally:
        hold.release()
    # A backend waiting for a lock notices its dead client only once it has
    # the lock and answers; then it rolls back.
    _wait(lambda: _backends(worker) == 0, 15, "the killed worker's sessions are gone")
    return stats


def test_worker_killed_mid_burst_loses_and_doubles_nothing(workers, account):
    eurusd = Instrument.objects.get(symbol="EURUSD")
    burst = _burst(count=200, duplicates=20, seed=20240102)
    placed: dict[str, int] = {}
    quantities: dict[str, Decimal] = {}

    def place(cid, side, quantity):
        order, created = _place(account, eurusd, cid, side, quantity)
        if cid in placed:
            assert not created and order.pk == placed[cid], f"duplicate {cid} made a new order"
        else:
            assert created, cid
            placed[cid], quantities[cid] = order.pk, quantity

    first = workers("killed-worker")
    queue = iter(burst)
    # Phase 1: the worker fills while orders keep coming. Then it stops taking
    # new tasks while the next orders are placed (placing needs the account
    # row: the pre-trade risk check locks it), the account row is held, and
    # the worker takes tasks again: what it takes stays in flight inside
    # fill_apply, waiting for the row.
    for cid, side, quantity in queue:
        place(cid, side, quantity)
        if _fills(account) >= 30:
            break
    else:
        raise AssertionError("the burst ended before the worker filled 30 orders")

    def place_more():
        for _, (cid, side, quantity) in zip(range(20), queue, strict=False):
            place(cid, side, quantity)

    stats = _kill_in_flight(
        first, account, place_more, placed, "both pool processes wait inside fill_apply"
    )
    assert 0 < stats["filled_at_kill"] < stats["placed_at_kill"] < 200

    # Phase 2: the rest of the burst while no worker runs, then a new worker.
    for cid, side, quantity in queue:
        place(cid, side, quantity)
    assert len(placed) == 200
    started = time.monotonic()
    workers("replacement-worker")
    stats["restart_seconds"] = round(time.monotonic() - started, 1)

    _wait_until_quiet(account, quiet=1.5, timeout=40)
    stats["drain_seconds"] = round(time.monotonic() - started, 1)
    stranded = list(
        Order.objects.filter(account=account, status=Order.Status.NEW).values_list(
            "client_order_id", flat=True
        )
    )
    # The two orders the killed worker was executing went back to ``new``
    # (their transactions rolled back) and their messages stay unacked in
    # Redis for the visibility timeout: only the sweep brings them back.
    assert len(stranded) == 2, stranded
    stats["stranded"] = stranded
    _recover(account)
    stats["recovery_seconds"] = round(time.monotonic() - started, 1)
    print(f"worker killed mid-burst: {stats}")

    _assert_books(account, placed, quantities)


def test_execution_task_delivered_three_times_fills_once(workers, account):
    """The messages a killed worker held come back when their visibility
    timeout ends, after the sweep has already dispatched the orders again:
    every extra delivery, concurrent or late, finds the order no longer new."""
    eurusd = Instrument.objects.get(symbol="EURUSD")
    workers("double-delivery-worker")
    placed: dict[str, int] = {}
    quantities: dict[str, Decimal] = {}
    extra = []
    for cid, side, quantity in _burst(count=30, duplicates=0, seed=7):
        with transaction.atomic():
            order, created = _place(account, eurusd, cid, side, quantity)
            assert created
            # two more deliveries right behind the one order_place enqueues:
            # the two pool processes take them at the same time
            for _ in range(2):
                transaction.on_commit(lambda pk=order.pk: extra.append(execute_order.delay(pk)))
        placed[cid], quantities[cid] = order.pk, quantity
    for result in extra:
        assert result.get(timeout=60) == Order.Status.FILLED
    _wait(lambda: _all_final(account), 30, "every order is final", interval=0.1)
    # and once more, late, in this process
    for pk in placed.values():
        assert execute_order.apply(args=(pk,)).get() == Order.Status.FILLED
    _assert_books(account, placed, quantities)


def _place_batches(account, burst, placed, quantities, size: int = 25):
    """Place ``burst`` in batches of ``size`` through ``orders_place_batch``,
    recording each new order; a client order id seen before (in an earlier
    batch or earlier in the same one) must return the order it made."""
    for start in range(0, len(burst), size):
        chunk = burst[start : start + size]
        results = services.orders_place_batch(
            account=account,
            orders=[
                {
                    "symbol": "EURUSD",
                    "side": side,
                    "type": "market",
                    "quantity": quantity,
                    "client_order_id": cid,
                }
                for cid, side, quantity in chunk
            ],
        )
        for (cid, _, quantity), result in zip(chunk, results, strict=True):
            assert result.error is None, result.error
            if cid in placed:
                assert not result.created and result.order.pk == placed[cid], cid
            else:
                assert result.created, cid
                placed[cid], quantities[cid] = result.order.pk, quantity


def test_worker_killed_mid_batch_loses_and_doubles_nothing(workers, account):
    """The same with orders placed in batches: a batch is executed in one
    transaction, so a worker killed inside it leaves its whole batch ``new``,
    and the sweep sends those orders again one by one."""
    burst = _burst(count=300, duplicates=30, seed=20261122)
    placed: dict[str, int] = {}
    quantities: dict[str, Decimal] = {}
    first = workers("killed-batch-worker")
    batches = [burst[i : i + 25] for i in range(0, len(burst), 25)]
    for _ in range(2):  # the worker fills while batches keep coming
        _place_batches(account, batches.pop(0), placed, quantities)
        _wait(lambda: _fills(account) == len(placed), 30, "the batch is filled")

    def place_more():
        for _ in range(3):
            _place_batches(account, batches.pop(0), placed, quantities)

    stats = _kill_in_flight(
        first,
        account,
        place_more,
        placed,
        "both pool processes wait for the account inside a batch",
    )
    assert 0 < stats["filled_at_kill"] < stats["placed_at_kill"]

    for batch in batches:
        _place_batches(account, batch, placed, quantities)
    assert len(placed) == 300
    workers("replacement-batch-worker")
    _wait_until_quiet(account, quiet=1.5, timeout=60)
    stranded = Order.objects.filter(account=account, status=Order.Status.NEW).count()
    # the two batches in flight when the worker died (up to 25 orders each)
    assert 0 < stranded <= 50, stranded
    stats["stranded"] = stranded
    _recover(account, timeout=60)
    print(f"worker killed mid-batch: {stats}")
    _assert_books(account, placed, quantities)


def test_a_batch_delivered_three_times_fills_once(workers, account):
    from apps.trading.tasks import execute_orders

    workers("batch-double-delivery-worker")
    placed: dict[str, int] = {}
    quantities: dict[str, Decimal] = {}
    burst = _burst(count=60, duplicates=0, seed=11)
    extra = []
    for start in range(0, 60, 20):
        with transaction.atomic():
            before = set(placed.values())
            _place_batches(account, burst[start : start + 20], placed, quantities, size=20)
            ids = sorted(set(placed.values()) - before)
            # two more deliveries right behind the one the batch enqueues
            for _ in range(2):
                transaction.on_commit(lambda ids=ids: extra.append(execute_orders.delay(ids)))
    for result in extra:
        result.get(timeout=60)
    _wait(lambda: _all_final(account), 30, "every order is final", interval=0.1)
    assert execute_orders.apply(args=(sorted(placed.values()),)).get() == {"orders": 0}
    _assert_books(account, placed, quantities)

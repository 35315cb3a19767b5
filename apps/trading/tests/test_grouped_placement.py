"""Group commit of single placements (``services.order_place_grouped``, what
``POST /api/v1/trading/orders/`` calls): placements for one account that
arrive while one is being written are written together, each with its own
outcome.

The tests hold the account's row lock so that the first placement waits in
the database while the others arrive and queue behind it, then let go."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal as D
from unittest import mock

import pytest
from django.db import connection, transaction

from apps.marketdata.errors import UnknownSymbol
from apps.monitoring.context import reset_request_id, set_request_id
from apps.trading import services
from apps.trading.errors import InvalidOrder
from apps.trading.models import Order, OrderEvent, TradingAccount
from apps.trading.tasks import execute_order, execute_orders
from apps.trading.tests.test_batch import quote

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account(trader):
    quote("EURUSD", "1.10000", "1.10010")
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


def item(side="buy", quantity="0.10", **kw) -> dict:
    return {"symbol": "EURUSD", "side": side, "type": "market", "quantity": D(quantity), **kw}


def queued(account: TradingAccount) -> int:
    return len(services._GROUPS._queued.get((account.pk, account.owner_id), []))


@contextmanager
def account_locked(account: TradingAccount):
    """Hold the account's row lock from a connection of another thread, as a
    transaction in progress would, until the block ends or the event it gives
    is set."""
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            TradingAccount.objects.select_for_update().get(pk=account.pk)
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)


def place_while_locked(account: TradingAccount, items: list[dict]) -> list:
    """Place each item from a thread of its own, as concurrent requests with
    request ids ``r0``, ``r1``, ...: the first is held at the account's lock
    until all the others have queued behind it. Returns each placement's
    ``Placed``, or the exception it raised."""

    def place(index: int):
        token = set_request_id(f"r{index}")
        try:
            return services.order_place_grouped(
                account=account, item=items[index], user=account.owner
            )
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            return exc
        finally:
            reset_request_id(token)
            connection.close()

    with account_locked(account) as release, ThreadPoolExecutor(max_workers=len(items)) as pool:
        first = pool.submit(place, 0)
        deadline = time.monotonic() + 10
        while not services._GROUPS._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        rest = [pool.submit(place, i) for i in range(1, len(items))]
        while queued(account) < len(items) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert queued(account) == len(items) - 1, "the placements did not queue"
        release.set()
        outcomes = [first.result(30)] + [f.result(30) for f in rest]
    return outcomes


def test_placements_arriving_during_one_are_written_together(account):
    items = [item(side="buy" if i % 2 else "sell", quantity=f"0.{i + 1}0") for i in range(6)]
    with (
        mock.patch.object(execute_order, "apply_async") as single,
        mock.patch.object(execute_orders, "apply_async") as grouped,
    ):
        outcomes = place_while_locked(account, items)
    # the first alone, the five that waited for it in one batch and one task
    assert single.call_count == 1
    assert grouped.call_count == 1
    assert len(grouped.call_args.args[0][0]) == 5
    for index, (spec, placed) in enumerate(zip(items, outcomes, strict=True)):
        assert placed.error is None and placed.created
        order = placed.order
        assert (order.side, order.quantity) == (spec["side"], spec["quantity"])
        submitted = OrderEvent.objects.get(order=order, event="submitted")
        assert submitted.correlation_id == f"r{index}"  # its own request's id
    assert Order.objects.filter(account=account).count() == 6
    assert not services._GROUPS._busy  # nothing left leading or waiting
    assert not services._GROUPS._queued


def test_each_placement_of_a_group_keeps_its_own_outcome(account):
    items = [
        item(client_order_id="first"),
        item(),
        {**item(), "symbol": "XXXYYY"},
        item(quantity="0.001"),
        item(client_order_id="dup", side="sell"),
        item(client_order_id="dup", side="sell"),
        item(client_order_id="first"),  # already placed by the first request
    ]
    with (
        mock.patch.object(execute_order, "apply_async"),
        mock.patch.object(execute_orders, "apply_async"),
    ):
        outcomes = place_while_locked(account, items)
    first, plain, unknown, bad, dup, dup_again, first_again = outcomes
    assert first.created and plain.created and dup.created
    assert isinstance(unknown.error, UnknownSymbol)
    assert isinstance(bad.error, InvalidOrder) and "quantity" in bad.error.fields
    assert not dup_again.created and dup_again.order.pk == dup.order.pk
    assert not first_again.created and first_again.order.pk == first.order.pk
    assert Order.objects.filter(account=account).count() == 3


def test_a_group_that_fails_fails_each_of_its_placements_and_the_next_goes_on(account):
    items = [item() for _ in range(4)]
    failure = RuntimeError("the database went away")
    with (
        mock.patch.object(execute_order, "apply_async"),
        mock.patch.object(services, "orders_place_batch", side_effect=failure),
    ):
        outcomes = place_while_locked(account, items)
    assert outcomes[0].created  # written alone, before the failure
    assert all(outcome is failure for outcome in outcomes[1:])
    assert Order.objects.filter(account=account).count() == 1
    with mock.patch.object(execute_order, "apply_async"):
        placed = services.order_place_grouped(account=account, item=item(), user=account.owner)
    assert placed.created  # nobody left holding the lead


def test_a_group_is_at_most_a_batch_and_the_rest_follow(account, monkeypatch):
    monkeypatch.setattr(services, "BATCH_MAX", 3)
    items = [item(client_order_id=f"o-{i}") for i in range(8)]
    with (
        mock.patch.object(execute_order, "apply_async") as single,
        mock.patch.object(execute_orders, "apply_async") as grouped,
    ):
        outcomes = place_while_locked(account, items)
    assert all(outcome.created for outcome in outcomes)
    sizes = [len(call.args[0][0]) for call in grouped.call_args_list]
    assert max(sizes) <= 3
    assert sum(sizes) + single.call_count == 8
    assert set(Order.objects.filter(account=account).values_list("client_order_id", flat=True)) == {
        f"o-{i}" for i in range(8)
    }

"""Live trading events go out after commit, and only what committed."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.trading import events

pytestmark = pytest.mark.django_db(transaction=True)


def listen(user_id: int):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.user_group(user_id), channel)

    def receive(timeout: float = 2.0):
        async def one():
            return await asyncio.wait_for(layer.receive(channel), timeout)

        try:
            return async_to_sync(one)()
        except TimeoutError:
            return None

    return receive


def test_events_of_a_rolled_back_transaction_are_dropped_and_later_ones_still_go_out():
    receive = listen(991)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(991, "order", {"id": 1})
        raise RuntimeError
    with transaction.atomic():
        events.publish(991, "order", {"id": 2})
        events.publish(991, "fill", {"id": 3})
    message = receive()
    assert [(e["type"], e["id"]) for e in message["events"]] == [("order", 2), ("fill", 3)]
    assert receive(0.3) is None


def test_outside_a_transaction_an_event_goes_out_at_once():
    receive = listen(992)
    events.publish(992, "order", {"id": 7})
    assert receive()["events"] == [{"type": "order", "id": 7}]


def test_a_rolled_back_savepoint_drops_its_events():
    receive = listen(993)
    with transaction.atomic():
        try:
            with transaction.atomic():
                events.publish(993, "order", {"id": 1})
                raise RuntimeError
        except RuntimeError:
            pass
        events.publish(993, "order", {"id": 2})
    assert [e["id"] for e in receive()["events"]] == [2]


def test_an_account_summary_is_valued_after_commit_once_per_account_and_sent_last(trader):
    from decimal import Decimal as D

    from apps.trading import services
    from apps.trading.models import TradingAccount

    first = services.account_open(owner=trader, name="A", deposit=D("100"))
    second = services.account_open(owner=trader, name="B", deposit=D("200"))
    receive = listen(trader.pk)
    with transaction.atomic():
        events.publish_account(first)
        events.publish(trader.pk, "fill", {"id": 5})
        events.publish_account(second)
        events.publish_account(first)
        # Written after the summaries were queued: they show it, since they
        # are valued from the account as committed.
        TradingAccount.objects.filter(pk=first.pk).update(balance=D("150"))
    assert receive()["events"] == [{"type": "fill", "id": 5}]
    summaries = receive()["events"]
    assert [(e["type"], e["id"], e["balance"]) for e in summaries] == [
        ("account", second.pk, "200.00000000"),
        ("account", first.pk, "150.00000000"),
    ]
    assert receive(0.3) is None


def test_a_summary_that_cannot_be_valued_is_left_out_and_the_others_go(trader):
    from decimal import Decimal as D
    from unittest import mock

    from apps.trading import services

    account = services.account_open(owner=trader, name="A", deposit=D("100"))
    receive = listen(trader.pk)
    gone = events._Summary(10**9, None)  # no such account
    with mock.patch.object(events.logger, "exception") as logged, transaction.atomic():
        events.publish(trader.pk, "order", {"id": 1})
        events._queue(trader.pk, gone)
        events.publish_account(account)
    assert receive()["events"] == [{"type": "order", "id": 1}]
    assert [e["id"] for e in receive()["events"]] == [account.pk]
    assert logged.call_args.args[:2] == ("Could not value account %s for its live summary", 10**9)

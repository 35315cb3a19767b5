"""Live trading events: pushed to ``/ws/trading/`` after the transaction commits.

Each user's sockets join ``trading.user.<id>``; account data is only ever
sent to its owner's group. Operators' sockets also join ``trading.operators``,
which gets what operators watch on every account (risk events), each tagged
with its ``owner`` so an operator's own events are not shown twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

OPERATORS = 0  # the batch key of events for every operator
OPERATORS_GROUP = "trading.operators"


def user_group(user_id: int) -> str:
    return OPERATORS_GROUP if user_id == OPERATORS else f"trading.user.{user_id}"


def publish_operators(kind: str, data: dict, *, owner: int | None) -> None:
    """Queue an event for every operator's sockets (see the module docstring)."""
    publish(OPERATORS, kind, {**data, "owner": owner})


_pending = threading.local()


def publish(user_id: int, kind: str, data: dict) -> None:
    """Queue ``{"type": kind, ...data}`` for the user's sockets; everything a
    transaction queued goes out in one message per user once it commits.

    Outside a transaction it goes out at once. A transaction (or savepoint)
    that rolled back took its flush with it: its events are dropped, and the
    next event starts a new batch."""
    _queue(user_id, {"type": kind, **data})


class _Summary:
    """An account's summary event, valued when its transaction has committed."""

    def __init__(self, account_id: int, quotes) -> None:
        self.account_id = account_id
        self.quotes = quotes

    def event(self) -> dict | None:
        from apps.trading.models import TradingAccount

        try:
            account = TradingAccount.objects.get(pk=self.account_id)
            return {"type": "account", **account_data(account, self.quotes)}
        except Exception:  # the committed changes' events are out already
            logger.exception("Could not value account %s for its live summary", self.account_id)
            return None


def publish_account(account, quotes=None) -> None:
    """Queue ``account``'s summary (``account_data``) for its owner's sockets.

    It is valued once the transaction has committed, outside the row locks
    it held, from the account as committed then (with ``quotes``, or the
    live ones), and goes out right after the transaction's other events:
    once per account however many fills the transaction booked."""
    _queue(account.owner_id, _Summary(account.pk, quotes))


def _queue(user_id: int, entry) -> None:
    connection = transaction.get_connection()
    pending = getattr(_pending, "events", None)
    fresh = (
        pending is None
        or not connection.in_atomic_block
        or not any(entry[1] is _flush for entry in connection.run_on_commit)
    )
    if fresh:
        pending = _pending.events = {}
    pending.setdefault(user_id, []).append(entry)
    if fresh:
        transaction.on_commit(_flush)


def _flush() -> None:
    batches, _pending.events = getattr(_pending, "events", {}), {}
    _send({user: [e for e in batch if isinstance(e, dict)] for user, batch in batches.items()})
    summaries: dict[int, dict[int, _Summary]] = {}
    for user, batch in batches.items():
        for entry in batch:
            if isinstance(entry, _Summary):  # the last of an account's counts
                summaries.setdefault(user, {}).pop(entry.account_id, None)
                summaries[user][entry.account_id] = entry
    _send(
        {
            user: [event for s in by_account.values() if (event := s.event()) is not None]
            for user, by_account in summaries.items()
        }
    )


def _send(batches: dict[int, list[dict]]) -> None:
    batches = {user: batch for user, batch in batches.items() if batch}
    if not batches:
        return

    async def send_all() -> None:
        layer = get_channel_layer()
        for user_id, batch in batches.items():
            kind = "trading.operator_events" if user_id == OPERATORS else "trading.events"
            await layer.group_send(user_group(user_id), {"type": kind, "events": batch})

    if _in_event_loop_thread():
        async_to_sync(send_all)()  # runs on the server's own loop
    else:
        asyncio.run_coroutine_threadsafe(send_all(), _sender_loop()).result(SEND_TIMEOUT)


SEND_TIMEOUT = 10.0
_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _in_event_loop_thread() -> bool:
    """Whether this thread was started by ``sync_to_async`` under a running
    event loop (a view or consumer under Daphne): ``async_to_sync`` then sends
    from that loop."""
    from asgiref.sync import SyncToAsync

    return getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's loop for sends from plain threads (Celery workers).

    ``async_to_sync`` would start a new event loop for every message, and the
    channel layer keeps its Redis connections per loop, so each message would
    also open a connection; one long-lived loop keeps them. A forked child
    starts its own."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="trading-events", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def _num(value) -> str | None:
    """A decimal as plain digits ("0.00000000", never "0E-8")."""
    return None if value is None else f"{value:f}"


def order_data(order) -> dict:
    return {
        "id": order.pk,
        "account": order.account_id,
        "client_order_id": order.client_order_id,
        "symbol": order.instrument.symbol,
        "side": order.side,
        "order_type": order.type,  # "type" is the event's kind
        "quantity": _num(order.quantity),
        "filled_quantity": _num(order.filled_quantity),
        "price": _num(order.price),
        "stop_price": _num(order.stop_price),
        "status": order.status,
        "source": order.source,
        "source_ref": order.source_ref,
        "reject_code": order.reject_code,
        "reject_reason": order.reject_reason,
    }


def fill_data(fill) -> dict:
    return {
        "id": fill.pk,
        "account": fill.account_id,
        "order": fill.order_id,
        "symbol": fill.instrument.symbol,
        "side": fill.side,
        "quantity": _num(fill.quantity),
        "price": _num(fill.price),
        "commission": _num(fill.commission),
        "swap": _num(fill.swap),
        "realized_pnl": _num(fill.realized_pnl),
        "time": fill.time.isoformat().replace("+00:00", "Z"),
    }


def position_data(position) -> dict:
    return {
        "id": position.pk,
        "account": position.account_id,
        "symbol": position.instrument.symbol,
        "quantity": _num(position.quantity),
        "average_price": _num(position.average_price),
        "realized_pnl": _num(position.realized_pnl),
        "closed": position.closed_at is not None,
    }


def account_data(account, quotes=None) -> dict:
    """The account summary (balance, equity, margin, free margin, margin level,
    open P&L) as the REST account carries it, from live quotes."""
    from apps.trading.selectors import account_summary

    return {
        "id": account.pk,
        "currency": account.currency,
        "balance": f"{account.balance:f}",
        **account_summary(account, quotes),
    }

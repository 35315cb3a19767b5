"""Writes of the trading domain.

Accounts and their ledger; order placement (validated, idempotent on the
account's ``client_order_id``); and the one place where an order changes
state (``order_transition``), which also writes the order's audit trail.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.marketdata.models import Instrument
from apps.marketdata.selectors import instrument_get
from apps.monitoring.context import get_request_id
from apps.trading import accounting, events, states
from apps.trading.accounting import money
from apps.trading.brokers.base import AMENDABLE_FIELDS as AMENDABLE
from apps.trading.errors import AccountNotActive, InvalidOrder, InvalidTransition
from apps.trading.models import Fill, LedgerEntry, Order, OrderEvent, Position, TradingAccount
from apps.trading.selectors import LiveQuotes, live_quotes, spec_of
from fxsite.db import insert_rows, update_rows
from fxsite.errors import ApplicationError


@transaction.atomic
def account_open(
    *,
    owner,
    name: str,
    currency: str = "USD",
    deposit: Decimal = Decimal("0"),
    broker: str = TradingAccount.Broker.PAPER,
    leverage: Decimal = Decimal("30"),
    mode: str = TradingAccount.Mode.NETTING,
) -> TradingAccount:
    account = TradingAccount(
        owner=owner,
        name=name,
        currency=currency.upper(),
        broker=broker,
        leverage=leverage,
        mode=mode,
    )
    account.full_clean()
    account.save()
    if deposit:
        ledger_post(
            account=account, kind=LedgerEntry.Kind.DEPOSIT, amount=deposit, note="Opening deposit"
        )
    return account


@transaction.atomic
def ledger_post(
    *, account: TradingAccount, kind: str, amount: Decimal, note: str = "", fill=None, position=None
) -> LedgerEntry:
    """Change an account's balance, recording the entry and the balance after it."""
    locked = TradingAccount.objects.select_for_update().get(pk=account.pk)
    (entry,) = _ledger_write(locked, [(kind, amount, note)], fill=fill, position=position)
    account.balance = locked.balance
    return entry


def _ledger_write(
    account: TradingAccount, entries: list[tuple[str, Decimal, str]], *, fill=None, position=None
) -> list[LedgerEntry]:
    """Post ``(kind, amount, note)`` entries in turn to ``account``, whose row
    the caller has locked and read in this transaction: one balance update and
    one insert, whatever the number of entries."""
    rows = _ledger_rows(account, entries, fill=fill, position=position)
    account.save(update_fields=["balance", "updated_at"])
    return LedgerEntry.objects.bulk_create(rows)


def _ledger_rows(
    account: TradingAccount, entries: list[tuple[str, Decimal, str]], *, fill=None, position=None
) -> list[LedgerEntry]:
    """The ledger rows of ``entries`` (not saved), each with the balance after
    it; ``account.balance`` becomes the last one (not saved either)."""
    rows = []
    balance = account.balance
    for kind, amount, note in entries:
        balance = money(balance + amount)
        rows.append(
            LedgerEntry(
                account=account,
                kind=kind,
                amount=money(amount),
                balance_after=balance,
                fill=fill,
                position=position,
                note=note[:200],
            )
        )
    account.balance = balance
    return rows


def _lock_order(pk: int) -> Order:
    """An order's row, locked, with its account and instrument (not locked)."""
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("account", "instrument")
        .get(pk=pk)
    )


def order_transition(
    *,
    order: Order,
    to_status: str,
    actor: str,
    event: str | None = None,
    data: dict | None = None,
    reject_code: str = "",
    reject_reason: str = "",
    locked: bool = False,
) -> Order:
    """Move an order to ``to_status`` if the state machine allows it, and log it.

    ``locked``: the caller holds ``order``'s row lock in its transaction and
    ``order`` is that row as it is now (a broker's ``submit``, a fill being
    booked); it is then changed in place instead of being read and locked
    again. Without it the row is locked and read here."""
    if locked:
        _transition(order, to_status, actor, event, data, reject_code, reject_reason)
        return order
    with transaction.atomic():
        current = _lock_order(order.pk)
        fields = _transition(current, to_status, actor, event, data, reject_code, reject_reason)
        order.__dict__.update({f: getattr(current, f) for f in fields})
    return current


def _transition(
    order: Order,
    to_status: str,
    actor: str,
    event: str | None,
    data: dict | None,
    reject_code: str = "",
    reject_reason: str = "",
    fields: tuple[str, ...] = (),
) -> list[str]:
    """``order_transition`` on a locked, current row: check, then one update
    of the row (with ``fields`` the caller changed too) and its audit event.
    Returns the fields written."""
    written, record = _transition_apply(
        order, to_status, actor, event, data, reject_code, reject_reason, fields
    )
    _transition_save(order, written, record)
    return written


def _transition_save(order: Order, written: list[str], record: OrderEvent) -> None:
    """Save a ``_transition_apply`` step and queue the order's event."""
    # No savepoint: an error here rolls the caller's whole transaction back.
    with transaction.atomic(savepoint=False):
        order.save(update_fields=written)
        record.save()
    events.publish(order.account.owner_id, "order", events.order_data(order))


def _transition_apply(
    order: Order,
    to_status: str,
    actor: str,
    event: str | None,
    data: dict | None,
    reject_code: str = "",
    reject_reason: str = "",
    fields: tuple[str, ...] = (),
) -> tuple[list[str], OrderEvent]:
    """The state machine's step on ``order`` in memory: checked, applied to
    the instance; returns the fields changed and the audit event, neither
    saved (``_transition`` saves them at once, a batch all together)."""
    from_status = order.status
    if not states.can_transition(from_status, to_status):
        raise InvalidTransition(
            f"Order {order.client_order_id} cannot go from {from_status} to {to_status}.",
            extra={"status": from_status},
        )
    now = timezone.now()
    order.status = to_status
    order.updated_at = now
    fields = [*fields, "status", "updated_at"]
    if to_status == states.ACCEPTED and order.accepted_at is None:
        order.accepted_at = now
        fields.append("accepted_at")
    if to_status in states.FINAL:
        order.closed_at = now
        fields.append("closed_at")
    if to_status == states.REJECTED:
        order.reject_code, order.reject_reason = reject_code[:40], reject_reason[:300]
        fields += ["reject_code", "reject_reason"]
    record = OrderEvent(
        order=order,
        event=event or to_status,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        correlation_id=get_request_id() or "",
        data=data or {},
    )
    return fields, record


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return (value / step) == (value / step).to_integral_value()


def order_validate(
    *,
    account: TradingAccount,
    instrument: Instrument,
    side: str,
    type: str,
    quantity: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
    time_in_force: str,
    expire_at: datetime | None,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    trailing_stop: Decimal | None,
) -> None:
    """Refuse an order that cannot be right, with a message per field."""
    if account.status != TradingAccount.Status.ACTIVE:
        raise AccountNotActive(f"Account {account.name} is {account.status}.")
    errors: dict[str, list[str]] = {}
    if not instrument.enabled:
        errors["symbol"] = [f"{instrument.symbol} is disabled."]
    if side not in Order.Side.values:
        errors["side"] = ["Use buy or sell."]
    if quantity <= 0:
        errors["quantity"] = ["Must be positive."]
    elif quantity < instrument.lot_min or quantity > instrument.lot_max:
        errors["quantity"] = [
            f"{instrument.symbol} trades {instrument.lot_min} to {instrument.lot_max} lots."
        ]
    elif not _on_grid(quantity, instrument.lot_step):
        errors["quantity"] = [f"Must be a multiple of {instrument.lot_step} lots."]
    point = instrument.point
    needs_price = type in (Order.Type.LIMIT, Order.Type.STOP_LIMIT)
    needs_stop = type in (Order.Type.STOP, Order.Type.STOP_LIMIT)
    for name, value, needed in (
        ("price", price, needs_price),
        ("stop_price", stop_price, needs_stop),
    ):
        if needed and value is None:
            errors[name] = [f"Required for {type} orders."]
        elif not needed and value is not None:
            errors[name] = [f"Not used by {type} orders."]
        elif value is not None and (value <= 0 or not _on_grid(value, point)):
            errors[name] = [f"Must be a positive price with at most {instrument.digits} decimals."]
    for name, value in (
        ("stop_loss", stop_loss),
        ("take_profit", take_profit),
        ("trailing_stop", trailing_stop),
    ):
        if value is not None and (value <= 0 or not _on_grid(value, point)):
            errors[name] = [f"Must be a positive price with at most {instrument.digits} decimals."]
    if time_in_force == Order.TimeInForce.GTD:
        if expire_at is None:
            errors["expire_at"] = ["Required for GTD orders."]
        elif expire_at <= timezone.now():
            errors["expire_at"] = ["Must be in the future."]
    elif expire_at is not None:
        errors["expire_at"] = ["Only GTD orders expire."]
    reference = price if price is not None else stop_price
    if reference is not None and side in Order.Side.values:
        below, above = (
            (stop_loss, take_profit) if side == Order.Side.BUY else (take_profit, stop_loss)
        )
        if below is not None and below >= reference:
            name = "stop_loss" if side == Order.Side.BUY else "take_profit"
            errors[name] = [f"Must be below the entry price {reference} for a {side}."]
        if above is not None and above <= reference:
            name = "take_profit" if side == Order.Side.BUY else "stop_loss"
            errors[name] = [f"Must be above the entry price {reference} for a {side}."]
    if errors:
        raise InvalidOrder("The order is not valid.", fields=errors)


def order_place(
    *,
    account: TradingAccount,
    instrument: Instrument,
    side: str,
    type: str,
    quantity: Decimal,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    time_in_force: str = Order.TimeInForce.GTC,
    expire_at: datetime | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
    trailing_stop: Decimal | None = None,
    client_order_id: str | None = None,
    source: str = Order.Source.API,
    source_ref: str = "",
    user=None,
    position: Position | None = None,
    role: str | None = None,
    parent: Order | None = None,
    oco_group: uuid.UUID | None = None,
) -> tuple[Order, bool]:
    """Place an order; returns ``(order, created)``.

    A ``client_order_id`` already used on the account returns the existing
    order (``created`` False) — also when duplicates race: the database's
    unique constraint decides, and the loser reads the winner's row.
    """
    if client_order_id:
        existing = Order.objects.filter(account=account, client_order_id=client_order_id).first()
        if existing is not None:
            return existing, False
    order_validate(
        account=account,
        instrument=instrument,
        side=side,
        type=type,
        quantity=quantity,
        price=price,
        stop_price=stop_price,
        time_in_force=time_in_force,
        expire_at=expire_at,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing_stop=trailing_stop,
    )
    order = Order(
        account=account,
        # 20 hex digits: short enough to ride whole in a MetaTrader comment.
        client_order_id=client_order_id or uuid.uuid4().hex[:20],
        instrument=instrument,
        side=side,
        type=type,
        quantity=quantity,
        price=price,
        stop_price=stop_price,
        time_in_force=time_in_force,
        expire_at=expire_at,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing_stop=trailing_stop,
        source=source,
        source_ref=source_ref,
        created_by=user,
        position=position,
        role=role or (Order.Role.CLOSE if position is not None else Order.Role.ENTRY),
        parent=parent,
        oco_group=oco_group,
    )
    try:
        with transaction.atomic():
            rejection = _risk_check(order, account)
            order.save()
            OrderEvent.objects.bulk_create(
                _placement_events(order, _actor(user, source), get_request_id() or "", rejection)
            )
    except IntegrityError:
        existing = Order.objects.filter(
            account=account, client_order_id=order.client_order_id
        ).first()
        if existing is None:
            raise
        return existing, False
    if rejection is None:
        order_dispatch(order=order)
    events.publish(account.owner_id, "order", events.order_data(order))
    return order, True


#: The most orders one batch may place.
BATCH_MAX = 200


@dataclass
class Placed:
    """One item of ``orders_place_batch``: the order (``created`` False when its
    ``client_order_id`` was already used), or why the item was refused."""

    order: Order | None = None
    created: bool = False
    error: ApplicationError | None = None


def orders_place_batch(
    *,
    account: TradingAccount,
    orders: list[dict],
    user=None,
    source: str = Order.Source.API,
) -> list[Placed]:
    """Place several orders on one account at once, each as ``order_place``
    would: validated, checked against the risk limits (counting the orders
    before it in the batch as working), idempotent on its ``client_order_id``
    (also within the batch). An item that is not valid is refused on its own,
    with its errors, and the others are placed. Everything happens under one
    lock of the account, in one transaction, and one task sends the batch to
    the broker's workers.

    Each item holds ``order_place``'s keywords, with ``symbol`` for the
    instrument (and optionally its own ``source``: ``api`` or ``ui``)."""
    if len(orders) > BATCH_MAX:
        raise InvalidOrder(
            f"A batch places at most {BATCH_MAX} orders; this one has {len(orders)}.",
            code="batch_too_large",
            fields={"orders": [f"At most {BATCH_MAX} orders."]},
        )
    symbols = {str(item["symbol"]).strip().upper() for item in orders}
    instruments = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
    try:
        return _place_batch(account, orders, instruments, user, source)
    except IntegrityError:
        # A client order id placed meanwhile by a path that did not wait for
        # the account's lock: nothing of this batch was kept; again, the
        # duplicates are now found and returned.
        return _place_batch(account, orders, instruments, user, source)


def order_place_grouped(*, account: TradingAccount, item: dict, user=None) -> Placed:
    """Place one order (an item as ``orders_place_batch`` takes it) together
    with the other orders for the same account and user that arrive in this
    process while a placement for them is being written: group commit.

    A placement that finds none being written is written at once, alone,
    by ``order_place``. Placements that arrive meanwhile wait for it to end
    and are then written together as a batch (``orders_place_batch``): one
    transaction under one lock of the account, one task to the broker's
    workers. Under load, concurrent requests each placing one order cost
    what one batch of them costs, and a placement waits for at most the
    group being written before its own. Each keeps its own outcome, its
    request's correlation id in its placement events, and its place in the
    order of arrival; its execution's events carry the id of the request
    that wrote the group, whose task sent it."""
    return _GROUPS.place(account, item, user)


@dataclass(eq=False)
class _Waiting:
    """A placement waiting for its group to be written."""

    item: dict
    done: threading.Event = field(default_factory=threading.Event)
    placed: Placed | None = None
    failure: BaseException | None = None
    lead: bool = False


class _PlacementGroups:
    """The placements waiting, per account and user, in this process.

    One thread at a time writes a group for a key (the leader); the threads
    that arrive meanwhile queue. When the leader has written its group it
    hands the lead to the first placement queued, which writes all that are
    queued by then, and returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[tuple, list[_Waiting]] = {}
        self._busy: set[tuple] = set()

    def place(self, account: TradingAccount, item: dict, user) -> Placed:
        key = (account.pk, getattr(user, "pk", None))
        me = _Waiting({**item, "correlation_id": get_request_id() or ""})
        with self._lock:
            if key in self._busy:
                self._queued.setdefault(key, []).append(me)
            else:
                self._busy.add(key)
                me.lead = True
        if not me.lead:
            me.done.wait()
        if me.lead:
            self._write(key, account, user, me)
        if me.failure is not None:
            raise me.failure
        return me.placed

    def _write(self, key: tuple, account: TradingAccount, user, me: _Waiting) -> None:
        with self._lock:
            queued = [w for w in self._queued.pop(key, []) if w is not me]
            group = [me, *queued[: BATCH_MAX - 1]]
            if queued[BATCH_MAX - 1 :]:
                self._queued[key] = queued[BATCH_MAX - 1 :]
        try:
            placed = orders_place_group(account=account, orders=[w.item for w in group], user=user)
            for waiting, outcome in zip(group, placed, strict=True):
                waiting.placed = outcome
        except BaseException as exc:  # every placement of the group fails with it
            for waiting in group:
                waiting.failure = exc
        finally:
            with self._lock:
                after = self._queued.get(key)
                if after:
                    after[0].lead = True
                else:
                    self._busy.discard(key)
            for waiting in group[1:]:
                waiting.done.set()
            if after:
                after[0].done.set()


_GROUPS = _PlacementGroups()


def orders_place_group(*, account: TradingAccount, orders: list[dict], user=None) -> list[Placed]:
    """Place the orders of a group commit (items as ``orders_place_batch``
    takes them): a lone order by ``order_place``, whose single path costs
    less, several together by ``orders_place_batch``."""
    if len(orders) == 1:
        return [_place_one(account, orders[0], user)]
    return orders_place_batch(account=account, orders=orders, user=user)


def _place_one(account: TradingAccount, item: dict, user) -> Placed:
    """``order_place`` of a batch item, its refusal as the item's outcome."""
    fields = {k: v for k, v in item.items() if k not in ("symbol", "correlation_id")}
    try:
        order, created = order_place(
            account=account, instrument=instrument_get(item["symbol"]), user=user, **fields
        )
    except ApplicationError as exc:
        return Placed(error=exc)
    return Placed(order=order, created=created)


#: What an item of a batch may give, and what it is without it.
ITEM_DEFAULTS = {
    "side": None,
    "type": Order.Type.MARKET,
    "quantity": None,
    "price": None,
    "stop_price": None,
    "time_in_force": Order.TimeInForce.GTC,
    "expire_at": None,
    "stop_loss": None,
    "take_profit": None,
    "trailing_stop": None,
}


@transaction.atomic
def _place_batch(account, orders, instruments, user, source) -> list[Placed]:
    from apps.marketdata.errors import UnknownSymbol
    from apps.risk import selectors as risk_selectors
    from apps.risk.errors import RiskRejected
    from apps.risk.services import evaluate

    locked = TradingAccount.objects.select_for_update().get(pk=account.pk)
    given = [item["client_order_id"] for item in orders if item.get("client_order_id")]
    seen = {
        o.client_order_id: o
        for o in Order.objects.filter(account=locked, client_order_id__in=given).select_related(
            "instrument"
        )
    }
    now = timezone.now()
    snap = None
    correlation = get_request_id() or ""
    results: list[Placed] = []
    created: list[Order] = []
    records: list[OrderEvent] = []
    for item in orders:
        symbol = str(item["symbol"]).strip().upper()
        client_order_id = item.get("client_order_id") or None
        if client_order_id in seen:
            results.append(Placed(order=seen[client_order_id]))
            continue
        instrument = instruments.get(symbol)
        if instrument is None or not instrument.enabled:
            results.append(Placed(error=UnknownSymbol([symbol])))
            continue
        fields = {**ITEM_DEFAULTS, **{k: v for k, v in item.items() if k in ITEM_DEFAULTS}}
        missing = [name for name in ("side", "quantity") if fields[name] is None]
        if missing:
            error = InvalidOrder(
                "The order is not valid.", fields={m: ["Required."] for m in missing}
            )
            results.append(Placed(error=error))
            continue
        order_source = item.get("source") or source
        try:
            order_validate(account=locked, instrument=instrument, **fields)
        except ApplicationError as exc:
            results.append(Placed(error=exc))
            continue
        order = Order(
            account=locked,
            client_order_id=client_order_id or uuid.uuid4().hex[:20],
            instrument=instrument,
            source=order_source,
            created_by=user,
            role=Order.Role.ENTRY,
            **fields,
        )
        if snap is None:
            snap = risk_selectors.snapshot(locked, now)
            quotes = LiveQuotes(snap.symbols)  # read once, if a limit needs them
        try:
            evaluate(
                account=locked,
                snap=snap,
                quotes=quotes,
                instrument=instrument,
                side=order.side,
                quantity=order.quantity,
                order_type=order.type,
                price=order.price if order.price is not None else order.stop_price,
                now=now,
            )
        except RiskRejected as exc:
            _risk_reject(order, exc)
            rejection = exc
        else:
            rejection = None
            _book_working(snap.book, instrument, order)
        snap.recent_orders += 1
        records += _placement_events(
            order,
            _actor(user, order_source),
            item.get("correlation_id") or correlation,
            rejection,
        )
        seen[order.client_order_id] = order
        created.append(order)
        results.append(Placed(order=order, created=True))
    insert_rows(created)
    insert_rows(records)
    new = [o.pk for o in created if o.status == Order.Status.NEW]
    if new:
        from apps.trading.brokers import queue_for
        from apps.trading.tasks import execute_orders

        queue = queue_for(locked)
        transaction.on_commit(
            lambda: execute_orders.apply_async((new,), queue=queue, ignore_result=True)
        )
    for order in created:
        events.publish(locked.owner_id, "order", events.order_data(order))
    return results


def _book_working(book, instrument: Instrument, order: Order) -> None:
    """Count a new order in a risk snapshot's book as the snapshot would
    have, had it been working when it was read."""
    spec = spec_of(instrument)
    book.specs.setdefault(spec.symbol, spec)
    book.working_count += 1
    side = book.working_buys if order.side == Order.Side.BUY else book.working_sells
    side[spec.symbol] = side.get(spec.symbol, Decimal(0)) + order.quantity


def _risk_check(order: Order, account: TradingAccount):
    """The pre-trade risk check, under the account's row lock (two orders
    racing on one account cannot together breach a limit). A refused order
    is recorded as rejected with the limit's code; returns the refusal."""
    from apps.risk.errors import RiskRejected
    from apps.risk.services import pre_trade_check

    locked = TradingAccount.objects.select_for_update().get(pk=account.pk)
    try:
        pre_trade_check(
            account=locked,
            instrument=order.instrument,
            side=order.side,
            quantity=order.quantity,
            order_type=order.type,
            price=order.price if order.price is not None else order.stop_price,
            reduces_position=True if order.position_id is not None else None,
        )
    except RiskRejected as exc:
        _risk_reject(order, exc)
        return exc
    return None


def _risk_reject(order: Order, exc) -> None:
    """Mark a new order (not saved yet) refused by the pre-trade check."""
    order.status = Order.Status.REJECTED
    order.reject_code = exc.code[:40]
    order.reject_reason = exc.message[:300]
    order.closed_at = timezone.now()


def _placement_events(order: Order, actor: str, correlation: str, rejection) -> list[OrderEvent]:
    """The audit trail of a placement: submitted, and rejected by risk if so."""
    records = [
        OrderEvent(
            order=order,
            event="submitted",
            to_status=Order.Status.NEW,
            actor=actor,
            correlation_id=correlation,
            data={"source": order.source},
        )
    ]
    if rejection is not None:
        records.append(
            OrderEvent(
                order=order,
                event=Order.Status.REJECTED,
                from_status=Order.Status.NEW,
                to_status=Order.Status.REJECTED,
                actor="risk",
                correlation_id=correlation,
                data={"code": rejection.code, **_jsonable(rejection.extra)},
            )
        )
    return records


def order_dispatch(*, order: Order) -> None:
    """Hand a ``new`` order to the workers of its broker once the transaction
    commits. Sending twice is harmless: the execution task sends only an
    order still ``new``, under its row lock."""
    from apps.trading.brokers import queue_for
    from apps.trading.tasks import execute_order

    queue = queue_for(order.account)
    # No result: nobody waits for it, and keeping one costs the sender a
    # subscription and the worker a write per order.
    transaction.on_commit(
        lambda: execute_order.apply_async((order.pk,), queue=queue, ignore_result=True)
    )


def orders_sweep(*, older_than_seconds: float = 10.0, resend_after_seconds: int = 60) -> int:
    """Dispatch again every order still ``new`` after ``older_than_seconds``:
    its task was lost (a worker killed, a broker outage). Each order is sent
    again at most once per ``resend_after_seconds``, so a long queue in a
    burst is not flooded with copies. Returns how many were dispatched."""
    from datetime import timedelta

    from apps.marketdata import live

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = list(
        Order.objects.filter(status=Order.Status.NEW, created_at__lt=cutoff)
        .select_related("account")
        .order_by("id")[:1000]
    )
    redis = live.client()
    prefix = f"{live.prefix()}:sweep:order"
    due = [
        order
        for order in stale
        if redis.set(f"{prefix}:{order.pk}", 1, nx=True, ex=resend_after_seconds)
    ]
    with transaction.atomic():
        for order in due:
            order_dispatch(order=order)
    return len(due)


class FillError(InvalidOrder):
    code = "invalid_fill"


def _position_for(order: Order, account: TradingAccount, broker_position_id: str = "") -> Position:
    """The position a fill of ``order`` books into: an open one, locked, or a
    new one not saved yet (the account's lock keeps a second one from being
    opened meanwhile)."""
    if order.position_id is not None:
        return Position.objects.select_for_update().get(pk=order.position_id)
    if broker_position_id:
        known = (
            Position.objects.select_for_update()
            .filter(account=account, broker_position_id=broker_position_id, closed_at__isnull=True)
            .first()
        )
        if known is not None:
            return known
    if account.mode == TradingAccount.Mode.NETTING:
        position = (
            Position.objects.select_for_update()
            .filter(
                account=account, instrument=order.instrument, closed_at__isnull=True, netting=True
            )
            .first()
        )
        if position is not None:
            return position
    return Position(
        account=account,
        instrument=order.instrument,
        netting=account.mode == TradingAccount.Mode.NETTING,
        broker_position_id=broker_position_id,
    )


def fill_apply(
    *,
    order: Order,
    quantity: Decimal,
    price: Decimal,
    time: datetime,
    broker_deal_id: str,
    commission: Decimal | None = None,
    swap: Decimal = Decimal("0"),
    quotes: dict | None = None,
    actor: str = "broker",
    realized: Decimal | None = None,
    broker_position_id: str = "",
    locked: bool = False,
) -> Fill:
    """Book a fill: order progress, position, realised P&L, commission and
    balance, all in one transaction. A deal already booked (same broker deal
    id on the account) is returned as it is: delivering a fill twice is safe.

    ``realized`` is the broker's own figure for the realised P&L (MT5 books
    the deal's profit at its conversion rate; the account must match it);
    ``broker_position_id`` names the broker's position the deal belongs to.
    ``quotes`` (for currency conversion) are read from the live cache when
    not given, and only if a conversion needs them.

    ``locked``: the caller holds the row locks of ``order`` and of
    ``order.account`` in its transaction and both instances are those rows as
    they are now; they are then booked in place (no savepoint: an error rolls
    the caller's transaction back). Without it both rows are locked and read
    here."""
    deal = {
        "quantity": quantity,
        "price": price,
        "time": time,
        "broker_deal_id": broker_deal_id,
        "commission": commission,
        "swap": swap,
        "quotes": quotes,
        "actor": actor,
        "realized": realized,
        "broker_position_id": broker_position_id,
    }
    if locked:
        with transaction.atomic(savepoint=False):
            return _fill_book(order.account, order, **deal)
    with transaction.atomic():
        account = TradingAccount.objects.select_for_update().get(pk=order.account_id)
        existing = Fill.objects.filter(account=account, broker_deal_id=broker_deal_id).first()
        if existing is not None:
            return existing
        current = (
            Order.objects.select_for_update(of=("self",))
            .select_related("instrument")
            .get(pk=order.pk)
        )
        current.account = account
        fill = _fill_book(account, current, checked=True, **deal)
        order.__dict__.update(
            status=current.status,
            filled_quantity=current.filled_quantity,
            average_fill_price=current.average_fill_price,
        )
        return fill


def _fill_book(
    account: TradingAccount,
    order: Order,
    *,
    quantity: Decimal,
    price: Decimal,
    time: datetime,
    broker_deal_id: str,
    commission: Decimal | None,
    swap: Decimal,
    quotes,
    actor: str,
    realized: Decimal | None,
    broker_position_id: str,
    checked: bool = False,
) -> Fill:
    """``fill_apply`` on the locked, current rows of ``order`` and its
    ``account`` (``checked``: the deal id is known to be new)."""
    if not checked:
        existing = Fill.objects.filter(account=account, broker_deal_id=broker_deal_id).first()
        if existing is not None:
            return existing
    quotes = quotes if quotes is not None else LiveQuotes()
    position = _position_for(order, account, broker_position_id)
    fill, entries, changed, transition = _fill_compute(
        account,
        order,
        position,
        quantity=quantity,
        price=price,
        time=time,
        broker_deal_id=broker_deal_id,
        commission=commission,
        swap=swap,
        quotes=quotes,
        actor=actor,
        realized=realized,
        broker_position_id=broker_position_id,
    )
    if position.pk is None:
        position.save()
    else:
        position.save(update_fields=changed)
    fill.save()
    if entries:
        _ledger_write(account, entries, fill=fill, position=position)
    _transition_save(order, *transition)
    _after_fill(order, position, actor)
    events.publish(account.owner_id, "fill", events.fill_data(fill))
    events.publish(account.owner_id, "position", events.position_data(position))
    events.publish_account(account, quotes)
    from apps.risk.services import on_fill

    on_fill(account_id=account.pk)
    return fill


def _fill_compute(
    account: TradingAccount,
    order: Order,
    position: Position,
    *,
    quantity: Decimal,
    price: Decimal,
    time: datetime,
    broker_deal_id: str,
    commission: Decimal | None,
    swap: Decimal,
    quotes,
    actor: str,
    realized: Decimal | None,
    broker_position_id: str = "",
) -> tuple[Fill, list[tuple[str, Decimal, str]], list[str], tuple[list[str], OrderEvent]]:
    """The accounting of one fill, in memory: ``position`` and ``order`` are
    changed in place; returns the fill (not saved), its ledger entries for
    ``_ledger_rows``, the position's changed fields and the order's
    transition (fields and audit event, not saved). One booking rule for a
    single fill and for a batch."""
    if quantity <= 0 or quantity > order.quantity - order.filled_quantity:
        raise FillError(
            f"A fill of {quantity} lots does not fit order {order.client_order_id} "
            f"({order.filled_quantity} of {order.quantity} filled)."
        )
    instrument = order.instrument
    spec = spec_of(instrument)
    signed = quantity if order.side == Order.Side.BUY else -quantity
    if position.instrument_id == instrument.pk:
        position.instrument = instrument  # for the event, without reading it again
    effect = accounting.apply_fill(spec, position.quantity, position.average_price, signed, price)
    if realized is None:
        realized = accounting.convert(effect.realized_quote, spec.quote, account.currency, quotes)
    realized = money(realized)
    if commission is None:
        commission = accounting.commission(
            quantity=quantity,
            price=price,
            spec=spec,
            account_ccy=account.currency,
            quotes=quotes,
            per_lot=account.commission_per_lot,
            per_million=account.commission_per_million,
        )
    position.quantity = effect.quantity
    position.average_price = effect.average_price
    position.realized_pnl = money(position.realized_pnl + realized)
    position.commission = money(position.commission + commission)
    position.swap = money(position.swap + swap)
    position.updated_at = timezone.now()
    changed = ["quantity", "average_price", "realized_pnl", "commission", "swap", "updated_at"]
    if effect.quantity == 0:
        position.closed_at = time
        changed.append("closed_at")
    if broker_position_id and not position.broker_position_id:
        position.broker_position_id = broker_position_id
        changed.append("broker_position_id")
    fill = Fill(
        order=order,
        account=account,
        position=position,
        instrument=instrument,
        side=order.side,
        quantity=quantity,
        price=price,
        commission=commission,
        swap=swap,
        realized_pnl=realized,
        broker_deal_id=broker_deal_id,
        time=time,
    )
    entries = [
        (kind, amount, "")
        for kind, amount in (
            (LedgerEntry.Kind.REALIZED_PNL, realized),
            (LedgerEntry.Kind.COMMISSION, -commission),
            (LedgerEntry.Kind.SWAP, swap),
        )
        if amount
    ]
    filled = order.filled_quantity + quantity
    previous_value = (order.average_fill_price or Decimal(0)) * order.filled_quantity
    order.average_fill_price = ((previous_value + price * quantity) / filled).quantize(
        accounting.PRICE
    )
    order.filled_quantity = filled
    target = Order.Status.FILLED if filled == order.quantity else Order.Status.PARTIALLY_FILLED
    transition = _transition_apply(
        order,
        target,
        actor,
        "fill",
        {"deal": broker_deal_id, "quantity": str(quantity), "price": str(price)},
        fields=("filled_quantity", "average_fill_price"),
    )
    return fill, entries, changed, transition


class Booking:
    """Changes to one account's orders, positions, fills and balance, made in
    memory with the rules of a single fill (``_fill_compute``,
    ``_transition_apply``, ``_ledger_rows``) and written together by
    ``save``: a few statements for a whole batch of orders instead of a dozen
    per order.

    The caller holds the row locks of the account and of every order it
    books, and they are the rows as they are now. Orders linked to others (a
    bracket's entry, an OCO member) are not booked here: their fills place or
    cancel other orders (``fill_apply`` does that); a position that closes
    still cancels the orders protecting it, in ``save``."""

    def __init__(self, account: TradingAccount, orders: list[Order], *, actor: str) -> None:
        self.account = account
        self.actor = actor
        self.quotes = LiveQuotes()
        self.orders: dict[int, tuple[Order, set[str]]] = {}
        self.records: list[OrderEvent] = []
        self.fills: list[Fill] = []
        self.ledger: list[LedgerEntry] = []
        self.positions: dict[int, tuple[Position, set[str]]] = {}  # by id(), with changes
        self.balance = account.balance
        netting = account.mode == TradingAccount.Mode.NETTING
        wanted = {o.position_id for o in orders if o.position_id is not None}
        instruments = {o.instrument_id for o in orders if o.position_id is None}
        query = models.Q(pk__in=wanted)
        if netting and instruments:
            query |= models.Q(netting=True, closed_at__isnull=True, instrument_id__in=instruments)
        rows = list(Position.objects.select_for_update().filter(query, account=account))
        self.by_pk = {p.pk: p for p in rows}
        self.open = {p.instrument_id: p for p in rows if p.netting and p.closed_at is None}
        self.netting = netting

    @staticmethod
    def books(order: Order) -> bool:
        """Whether ``order`` can be booked in a batch (it is not linked)."""
        return order.oco_group is None and not (
            order.stop_loss or order.take_profit or order.trailing_stop
        )

    def _order(self, order: Order, fields) -> None:
        self.orders.setdefault(order.pk, (order, set()))[1].update(fields)

    def transition(self, order: Order, to_status: str, data: dict | None = None) -> None:
        written, record = _transition_apply(order, to_status, self.actor, None, data)
        self._order(order, written)
        self.records.append(record)

    def set(self, order: Order, **values) -> None:
        for name, value in values.items():
            setattr(order, name, value)
        self._order(order, values)

    def _position(self, order: Order) -> Position:
        if order.position_id is not None:
            if order.position_id not in self.by_pk:
                self.by_pk[order.position_id] = Position.objects.select_for_update().get(
                    pk=order.position_id
                )
            return self.by_pk[order.position_id]
        position = self.open.get(order.instrument_id) if self.netting else None
        if position is None:
            position = Position(
                account=self.account, instrument=order.instrument, netting=self.netting
            )
            if self.netting:
                self.open[order.instrument_id] = position
        return position

    def fill(
        self, order: Order, *, quantity: Decimal, price: Decimal, time: datetime, deal: str
    ) -> Fill:
        position = self._position(order)
        fill, entries, changed, (written, record) = _fill_compute(
            self.account,
            order,
            position,
            quantity=quantity,
            price=price,
            time=time,
            broker_deal_id=deal,
            commission=None,
            swap=Decimal("0"),
            quotes=self.quotes,
            actor=self.actor,
            realized=None,
        )
        if position.closed_at is not None and self.open.get(position.instrument_id) is position:
            del self.open[position.instrument_id]
        self.positions.setdefault(id(position), (position, set()))[1].update(changed)
        self.fills.append(fill)
        self.ledger += _ledger_rows(self.account, entries, fill=fill, position=position)
        self._order(order, written)
        self.records.append(record)
        return fill

    def save(self) -> None:
        """Write everything, queue the events, and cancel the orders that
        protected a position which closed."""
        account = self.account
        positions = [p for p, _ in self.positions.values()]
        changed = [(p, f) for p, f in self.positions.values() if p.pk is not None]
        if changed:  # first: a netting position closes before its successor opens
            fields = sorted(set().union(*(f for _, f in changed)))
            update_rows([p for p, _ in changed], fields)
        insert_rows([p for p in positions if p.pk is None])
        insert_rows(self.fills)
        insert_rows(self.ledger)
        if self.orders:
            fields = sorted(set().union(*(f for _, f in self.orders.values())))
            update_rows([o for o, _ in self.orders.values()], fields)
        insert_rows(self.records)
        if account.balance != self.balance:
            account.save(update_fields=["balance", "updated_at"])
        owner = account.owner_id
        for order, _ in self.orders.values():
            events.publish(owner, "order", events.order_data(order))
        for fill in self.fills:
            events.publish(owner, "fill", events.fill_data(fill))
        for position in positions:
            events.publish(owner, "position", events.position_data(position))
        closed = [p.pk for p in positions if p.closed_at is not None]
        if closed:
            _cancel_linked(
                Order.objects.select_for_update()
                .filter(position__in=closed, role__in=PROTECTIVE)
                .exclude(status__in=Order.FINAL)
                .select_related("account", "instrument"),
                self.actor,
                "position closed",
            )
        if self.fills:
            events.publish_account(account, self.quotes)
            from apps.risk.services import on_fill

            on_fill(account_id=account.pk)


def position_close(
    *, position: Position, user=None, source: str = Order.Source.API, source_ref: str = ""
) -> Order:
    """Close a position with an opposite market order for its whole size."""
    position = Position.objects.select_related("account", "instrument").get(pk=position.pk)
    if position.closed_at is not None or position.quantity == 0:
        raise InvalidOrder("This position is already closed.", code="position_closed")
    order, _ = order_place(
        account=position.account,
        instrument=position.instrument,
        side=Order.Side.SELL if position.quantity > 0 else Order.Side.BUY,
        type=Order.Type.MARKET,
        quantity=abs(position.quantity),
        client_order_id=f"close-{position.ticket.hex[:20]}-{position.updated_at:%H%M%S%f}",
        source=source,
        source_ref=source_ref,
        user=user,
        position=position,
    )
    return order


def positions_close_all(*, account: TradingAccount, user=None) -> list[Order]:
    return [
        position_close(position=p, user=user)
        for p in account.positions.filter(closed_at__isnull=True).exclude(quantity=0)
    ]


def _actor(user, default: str = "system") -> str:
    return f"user:{user.username}" if user is not None else default


def order_event(*, order: Order, event: str, actor: str, data: dict | None = None) -> OrderEvent:
    """Log a request or a broker answer that does not change the status."""
    return OrderEvent.objects.create(
        order=order,
        event=event,
        from_status=order.status,
        to_status=order.status,
        actor=actor,
        correlation_id=get_request_id() or "",
        data=data or {},
    )


@transaction.atomic
def order_cancel(*, order: Order, user=None, actor: str | None = None, reason: str = "") -> Order:
    """Cancel a working order.

    An order not yet sent is cancelled here; otherwise its broker cancels it:
    the paper broker at once, MetaTrader through a task on the ``mt5`` queue
    (the order shows ``cancel_requested`` until the broker answers).
    """
    from apps.trading.brokers import for_account, queue_for

    locked = _lock_order(order.pk)
    if not states.can_cancel(locked.status):
        raise InvalidTransition(
            f"Order {locked.client_order_id} is {locked.status} and cannot be cancelled.",
            extra={"status": locked.status},
        )
    actor = actor or _actor(user)
    data = {"reason": reason} if reason else None
    broker = for_account(locked.account)
    if locked.status == Order.Status.NEW or broker.synchronous:
        return order_transition(
            order=locked, to_status=Order.Status.CANCELLED, actor=actor, event="cancel", data=data
        )
    if not locked.cancel_requested:
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested", "updated_at"])
        order_event(order=locked, event="cancel_requested", actor=actor, data=data)
        events.publish(locked.account.owner_id, "order", events.order_data(locked))
        from apps.trading.tasks import broker_cancel

        queue = queue_for(locked.account)
        transaction.on_commit(lambda: broker_cancel.apply_async((locked.pk,), queue=queue))
    return locked


def _amend_errors(order: Order, changes: dict) -> dict[str, list[str]]:
    """Per-field problems of ``changes`` to ``order`` (the merged order is
    validated like a new one)."""
    errors: dict[str, list[str]] = {}
    unknown = set(changes) - set(AMENDABLE)
    for name in sorted(unknown):
        errors[name] = ["This field cannot be amended."]
    if not changes:
        errors["non_field_errors"] = ["Nothing to change."]
    if order.type == Order.Type.MARKET:
        errors.setdefault("non_field_errors", []).append("A market order cannot be amended.")
    if "trailing_stop" in changes and order.role != Order.Role.TRAILING_STOP:
        errors["trailing_stop"] = ["Only a trailing stop's distance can be amended."]
    if "expire_at" in changes and order.time_in_force != Order.TimeInForce.GTD:
        errors["expire_at"] = ["Only GTD orders expire."]
    quantity = changes.get("quantity")
    if quantity is not None and quantity <= order.filled_quantity:
        errors["quantity"] = [f"Must be above the {order.filled_quantity} lots already filled."]
    if errors:
        return errors
    merged = {name: changes.get(name, getattr(order, name)) for name in AMENDABLE}
    try:
        order_validate(
            account=order.account,
            instrument=order.instrument,
            side=order.side,
            type=order.type,
            quantity=merged["quantity"],
            price=merged["price"],
            stop_price=merged["stop_price"],
            time_in_force=order.time_in_force,
            expire_at=merged["expire_at"],
            stop_loss=None,
            take_profit=None,
            trailing_stop=merged["trailing_stop"],
        )
    except InvalidOrder as exc:
        return exc.fields
    return {}


@transaction.atomic
def order_amend(*, order: Order, changes: dict, user=None, actor: str | None = None) -> Order:
    """Change a working order's quantity, prices, expiry or trailing distance.

    The paper broker applies the change at once; MetaTrader through a task on
    the ``mt5`` queue (``amend_requested``, then ``amended`` or
    ``amend_rejected`` in the order's events).
    """
    from apps.trading.brokers import for_account, queue_for

    locked = _lock_order(order.pk)
    if not states.can_amend(locked.status) or locked.cancel_requested:
        raise InvalidTransition(
            f"Order {locked.client_order_id} is {locked.status} and cannot be amended.",
            extra={"status": locked.status},
        )
    # Fields given with their current value are no change.
    changes = {k: v for k, v in changes.items() if k not in AMENDABLE or getattr(locked, k) != v}
    errors = _amend_errors(locked, changes)
    if errors:
        raise InvalidOrder("The amendment is not valid.", fields=errors)
    actor = actor or _actor(user)
    broker = for_account(locked.account)
    if locked.status == Order.Status.NEW or broker.synchronous:
        return order_amend_apply(order=locked, changes=changes, actor=actor)
    payload = _jsonable(changes)
    order_event(order=locked, event="amend_requested", actor=actor, data=payload)
    from apps.trading.tasks import broker_amend

    queue = queue_for(locked.account)
    transaction.on_commit(lambda: broker_amend.apply_async((locked.pk, payload), queue=queue))
    return locked


def _jsonable(changes: dict) -> dict:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else None if v is None else str(v))
        for k, v in changes.items()
    }


def changes_from_json(data: dict) -> dict:
    """The inverse of the payload ``order_amend`` gives the broker task."""
    out: dict = {}
    for key, value in data.items():
        if value is None:
            out[key] = None
        elif key == "expire_at":
            out[key] = datetime.fromisoformat(value)
        else:
            out[key] = Decimal(value)
    return out


@transaction.atomic
def order_amend_apply(*, order: Order, changes: dict, actor: str) -> Order:
    """Write an amendment the broker accepted, with its before/after in the log."""
    locked = _lock_order(order.pk)
    before = {k: getattr(locked, k) for k in changes}
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.save(update_fields=[*changes, "updated_at"])
    order_event(
        order=locked,
        event="amended",
        actor=actor,
        data={"before": _jsonable(before), "after": _jsonable(changes)},
    )
    order.__dict__.update({k: getattr(locked, k) for k in changes})
    events.publish(locked.account.owner_id, "order", events.order_data(locked))
    return locked


PROTECTIVE = (Order.Role.STOP_LOSS, Order.Role.TAKE_PROFIT, Order.Role.TRAILING_STOP)


def _cancel_linked(orders, actor: str, reason: str) -> None:
    """Cancel linked orders through their broker (MT5: a task removes them
    there, so nothing is left behind at the broker)."""
    for linked in orders:
        if states.can_cancel(linked.status) and not linked.cancel_requested:
            order_cancel(order=linked, actor=actor, reason=reason)


def _after_fill(order: Order, position: Position, actor: str) -> None:
    """Links between orders, inside the fill's transaction:

    - a filled bracket entry places its stop-loss, take-profit and trailing
      stop as one OCO group on the position;
    - a fill of an OCO member cancels the other members;
    - a position that closed cancels the orders that protected it.
    """
    if order.oco_group is not None:
        _cancel_linked(
            Order.objects.select_for_update()
            .filter(oco_group=order.oco_group)
            .exclude(pk=order.pk),
            actor,
            f"OCO: order {order.client_order_id} filled",
        )
    if position.closed_at is not None:
        _cancel_linked(
            Order.objects.select_for_update()
            .filter(position=position, role__in=PROTECTIVE)
            .exclude(pk=order.pk),
            actor,
            "position closed",
        )
    if (
        order.status == Order.Status.FILLED
        and order.role == Order.Role.ENTRY
        and position.closed_at is None
        and (order.stop_loss or order.take_profit or order.trailing_stop)
    ):
        _place_protection(order, position)


def _place_protection(entry: Order, position: Position) -> list[Order]:
    group = uuid.uuid4()
    exit_side = Order.Side.SELL if entry.side == Order.Side.BUY else Order.Side.BUY
    legs = []
    if entry.stop_loss:
        legs.append((Order.Role.STOP_LOSS, Order.Type.STOP, {"stop_price": entry.stop_loss}))
    if entry.take_profit:
        legs.append((Order.Role.TAKE_PROFIT, Order.Type.LIMIT, {"price": entry.take_profit}))
    if entry.trailing_stop:
        reference = entry.average_fill_price
        distance = entry.trailing_stop
        start = reference - distance if exit_side == Order.Side.SELL else reference + distance
        legs.append(
            (
                Order.Role.TRAILING_STOP,
                Order.Type.STOP,
                {"stop_price": start.quantize(entry.instrument.point), "trailing_stop": distance},
            )
        )
    placed = []
    for role, type_, prices in legs:
        order, _ = order_place(
            account=entry.account,
            instrument=entry.instrument,
            side=exit_side,
            type=type_,
            quantity=entry.quantity,
            client_order_id=f"{entry.client_order_id[:40]}-{role}",
            source=Order.Source.SYSTEM,
            position=position,
            role=role,
            parent=entry,
            oco_group=group,
            **prices,
        )
        placed.append(order)
    return placed


def rollover_instant(rollover_date) -> datetime:
    """17:00 New York on ``rollover_date``, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime.combine(
        rollover_date, datetime.min.time(), tzinfo=ZoneInfo("America/New_York")
    ).replace(hour=17)


def latest_rollover_date(now: datetime):
    """The New York date of the last weekday 17:00 rollover at or before ``now``."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo("America/New_York"))
    day = local.date() if local.hour >= 17 else local.date() - timedelta(days=1)
    while day.weekday() >= 5:  # no rollover at weekends (Wednesday's carries them)
        day -= timedelta(days=1)
    return day


def swaps_charge(*, rollover_date, quotes: dict | None = None) -> int:
    """Book swap on every position that was open through the rollover of
    ``rollover_date``; safe to run again (one charge per position and date)."""
    from apps.trading.models import SwapCharge

    if rollover_date.weekday() >= 5:
        return 0
    instant = rollover_instant(rollover_date)
    quotes = quotes if quotes is not None else live_quotes()
    charged = 0
    candidates = (
        Position.objects.filter(opened_at__lt=instant, closed_at__isnull=True)
        .exclude(quantity=0)
        .exclude(swap_charges__rollover_date=rollover_date)
        .select_related("account", "instrument")
    )
    for position in candidates:
        spec = spec_of(position.instrument)
        amount = accounting.swap(
            spec, position.quantity, rollover_date, position.account.currency, quotes
        )
        try:
            with transaction.atomic():
                SwapCharge.objects.create(
                    position=position,
                    rollover_date=rollover_date,
                    nights=accounting.swap_nights(rollover_date),
                    amount=amount,
                )
                Position.objects.filter(pk=position.pk).update(swap=models.F("swap") + amount)
                if amount:
                    ledger_post(
                        account=position.account,
                        kind=LedgerEntry.Kind.SWAP,
                        amount=amount,
                        position=position,
                        note=f"Rollover {rollover_date}",
                    )
        except IntegrityError:
            continue  # charged concurrently
        charged += 1
    return charged


def reconciliation_record(
    *, account: TradingAccount, trigger: str, actions: list[dict], checked: dict, error: str = ""
):
    """Record a reconciliation. A periodic one that found nothing only stamps
    the account (``broker_state.last_reconcile``) so the table holds events."""
    from apps.trading.models import Reconciliation

    now = timezone.now()
    if error:
        status = Reconciliation.Status.FAILED
    elif actions:
        status = Reconciliation.Status.REPAIRED
    else:
        status = Reconciliation.Status.OK
    state = dict(
        TradingAccount.objects.filter(pk=account.pk).values_list("broker_state", flat=True).get()
        or {}
    )
    state["last_reconcile"] = {"at": now.isoformat(), "status": status, "trigger": trigger}
    TradingAccount.objects.filter(pk=account.pk).update(broker_state=state)
    account.broker_state = state
    record = Reconciliation(
        account=account,
        trigger=trigger,
        status=status,
        finished_at=now,
        actions=actions,
        checked=checked,
        error=error,
    )
    if status != Reconciliation.Status.OK or trigger != Reconciliation.Trigger.PERIODIC:
        record.save()
        if actions:
            events.publish(
                account.owner_id,
                "reconciliation",
                {"account": account.pk, "status": status, "actions": len(actions)},
            )
    return record


def reconciliation_request(
    *, account: TradingAccount, trigger: str = "manual", countdown: int = 0
) -> None:
    """Ask the account's broker workers to reconcile it (after commit, and
    ``countdown`` seconds later)."""
    from apps.trading.brokers import queue_for
    from apps.trading.tasks import reconcile_account

    queue = queue_for(account)
    transaction.on_commit(
        lambda: reconcile_account.apply_async(
            (account.pk, trigger), queue=queue, countdown=countdown
        )
    )

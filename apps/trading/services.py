"""Writes of the trading domain.

Accounts and their ledger; order placement (validated, idempotent on the
account's ``client_order_id``); and the one place where an order changes
state (``order_transition``), which also writes the order's audit trail.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.marketdata.models import Instrument
from apps.monitoring.context import get_request_id
from apps.trading import accounting, events, states
from apps.trading.accounting import money
from apps.trading.errors import AccountNotActive, InvalidOrder, InvalidTransition
from apps.trading.models import Fill, LedgerEntry, Order, OrderEvent, Position, TradingAccount
from apps.trading.selectors import live_quotes, spec_of


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
    locked.balance = money(locked.balance + amount)
    locked.save(update_fields=["balance", "updated_at"])
    account.balance = locked.balance
    return LedgerEntry.objects.create(
        account=locked,
        kind=kind,
        amount=money(amount),
        balance_after=locked.balance,
        fill=fill,
        position=position,
        note=note[:200],
    )


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to_status: str,
    actor: str,
    event: str | None = None,
    data: dict | None = None,
    reject_code: str = "",
    reject_reason: str = "",
) -> Order:
    """Move an order to ``to_status`` if the state machine allows it, and log it."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    from_status = locked.status
    if not states.can_transition(from_status, to_status):
        raise InvalidTransition(
            f"Order {locked.client_order_id} cannot go from {from_status} to {to_status}.",
            extra={"status": from_status},
        )
    now = timezone.now()
    locked.status = to_status
    fields = ["status", "updated_at"]
    if to_status == states.ACCEPTED and locked.accepted_at is None:
        locked.accepted_at = now
        fields.append("accepted_at")
    if to_status in states.FINAL:
        locked.closed_at = now
        fields.append("closed_at")
    if to_status == states.REJECTED:
        locked.reject_code, locked.reject_reason = reject_code[:40], reject_reason[:300]
        fields += ["reject_code", "reject_reason"]
    locked.save(update_fields=fields)
    OrderEvent.objects.create(
        order=locked,
        event=event or to_status,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        correlation_id=get_request_id() or "",
        data=data or {},
    )
    order.__dict__.update({f: getattr(locked, f) for f in fields})
    events.publish(locked.account.owner_id, "order", events.order_data(locked))
    return locked


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
        client_order_id=client_order_id or uuid.uuid4().hex,
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
        created_by=user,
        position=position,
        role=role or (Order.Role.CLOSE if position is not None else Order.Role.ENTRY),
        parent=parent,
        oco_group=oco_group,
    )
    try:
        with transaction.atomic():
            order.save()
            actor = f"user:{user.username}" if user is not None else source
            OrderEvent.objects.create(
                order=order,
                event="submitted",
                to_status=order.status,
                actor=actor,
                correlation_id=get_request_id() or "",
                data={"source": source},
            )
    except IntegrityError:
        existing = Order.objects.filter(
            account=account, client_order_id=order.client_order_id
        ).first()
        if existing is None:
            raise
        return existing, False
    from apps.trading.tasks import execute_order

    transaction.on_commit(lambda: execute_order.delay(order.pk))
    events.publish(account.owner_id, "order", events.order_data(order))
    return order, True


class FillError(InvalidOrder):
    code = "invalid_fill"


def _position_for(order: Order, account: TradingAccount) -> Position:
    """The position a fill of ``order`` books into (locked)."""
    if order.position_id is not None:
        return Position.objects.select_for_update().get(pk=order.position_id)
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
    return Position.objects.create(
        account=account,
        instrument=order.instrument,
        netting=account.mode == TradingAccount.Mode.NETTING,
    )


@transaction.atomic
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
) -> Fill:
    """Book a fill: order progress, position, realised P&L, commission and
    balance, all in one transaction. A deal already booked (same broker deal
    id on the account) is returned as it is: delivering a fill twice is safe."""
    account = TradingAccount.objects.select_for_update().get(pk=order.account_id)
    existing = Fill.objects.filter(account=account, broker_deal_id=broker_deal_id).first()
    if existing is not None:
        return existing
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if quantity <= 0 or quantity > locked.quantity - locked.filled_quantity:
        raise FillError(
            f"A fill of {quantity} lots does not fit order {locked.client_order_id} "
            f"({locked.filled_quantity} of {locked.quantity} filled)."
        )
    instrument = locked.instrument
    spec = spec_of(instrument)
    quotes = quotes if quotes is not None else live_quotes()
    signed = quantity if locked.side == Order.Side.BUY else -quantity
    position = _position_for(locked, account)
    effect = accounting.apply_fill(spec, position.quantity, position.average_price, signed, price)
    realized = accounting.convert(effect.realized_quote, spec.quote, account.currency, quotes)
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
    if effect.quantity == 0:
        position.closed_at = time
    position.save()
    fill = Fill.objects.create(
        order=locked,
        account=account,
        position=position,
        instrument=instrument,
        side=locked.side,
        quantity=quantity,
        price=price,
        commission=commission,
        swap=swap,
        realized_pnl=realized,
        broker_deal_id=broker_deal_id,
        time=time,
    )
    for kind, amount in (
        (LedgerEntry.Kind.REALIZED_PNL, realized),
        (LedgerEntry.Kind.COMMISSION, -commission),
        (LedgerEntry.Kind.SWAP, swap),
    ):
        if amount:
            ledger_post(account=account, kind=kind, amount=amount, fill=fill, position=position)
    filled = locked.filled_quantity + quantity
    previous_value = (locked.average_fill_price or Decimal(0)) * locked.filled_quantity
    locked.average_fill_price = ((previous_value + price * quantity) / filled).quantize(
        accounting.PRICE
    )
    locked.filled_quantity = filled
    locked.save(update_fields=["filled_quantity", "average_fill_price", "updated_at"])
    target = Order.Status.FILLED if filled == locked.quantity else Order.Status.PARTIALLY_FILLED
    order_transition(
        order=locked,
        to_status=target,
        actor=actor,
        event="fill",
        data={"deal": broker_deal_id, "quantity": str(quantity), "price": str(price)},
    )
    order.__dict__.update(
        status=target, filled_quantity=filled, average_fill_price=locked.average_fill_price
    )
    _after_fill(locked, position, actor)
    events.publish(account.owner_id, "fill", events.fill_data(fill))
    events.publish(account.owner_id, "position", events.position_data(position))
    events.publish(account.owner_id, "account", {"id": account.pk, "balance": str(account.balance)})
    return fill


def position_close(*, position: Position, user=None, source: str = Order.Source.API) -> Order:
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
        user=user,
        position=position,
    )
    return order


def positions_close_all(*, account: TradingAccount, user=None) -> list[Order]:
    return [
        position_close(position=p, user=user)
        for p in account.positions.filter(closed_at__isnull=True).exclude(quantity=0)
    ]


@transaction.atomic
def order_cancel(*, order: Order, user=None) -> Order:
    """Cancel a working order (on the paper broker at once)."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if not states.can_cancel(locked.status):
        raise InvalidTransition(
            f"Order {locked.client_order_id} is {locked.status} and cannot be cancelled.",
            extra={"status": locked.status},
        )
    actor = f"user:{user.username}" if user is not None else "system"
    return order_transition(
        order=locked, to_status=Order.Status.CANCELLED, actor=actor, event="cancel"
    )


PROTECTIVE = (Order.Role.STOP_LOSS, Order.Role.TAKE_PROFIT, Order.Role.TRAILING_STOP)


def _cancel_linked(orders, actor: str, reason: str) -> None:
    for linked in orders:
        if states.can_cancel(linked.status):
            order_transition(
                order=linked,
                to_status=Order.Status.CANCELLED,
                actor=actor,
                event="cancel",
                data={"reason": reason},
            )


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

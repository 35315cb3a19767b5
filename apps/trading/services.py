"""Writes of the trading domain.

So far: accounts and their ledger, and the one place where an order changes
state (``order_transition``), which also writes the order's audit trail.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.monitoring.context import get_request_id
from apps.trading import states
from apps.trading.accounting import money
from apps.trading.errors import InvalidTransition
from apps.trading.models import LedgerEntry, Order, OrderEvent, TradingAccount


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
    return locked

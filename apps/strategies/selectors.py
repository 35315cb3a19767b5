"""Reads of the strategies domain."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from apps.accounts.roles import PERM_OPERATE
from apps.strategies.builtin import BUILTIN
from apps.strategies.errors import InvalidParameters
from apps.strategies.models import Backtest, Optimisation, SavedStrategy, Trial


def strategy_classes() -> list[dict]:
    return [cls.describe() for cls in BUILTIN.values()]


def strategies_for(user) -> QuerySet[SavedStrategy]:
    return SavedStrategy.objects.filter(owner=user)


def backtests_for(user) -> QuerySet[Backtest]:
    """Own backtests; operators see everyone's."""
    qs = Backtest.objects.all()
    if not user.has_perm(PERM_OPERATE):
        qs = qs.filter(owner=user)
    return qs


def trades_of(backtest: Backtest) -> list[dict]:
    """The stored trade columns as rows."""
    columns = backtest.trades or {}
    names = list(columns)
    if not names:
        return []
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def optimisations_for(user) -> QuerySet[Optimisation]:
    qs = Optimisation.objects.annotate(
        trials_done=Count("trials", filter=~Q(trials__status=Trial.Status.QUEUED))
    )
    if not user.has_perm(PERM_OPERATE):
        qs = qs.filter(owner=user)
    return qs


TRIAL_ORDERINGS = ("value", "number", "seconds", "window")


def trials_of(optimisation: Optimisation, *, ordering: str = "-value", window=None, phase=None):
    qs = optimisation.trials.all()
    if window not in (None, ""):
        try:
            qs = qs.filter(window=int(window))
        except ValueError:
            raise InvalidParameters(fields={"window": ["An integer."]}) from None
    if phase:
        if phase not in Trial.Phase.values:
            raise InvalidParameters(fields={"phase": ["is or oos."]})
        qs = qs.filter(phase=phase)
    descending = ordering.startswith("-")
    name = ordering.lstrip("-")
    if name in TRIAL_ORDERINGS:
        expression = F(name)
    elif name.startswith("metrics__") and name[9:].replace("_", "").isalpha():
        expression = F(name)
    else:
        raise InvalidParameters(
            fields={
                "ordering": [
                    "value, number, seconds, window or metrics__<name>, with - for descending."
                ]
            }
        )
    expression = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return qs.order_by(expression, "number")


def accounts_for_deployment(user):
    from apps.trading.models import TradingAccount

    qs = TradingAccount.objects.all()
    if not user.has_perm(PERM_OPERATE):
        qs = qs.filter(owner=user)
    return qs


def deployments_for(user):
    from apps.strategies.models import Deployment

    qs = Deployment.objects.select_related("account", "instrument", "source")
    if not user.has_perm(PERM_OPERATE):
        qs = qs.filter(owner=user)
    return qs


def deployment_orders(deployment):
    from apps.trading.models import Order

    return Order.objects.filter(source_ref=deployment.ref).select_related("instrument")


def deployment_performance(deployment) -> dict:
    """The deployment's own fills replayed on a netting position: realised
    P&L, commission, swap, the trade list, and the open part marked at the
    live quote."""
    from apps.trading import accounting
    from apps.trading.models import Fill
    from apps.trading.selectors import live_quotes, spec_of

    fills = list(
        Fill.objects.filter(order__source_ref=deployment.ref)
        .select_related("instrument")
        .order_by("time", "id")
    )
    spec = spec_of(deployment.instrument)
    lots, average = accounting.ZERO, None
    realized = commission = swap = accounting.ZERO
    trades = []
    opened_at = None
    for fill in fills:
        signed = fill.quantity if fill.side == "buy" else -fill.quantity
        effect = accounting.apply_fill(spec, lots, average, signed, fill.price)
        realized += fill.realized_pnl
        commission += fill.commission
        swap += fill.swap
        if effect.closed:
            trades.append(
                {
                    "side": "long" if lots > 0 else "short",
                    "lots": f"{effect.closed:f}",
                    "entry_time": opened_at.isoformat() if opened_at else None,
                    "entry_price": f"{average:f}",
                    "exit_time": fill.time.isoformat(),
                    "exit_price": f"{fill.price:f}",
                    "net_pnl": f"{fill.realized_pnl - fill.commission:f}",
                }
            )
        if effect.opened and (lots == 0 or effect.closed):
            opened_at = fill.time
        lots, average = effect.quantity, effect.average_price
    unrealized = None
    quotes = live_quotes([deployment.instrument.symbol])
    if lots and deployment.instrument.symbol in quotes:
        try:
            unrealized = accounting.unrealized_pnl(
                spec, lots, average, deployment.account.currency, live_quotes()
            )
        except accounting.ConversionError:
            unrealized = None
    return {
        "fills": len(fills),
        "position": f"{lots:f}",
        "average_price": None if average is None else f"{average:f}",
        "realized_pnl": f"{realized:f}",
        "commission": f"{commission:f}",
        "swap": f"{swap:f}",
        "unrealized_pnl": None if unrealized is None else f"{unrealized:f}",
        "net_pnl": f"{realized - commission + swap + (unrealized or 0):f}",
        "trades": trades,
    }

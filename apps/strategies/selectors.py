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

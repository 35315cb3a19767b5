"""Reads of the strategies domain."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.roles import PERM_OPERATE
from apps.strategies.builtin import BUILTIN
from apps.strategies.models import Backtest, SavedStrategy


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

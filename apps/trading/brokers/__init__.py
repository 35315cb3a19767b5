"""Broker adapters behind one interface (:mod:`apps.trading.brokers.base`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.trading.brokers.base import Broker
    from apps.trading.models import TradingAccount


def for_account(account: TradingAccount) -> Broker:
    """The adapter that executes ``account``'s orders."""
    from apps.trading.models import TradingAccount

    if account.broker == TradingAccount.Broker.PAPER:
        from apps.trading.brokers.paper import BROKER

        return BROKER
    from apps.trading.brokers.mt5 import BROKER as MT5

    return MT5


def queue_for(account: TradingAccount) -> str:
    """The Celery queue of the workers that can reach ``account``'s broker."""
    from apps.trading.models import TradingAccount

    if account.broker == TradingAccount.Broker.PAPER:
        return "execution"
    return mt5_queue()


def mt5_queue() -> str:
    from django.conf import settings

    return getattr(settings, "MT5_QUEUE", "mt5")

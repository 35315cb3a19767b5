"""The one interface every broker adapter implements.

The platform talks to a broker only through :class:`Broker`:

* ``submit(order)``: send a ``new`` order (its row locked by the caller) and
  book what the broker did: accepted, fills, rejected with a reason;
* ``cancel(order)`` / ``amend(order, changes)``: change a working order;
* ``positions(account)``, ``account_info(account)``, ``deals(account, since)``:
  the broker's own view, in platform terms;
* ``reconcile(account, trigger)``: compare that view with the database,
  repair what differs and record every repair in a
  :class:`~apps.trading.models.Reconciliation`.

``synchronous`` brokers (paper) act inside the caller's transaction; the
others are reached from Celery tasks on their own ``queue`` (``mt5``: the
worker on the MetaTrader host).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.trading.models import Order, TradingAccount


class BrokerUnavailable(Exception):
    """The broker cannot be reached now; nothing was sent."""


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    symbol: str
    quantity: Decimal  # signed lots
    average_price: Decimal | None
    broker_position_id: str = ""
    unrealized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BrokerDeal:
    broker_deal_id: str
    broker_order_id: str
    client_order_id: str | None
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    commission: Decimal  # a cost: positive
    swap: Decimal  # signed, in the account currency
    realized_pnl: Decimal | None  # as the broker booked it, when it reports it
    time: datetime
    reason: str = ""  # client, expert, sl, tp, so, ...
    broker_position_id: str = ""
    entry: str = "in"  # in, out, inout
    comment: str = ""


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    currency: str
    balance: Decimal
    equity: Decimal
    margin: Decimal
    free_margin: Decimal
    margin_level: Decimal | None


#: Fields of a working order a client may change (``order_amend``).
AMENDABLE_FIELDS = ("quantity", "price", "stop_price", "expire_at", "trailing_stop")


class Broker(ABC):
    name: str = ""
    queue: str = "execution"
    synchronous: bool = False

    @abstractmethod
    def submit(self, order: Order) -> None: ...

    @abstractmethod
    def cancel(self, order: Order, *, actor: str) -> None: ...

    @abstractmethod
    def amend(self, order: Order, changes: dict, *, actor: str) -> None: ...

    @abstractmethod
    def positions(self, account: TradingAccount) -> list[BrokerPosition]: ...

    @abstractmethod
    def account_info(self, account: TradingAccount) -> BrokerAccount: ...

    @abstractmethod
    def deals(self, account: TradingAccount, since: datetime) -> list[BrokerDeal]: ...

    @abstractmethod
    def reconcile(self, account: TradingAccount, *, trigger: str): ...

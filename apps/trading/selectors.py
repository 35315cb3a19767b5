"""Reads of the trading domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

from django.db.models import QuerySet

from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.trading.accounting import Quote, Spec
from apps.trading.models import Order, Position, TradingAccount


def spec_of(instrument: Instrument) -> Spec:
    return Spec(
        symbol=instrument.symbol,
        base=instrument.base_currency,
        quote=instrument.quote_currency,
        contract_size=instrument.contract_size,
        point=instrument.point,
        margin_rate=instrument.margin_rate,
        swap_long=instrument.swap_long,
        swap_short=instrument.swap_short,
    )


def live_quotes(symbols: list[str] | None = None) -> dict[str, Quote]:
    """Latest quotes from the live cache, for marks and currency conversion."""
    if symbols is None:
        symbols = list(Instrument.objects.filter(enabled=True).values_list("symbol", flat=True))
    out = {}
    for symbol, quote in zip(symbols, live.quotes_get(symbols), strict=True):
        if quote and quote.get("bid") and quote.get("ask"):
            out[symbol] = Quote(Decimal(quote["bid"]), Decimal(quote["ask"]))
    return out


class LiveQuotes(Mapping):
    """``live_quotes(symbols)`` read on first use: booking a fill that converts
    nothing (a USD account trading a USD-quoted pair without commission)
    reads nothing."""

    def __init__(self, symbols: list[str] | None = None) -> None:
        self._symbols = symbols
        self._quotes: dict[str, Quote] | None = None

    def _loaded(self) -> dict[str, Quote]:
        if self._quotes is None:
            self._quotes = live_quotes(self._symbols)
        return self._quotes

    def __getitem__(self, symbol: str) -> Quote:
        return self._loaded()[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def accounts_for(user) -> QuerySet[TradingAccount]:
    """The accounts a user may see: their own; operators see all."""
    qs = TradingAccount.objects.select_related("owner")
    return qs if user.has_perm("accounts.operate") else qs.filter(owner=user)


def open_positions(account: TradingAccount) -> QuerySet[Position]:
    return account.positions.filter(closed_at__isnull=True).select_related("instrument")


def working_orders(account: TradingAccount) -> QuerySet[Order]:
    return account.orders.exclude(status__in=Order.FINAL)


def account_summary(account: TradingAccount, quotes: dict[str, Quote] | None = None) -> dict:
    """Balance, equity, margin, free margin, margin level and open P&L from live quotes."""
    from apps.trading import accounting

    quotes = quotes if quotes is not None else live_quotes()
    positions = [
        (spec_of(p.instrument), p.quantity, p.average_price)
        for p in open_positions(account)
        if p.instrument.symbol in quotes
    ]
    result = accounting.summary(
        balance=account.balance,
        positions=positions,
        account_ccy=account.currency,
        quotes=quotes,
        leverage=account.leverage,
    )
    return {
        "equity": f"{result.equity:f}",
        "margin": f"{result.margin:f}",
        "free_margin": f"{result.free_margin:f}",
        "margin_level": None if result.margin_level is None else f"{result.margin_level:f}",
        "open_pnl": f"{result.unrealized_pnl:f}",
    }


def position_unrealized(position: Position, quotes: dict[str, Quote]) -> str | None:
    from apps.trading import accounting

    if position.closed_at is not None or position.instrument.symbol not in quotes:
        return None
    value = accounting.unrealized_pnl(
        spec_of(position.instrument),
        position.quantity,
        position.average_price,
        position.account.currency,
        quotes,
    )
    return f"{value:f}"


def orders_for(user) -> QuerySet[Order]:
    return Order.objects.filter(account__in=accounts_for(user)).select_related("instrument")


def fills_for(user):
    from apps.trading.models import Fill

    return Fill.objects.filter(account__in=accounts_for(user)).select_related("instrument")


def positions_for(user) -> QuerySet[Position]:
    return Position.objects.filter(account__in=accounts_for(user)).select_related(
        "instrument", "account"
    )

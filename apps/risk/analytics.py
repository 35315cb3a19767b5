"""Risk arithmetic: currency exposures, leverage, drawdown, trading hours,
historical VaR and expected shortfall, correlation of currencies.

Pure functions: no database, no I/O. Currency conversion is
``apps.trading.accounting.conversion_rate`` (mid prices, direct, inverse or
through USD), so the risk figures and the account's P&L use the same rates.

Conventions
- A position of ``lots`` (signed) in BASE/QUOTE is two currency legs:
  ``+lots × contract_size`` of BASE and ``-lots × contract_size × price`` of
  QUOTE (EURUSD long is long EUR, short USD). Each leg is valued in the
  account currency at mid.
- Net exposure of a currency: the signed sum of its legs over all positions;
  gross exposure: the sum of the legs' absolute values. Long EURUSD 1 lot and
  short EURGBP 1 lot: EUR nets to 0 (gross 2 × 100,000 EUR), USD is short and
  GBP long.
- Gross notional: the sum over positions of |lots| × contract size of the
  base currency, in the account currency; leverage is that over equity.
- Historical VaR / ES of a set of currency exposures: each past hour's
  currency returns (against the account currency) applied to today's
  exposures give a P&L; VaR at 99% is the loss exceeded in 1% of the hours,
  ES the average of those losses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from apps.trading.accounting import ConversionError, Quote, Spec, conversion_rate

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Holding:
    """Signed lots of one instrument (a position, or what it would be after orders)."""

    spec: Spec
    lots: Decimal


@dataclass(frozen=True)
class Exposure:
    net: Decimal  # signed, account currency
    gross: Decimal  # account currency


class Rates:
    """Rates into the account currency, each computed once."""

    def __init__(self, quotes: Mapping[str, Quote], account_ccy: str) -> None:
        self.quotes = quotes
        self.account_ccy = account_ccy
        self._cache: dict[str, Decimal] = {}

    def __call__(self, ccy: str) -> Decimal:
        rate = self._cache.get(ccy)
        if rate is None:
            rate = self._cache[ccy] = conversion_rate(ccy, self.account_ccy, self.quotes)
        return rate


def legs(holding: Holding, quotes: Mapping[str, Quote], rates: Rates) -> tuple[tuple, tuple]:
    """``((base, amount), (quote, amount))`` in the account currency."""
    spec = holding.spec
    units = holding.lots * spec.contract_size
    quote = quotes.get(spec.symbol)
    if quote is None:
        raise ConversionError(f"no quote for {spec.symbol}")
    base_leg = units * rates(spec.base)
    quote_leg = -units * quote.mid * rates(spec.quote)
    return (spec.base, base_leg), (spec.quote, quote_leg)


def exposures(
    holdings: Iterable[Holding], quotes: Mapping[str, Quote], account_ccy: str
) -> dict[str, Exposure]:
    """Net and gross exposure per currency, in the account currency."""
    rates = Rates(quotes, account_ccy)
    net: dict[str, Decimal] = {}
    gross: dict[str, Decimal] = {}
    for holding in holdings:
        if not holding.lots:
            continue
        for ccy, amount in legs(holding, quotes, rates):
            net[ccy] = net.get(ccy, ZERO) + amount
            gross[ccy] = gross.get(ccy, ZERO) + abs(amount)
    return {ccy: Exposure(net[ccy], gross[ccy]) for ccy in sorted(net)}


def gross_notional(
    holdings: Iterable[Holding], quotes: Mapping[str, Quote], account_ccy: str
) -> Decimal:
    rates = Rates(quotes, account_ccy)
    return sum(
        (abs(h.lots) * h.spec.contract_size * rates(h.spec.base) for h in holdings if h.lots),
        ZERO,
    )


def leverage(notional: Decimal, equity: Decimal) -> Decimal | None:
    """Notional / equity; ``None`` (unbounded) when equity is not positive."""
    if notional == 0:
        return ZERO
    if equity <= 0:
        return None
    return notional / equity


def margin_level(equity: Decimal, margin: Decimal) -> Decimal | None:
    """Equity / margin in percent; ``None`` without margin."""
    if margin <= 0:
        return None
    return equity / margin * HUNDRED


def drawdown_pct(peak: Decimal | None, equity: Decimal) -> Decimal:
    """Fall of ``equity`` below ``peak`` in percent of the peak (0 at or above it)."""
    if peak is None or peak <= 0 or equity >= peak:
        return ZERO
    return (peak - equity) / peak * HUNDRED


def projected_lots(
    position: Decimal, working_buys: Decimal, working_sells: Decimal, order: Decimal = ZERO
) -> Decimal:
    """The net lots of an instrument if its working orders fill in the
    direction that adds to risk, plus a new order of ``order`` signed lots.

    Working orders count as filled on the side of the order (a buy adds to
    the working buys); without an order, on the side that gives the larger
    position."""
    if order > 0:
        return position + working_buys + order
    if order < 0:
        return position - working_sells + order
    long_, short = position + working_buys, position - working_sells
    return long_ if abs(long_) >= abs(short) else short


def within_hours(moment: datetime, start: time, end: time, tz: str = "UTC") -> bool:
    """``moment`` in ``[start, end)`` of its day in ``tz`` (wrapping past midnight
    when ``end`` is before ``start``)."""
    local = moment.astimezone(ZoneInfo(tz or "UTC")).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


class _Recorder(Mapping):
    """A quote mapping that remembers which symbols a conversion used."""

    def __init__(self, quotes: Mapping[str, Quote]) -> None:
        self._quotes = quotes
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> Quote:
        value = self._quotes[key]
        self.used.add(key)
        return value

    def get(self, key, default=None):
        value = self._quotes.get(key, default)
        if value is not default:
            self.used.add(key)
        return value

    def __iter__(self):
        return iter(self._quotes)

    def __len__(self) -> int:
        return len(self._quotes)


def conversion_symbols(
    currencies: Iterable[str], account_ccy: str, quotes: Mapping[str, Quote]
) -> dict[str, set[str]]:
    """The symbols whose prices convert each currency into the account currency."""
    out = {}
    for ccy in currencies:
        recorder = _Recorder(quotes)
        try:
            conversion_rate(ccy, account_ccy, recorder)
        except ConversionError:
            continue
        out[ccy] = recorder.used
    return out


def rate_history(
    currencies: Sequence[str], account_ccy: str, closes: Sequence[Mapping[str, Decimal]]
) -> np.ndarray:
    """Rate of each currency into the account currency at each time, from
    closing prices (one mapping of symbol → close per time)."""
    out = np.empty((len(closes), len(currencies)))
    for row, prices in enumerate(closes):
        quotes = {symbol: Quote(price, price) for symbol, price in prices.items()}
        for col, ccy in enumerate(currencies):
            out[row, col] = float(conversion_rate(ccy, account_ccy, quotes))
    return out


def returns(rates: np.ndarray) -> np.ndarray:
    """Simple returns between consecutive rows."""
    if len(rates) < 2:
        return np.empty((0, rates.shape[1] if rates.ndim == 2 else 0))
    return rates[1:] / rates[:-1] - 1.0


@dataclass(frozen=True)
class TailRisk:
    level: float  # 0.95, 0.99
    var: float  # loss, positive
    es: float


def historical_var_es(
    exposure: np.ndarray, currency_returns: np.ndarray, levels: Sequence[float] = (0.95, 0.99)
) -> list[TailRisk]:
    """VaR and expected shortfall of exposures (account currency) over the
    horizon of one return, by historical simulation.

    With n scenario P&Ls sorted ascending and k = ceil(n × (1 - level)), VaR
    is minus the k-th worst P&L and ES minus the mean of the k worst."""
    pnl = np.sort(currency_returns @ exposure)
    n = len(pnl)
    out = []
    for level in levels:
        if n == 0:
            out.append(TailRisk(level, 0.0, 0.0))
            continue
        k = max(1, math.ceil(round(n * (1 - level), 9)))
        tail = pnl[:k]
        out.append(TailRisk(level, float(-tail[-1]), float(-tail.mean())))
    return out


def correlation(currency_returns: np.ndarray) -> np.ndarray | None:
    """Correlation matrix of the columns; ``None`` with fewer than 3 rows.
    A column without variance correlates 0 with the others (1 with itself)."""
    if currency_returns.ndim != 2 or len(currency_returns) < 3:
        return None
    cols = currency_returns.shape[1]
    std = currency_returns.std(axis=0)
    out = np.eye(cols)
    live = std > 0
    if live.sum() >= 2:
        sub = np.corrcoef(currency_returns[:, live], rowvar=False)
        idx = np.flatnonzero(live)
        out[np.ix_(idx, idx)] = sub
    return out

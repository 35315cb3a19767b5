"""Trading arithmetic in one place, shared by live trading and backtests.

Pure functions on ``Decimal``: no database, no I/O. The trading services
apply them to rows inside transactions; the backtest engine applies them to
its simulated account, so a backtest and a paper run of the same fills agree
to the last digit.

Conventions
- Quantities are lots (signed: buy > 0, sell < 0); a lot is ``contract_size``
  units of the base currency (100,000 for FX, 100 oz for XAUUSD).
- P&L of a pair is earned in its quote currency and converted into the account
  currency at the mid of the right pair: directly (``JPY→USD`` through USDJPY),
  inversely, or through USD for crosses (``CHF→EUR`` via USDCHF and EURUSD).
- Margin is notional in the base currency × the margin rate, converted into
  the account currency.
- Swap is quoted in points per lot per night; the rollover at 17:00 New York
  from Wednesday to Thursday charges three nights (the weekend's settlement).
- Money is kept to 8 decimal places (ROUND_HALF_EVEN); fill prices are
  exact and blended average prices keep 20 decimals.

Numbers: live trading passes ``Decimal`` everywhere. The backtest engine
passes ``float`` (a ``Spec`` of floats, float prices): the same functions
then run several times faster, money is rounded to 8 places with ``round``
and average prices are not rounded. ``test_accounting_floats`` checks that
both agree to the cent on random fills. The functions without branches on
their numbers (conversion, P&L, margin, commission, ``swap_amount``) also
take numpy arrays of floats, element by element: the backtest engine books
all of a run's fills at once that way, and ``money`` rounds arrays exactly
as ``round`` rounds each float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

MONEY = Decimal("0.00000001")
# Average prices keep 20 decimals: the rounding of a blended entry price then
# moves P&L by less than 1e-10 of a currency unit on any realistic position,
# far below the 8-decimal money quantum.
PRICE = Decimal("1e-20")
ZERO = Decimal(0)
ONE = Decimal(1)


class ConversionError(Exception):
    """No quote to convert between two currencies."""


@dataclass(frozen=True)
class Spec:
    """What the arithmetic needs of an instrument."""

    symbol: str
    base: str
    quote: str
    contract_size: Decimal
    point: Decimal
    margin_rate: Decimal
    swap_long: Decimal = ZERO  # points per lot per night
    swap_short: Decimal = ZERO


@dataclass(frozen=True)
class Quote:
    bid: Decimal
    ask: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


def money(value: Decimal) -> Decimal:
    if isinstance(value, float):
        return round(value, 8)
    if isinstance(value, np.ndarray):
        return round_places(value, 8)
    return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


def round_places(values: np.ndarray, places: int) -> np.ndarray:
    """``round(x, places)`` of each element of a float array. numpy scales,
    rounds and unscales: that equals Python's correctly rounded result except
    where the scaled value lies within its own rounding error of a half (or
    is too large to hold an integer exactly); those few are rounded by Python."""
    values = np.asarray(values, dtype=np.float64)
    out = np.round(values, places)
    scaled = values * 10.0**places
    doubtful = (np.abs(scaled - np.floor(scaled) - 0.5) <= np.abs(scaled) * 4.5e-16 + 1e-12) | (
        np.abs(scaled) >= 2.0**52
    )
    if doubtful.any():
        at = np.flatnonzero(doubtful)
        out[at] = [round(v, places) for v in values[at].tolist()]
    return out


def zero_like(value) -> Decimal | float:
    """0 of the number type in use (``Decimal`` live, ``float`` or float
    arrays in backtests)."""
    return 0.0 if isinstance(value, (float, np.ndarray)) else ZERO


def _average(value: Decimal) -> Decimal:
    return value if isinstance(value, float) else value.quantize(PRICE)


def conversion_rate(from_ccy: str, to_ccy: str, quotes: Mapping[str, Quote]) -> Decimal:
    """Units of ``to_ccy`` for one unit of ``from_ccy`` at mid prices."""
    if from_ccy == to_ccy:
        return 1  # an int: it keeps the type of what it multiplies
    direct = quotes.get(f"{from_ccy}{to_ccy}")
    if direct is not None:
        return direct.mid
    inverse = quotes.get(f"{to_ccy}{from_ccy}")
    if inverse is not None:
        return 1 / inverse.mid
    if "USD" not in (from_ccy, to_ccy):
        return conversion_rate(from_ccy, "USD", quotes) * conversion_rate("USD", to_ccy, quotes)
    raise ConversionError(f"no quote to convert {from_ccy} into {to_ccy}")


def convert(amount: Decimal, from_ccy: str, to_ccy: str, quotes: Mapping[str, Quote]) -> Decimal:
    return money(amount * conversion_rate(from_ccy, to_ccy, quotes))


def pnl_quote_ccy(spec: Spec, quantity: Decimal, entry: Decimal, exit_: Decimal) -> Decimal:
    """P&L in the quote currency of ``quantity`` signed lots from entry to exit."""
    return quantity * spec.contract_size * (exit_ - entry)


def pnl(
    spec: Spec,
    quantity: Decimal,
    entry: Decimal,
    exit_: Decimal,
    account_ccy: str,
    quotes: Mapping[str, Quote],
) -> Decimal:
    """P&L in the account currency."""
    return convert(pnl_quote_ccy(spec, quantity, entry, exit_), spec.quote, account_ccy, quotes)


def mark_price(quantity: Decimal, quote: Quote) -> Decimal:
    """The price a position would close at now: longs sell at bid, shorts buy at ask."""
    return quote.bid if quantity > 0 else quote.ask


def unrealized_pnl(
    spec: Spec,
    quantity: Decimal,
    average_price: Decimal,
    account_ccy: str,
    quotes: Mapping[str, Quote],
) -> Decimal:
    if quantity == 0:
        return zero_like(average_price)
    exit_ = mark_price(quantity, quotes[spec.symbol])
    return pnl(spec, quantity, average_price, exit_, account_ccy, quotes)


def margin(
    spec: Spec,
    quantity: Decimal,
    account_ccy: str,
    quotes: Mapping[str, Quote],
    leverage: Decimal | None = None,
) -> Decimal:
    """Used margin in the account currency: |notional| in base × margin rate
    (or 1/leverage when the account's leverage is stricter)."""
    rate = spec.margin_rate
    if leverage:
        rate = max(rate, 1 / leverage)
    notional_base = abs(quantity) * spec.contract_size
    return convert(notional_base * rate, spec.base, account_ccy, quotes)


def commission(
    *,
    quantity: Decimal,
    price: Decimal,
    spec: Spec,
    account_ccy: str,
    quotes: Mapping[str, Quote],
    per_lot: Decimal = ZERO,
    per_million: Decimal = ZERO,
) -> Decimal:
    """Commission (positive = charged) per lot in the account currency, plus a
    rate per million of notional (notional in the quote currency, converted)."""
    lots = abs(quantity)
    by_notional = zero_like(price)
    if per_million:
        notional_quote = lots * spec.contract_size * price
        by_notional = convert(
            notional_quote * per_million / 1_000_000, spec.quote, account_ccy, quotes
        )
    return money(lots * per_lot + by_notional)


def swap_nights(rollover_date: date) -> int:
    """Nights charged at the 17:00 New York rollover ending trade date
    ``rollover_date - 1`` (Wednesday's rollover carries the weekend: 3)."""
    return 3 if rollover_date.weekday() == 2 else 1


def swap(
    spec: Spec,
    quantity: Decimal,
    rollover_date: date,
    account_ccy: str,
    quotes: Mapping[str, Quote],
) -> Decimal:
    """Swap credited (+) or charged (−) at a rollover, in the account currency.

    ``rollover_date`` is the New York date of the 17:00 rollover.
    """
    points = spec.swap_long if quantity > 0 else spec.swap_short
    return swap_amount(spec, quantity, points, swap_nights(rollover_date), account_ccy, quotes)


def swap_amount(
    spec: Spec,
    quantity: Decimal,
    points: Decimal,
    nights: int,
    account_ccy: str,
    quotes: Mapping[str, Quote],
) -> Decimal:
    """Swap of ``quantity`` lots at ``points`` per lot per night for
    ``nights`` nights, in the account currency (``swap`` picks the points
    and nights; the backtest engine passes arrays of them)."""
    amount_quote = abs(quantity) * spec.contract_size * spec.point * points * nights
    return convert(amount_quote, spec.quote, account_ccy, quotes)


@dataclass(frozen=True)
class FillEffect:
    """What a fill does to a netting position."""

    quantity: Decimal  # the position's new signed lots
    average_price: Decimal | None  # None when flat
    closed: Decimal  # lots closed by this fill (unsigned)
    realized_quote: Decimal  # realised P&L in the quote currency
    opened: Decimal  # lots opened (or added) by this fill (unsigned)


def apply_fill(
    spec: Spec,
    quantity: Decimal,
    average_price: Decimal | None,
    fill_quantity: Decimal,
    fill_price: Decimal,
) -> FillEffect:
    """A fill of ``fill_quantity`` signed lots at ``fill_price`` on a netting position."""
    if fill_quantity == 0:
        raise ValueError("a fill has a quantity")
    if quantity == 0 or (quantity > 0) == (fill_quantity > 0):
        total = quantity + fill_quantity
        previous = abs(quantity) * (average_price or 0)
        average = _average((previous + abs(fill_quantity) * fill_price) / abs(total))
        zero = zero_like(fill_price)
        return FillEffect(total, average, zero, zero, abs(fill_quantity))
    closed = min(abs(quantity), abs(fill_quantity))
    direction = 1 if quantity > 0 else -1
    realized = pnl_quote_ccy(spec, direction * closed, average_price, fill_price)
    total = quantity + fill_quantity
    zero = zero_like(fill_price)
    if total == 0:
        return FillEffect(zero, None, closed, realized, zero)
    if (total > 0) == (quantity > 0):  # partly closed, same direction remains
        return FillEffect(total, average_price, closed, realized, zero)
    return FillEffect(total, fill_price, closed, realized, abs(total))  # reversed


@dataclass(frozen=True)
class Summary:
    balance: Decimal
    equity: Decimal
    margin: Decimal
    free_margin: Decimal
    margin_level: Decimal | None  # percent; None without margin
    unrealized_pnl: Decimal


def summary(
    *,
    balance: Decimal,
    positions: list[tuple[Spec, Decimal, Decimal]],
    account_ccy: str,
    quotes: Mapping[str, Quote],
    leverage: Decimal | None = None,
) -> Summary:
    """Account figures from ``(spec, signed lots, average price)`` positions."""
    open_pnl = sum((unrealized_pnl(s, q, p, account_ccy, quotes) for s, q, p in positions), ZERO)
    used = sum((margin(s, q, account_ccy, quotes, leverage) for s, q, _ in positions), ZERO)
    equity = money(balance + open_pnl)
    level = None if used == 0 else (equity / used * 100).quantize(Decimal("0.01"))
    return Summary(
        money(balance), equity, money(used), money(equity - used), level, money(open_pnl)
    )

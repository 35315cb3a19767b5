"""All of a run's fills booked at once: the batch form of the simulator's
accounting, for one instrument.

The simulator books fills one by one; when a run's fills are known up front
(the vectorised path) this module books them together, with the same
``apps.trading.accounting`` functions applied to arrays, and gives the same
balances, trades and equity to the last bit:

- every amount (realised P&L, commission, swap) comes from the accounting
  functions on arrays, element by element in the simulator's order of
  operations, and is rounded to 8 places exactly as ``round`` does;
- the balance after each event is ``round(balance + amount, 8)`` in the
  simulator. Below ``EXACT_LIMIT`` that equals adding the amounts as whole
  numbers of 1e-8 (the float error of each addition stays far below half a
  unit), so the balances are one integer cumulative sum.

It books only what needs no feedback from the account: fills that open from
flat, close to flat or reverse (no adding to a position, no partial close),
every order affordable, and no close at which the margin level falls below
the stop-out level. ``book`` returns ``None`` when any of that fails, and
the engine then runs the simulator bar by bar, which handles everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from apps.marketdata import calendar
from apps.strategies.engine.data import Series
from apps.trading import accounting as acc

# Balances and amounts below this keep their float error under half of 1e-8.
EXACT_LIMIT = 8_000_000.0
PHASE_ROLLOVER, PHASE_OPEN, PHASE_CLOSE = 0, 1, 2

TRADE_FIELDS = (
    "symbol",
    "side",
    "lots",
    "units",
    "entry_time",
    "entry_index",
    "entry_price",
    "exit_time",
    "exit_index",
    "exit_price",
    "gross_pnl",
    "commission",
    "swap",
    "net_pnl",
    "reason",
    "bars",
)


class TradeList(Sequence):
    """Closed trades kept as columns (numpy arrays or lists); reads as a list
    of trade dicts with plain Python values, made when first read."""

    def __init__(self, columns: dict) -> None:
        self.columns = columns
        self._n = len(columns["side"])
        self._lists: dict[str, list] | None = None

    def _as_lists(self) -> dict[str, list]:
        if self._lists is None:
            self._lists = {
                name: values.tolist() if isinstance(values, np.ndarray) else list(values)
                for name, values in self.columns.items()
            }
        return self._lists

    def __len__(self) -> int:
        return self._n

    def _row(self, i: int) -> dict:
        return {name: column[i] for name, column in self._as_lists().items()}

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(x) for x in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[dict]:
        lists = self._as_lists()
        names = list(lists)
        for values in zip(*lists.values(), strict=True):
            yield dict(zip(names, values, strict=True))

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def column(self, name: str):
        """One field of every trade (a numpy array for numbers)."""
        return self.columns[name]


class FillList(Sequence):
    """Fills as ``(instrument, bar, signed lots, price, reason)`` tuples (the
    simulator's form), made when first read."""

    def __init__(self, bar, lots, price, reasons: list[str]) -> None:
        self._arrays = (bar, lots, price, reasons)
        self._rows: list[tuple] | None = None

    def _all(self) -> list[tuple]:
        if self._rows is None:
            bar, lots, price, reasons = self._arrays
            self._rows = list(
                zip(
                    [0] * len(bar),
                    bar.tolist(),
                    lots.tolist(),
                    price.tolist(),
                    reasons,
                    strict=True,
                )
            )
        return self._rows

    def __len__(self) -> int:
        return len(self._arrays[0])

    def __getitem__(self, i):
        return self._all()[i]


def column(trades: Sequence[dict], name: str):
    """One field of every trade, from a ``TradeList`` or a list of dicts."""
    if isinstance(trades, TradeList):
        return trades.column(name)
    return [t[name] for t in trades]


@dataclass
class Rollovers:
    """The weekday 17:00 New York rollovers of a series, one per row: the bar
    they precede and the nights they charge (3 on Wednesdays)."""

    bar: np.ndarray  # int64
    nights: np.ndarray  # int64
    day: np.ndarray  # int64 days since 1970-01-01 (the New York date)

    def by_bar(self) -> dict[int, list]:
        """Bar → the dates of its rollovers (what the simulator takes)."""
        out: dict[int, list] = {}
        dates = self.day.astype("datetime64[D]").astype(object)
        for j, day in zip(self.bar.tolist(), dates, strict=True):
            out.setdefault(j, []).append(day)
        return out


def rollovers(time_us: np.ndarray, trade_days: np.ndarray | None = None) -> Rollovers:
    """Rollovers between consecutive bars: every weekday New York date from
    the trade date of bar ``j-1`` up to (not including) that of bar ``j``."""
    empty = np.zeros(0, dtype=np.int64)
    if len(time_us) < 2:
        return Rollovers(empty, empty, empty)
    if trade_days is None:
        trade_days = calendar.trade_dates(time_us)
    days = trade_days.astype(np.int64)
    changed = np.flatnonzero(days[1:] != days[:-1]) + 1
    first, count = days[changed - 1], days[changed] - days[changed - 1]
    bar = np.repeat(changed, count)
    # Each changed bar's run of dates: first, first + 1, ..., last - 1.
    starts = np.repeat(np.cumsum(count) - count, count)
    day = np.repeat(first, count) + (np.arange(len(bar)) - starts)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    keep = weekday < 5
    return Rollovers(bar[keep], np.where(weekday[keep] == 2, 3, 1), day[keep])


@dataclass
class Fills:
    """One instrument's fills in the order they happen."""

    bar: np.ndarray  # int64
    lots: np.ndarray  # signed
    price: np.ndarray
    at_open: np.ndarray  # bool: inside the bar (rates at its open), else at its close
    reason: list[str]


@dataclass
class Ledger:
    lots: np.ndarray  # the position at each bar's close
    equity: np.ndarray  # the equity at each bar's close
    trades: TradeList
    fills: list[tuple]


def _quotes(se: Series, bar: np.ndarray, at_open: np.ndarray, bid, ask, account_ccy: str):
    """The quotes the simulator builds for the same bars, as arrays."""
    spec = se.spec
    out = {}
    for ccy, rate_open, rate_close in (
        (spec.quote, se.quote_rate_open, se.quote_rate_close),
        (spec.base, se.base_rate_open, se.base_rate_close),
    ):
        if isinstance(rate_open, np.ndarray):
            r = np.where(at_open, rate_open[bar], rate_close[bar])
        elif rate_open == 1:
            continue
        else:
            r = float(rate_open)
        out[f"{ccy}{account_ccy}"] = acc.Quote(r, r)
    out[spec.symbol] = acc.Quote(bid, ask)
    return out


def book(
    se: Series,
    spread: np.ndarray,
    fills: Fills,
    rolls: Rollovers,
    *,
    initial_balance: float,
    account_ccy: str,
    leverage: float,
    per_lot: float,
    per_million: float,
    swap_on: bool,
    stop_out_level: float,
) -> Ledger | None:
    """Book ``fills`` (see the module's docstring); ``None``: run sequentially."""
    spec = se.spec
    m = len(fills.bar)
    if initial_balance != round(initial_balance, 8) or abs(initial_balance) >= EXACT_LIMIT:
        return None
    bar, lots, price, at_open = fills.bar, fills.lots, fills.price, fills.at_open
    after = np.cumsum(lots)
    before = np.r_[0.0, after[:-1]]
    opens = (before == 0) | ((before > 0) != (lots > 0))
    closes = before != 0
    # Only opening from flat, closing to flat and reversing.
    if np.any(closes & (np.abs(lots) < np.abs(before))) or np.any((before != 0) & ~opens):
        return None
    if np.any((before == 0) & (lots == 0)):
        return None
    bid = np.where(at_open, se.open[bar], se.close[bar])
    ask = bid + spread[bar]
    q = _quotes(se, bar, at_open, bid, ask, account_ccy)
    size = np.abs(lots)
    commission = acc.commission(
        quantity=lots,
        price=price,
        spec=spec,
        account_ccy=account_ccy,
        quotes=q,
        per_lot=per_lot,
        per_million=per_million,
    )
    # Average price after each fill: blended from flat, the price on a reversal.
    average_after = np.where(
        before == 0, (0.0 + size * price) / np.where(after == 0, 1.0, np.abs(after)), price
    )
    average_after = np.where(after == 0, 0.0, average_after)
    average_before = np.r_[0.0, average_after[:-1]]
    closed = np.where(closes, np.abs(before), 0.0)
    direction = np.where(before > 0, 1, -1)
    realized = np.where(
        closes,
        acc.convert(
            acc.pnl_quote_ccy(spec, direction * closed, average_before, price),
            spec.quote,
            account_ccy,
            q,
        ),
        0.0,
    )

    # Swap at the rollovers with a position (before the fills of their bar).
    held = np.searchsorted(bar, rolls.bar, side="left") - 1
    roll_lots = np.where(held >= 0, after[np.maximum(held, 0)], 0.0) if m else np.zeros(len(held))
    with_position = roll_lots != 0 if swap_on else np.zeros(len(roll_lots), dtype=bool)
    r_bar = rolls.bar[with_position]
    r_lots = roll_lots[with_position]
    r_fill = held[with_position]  # the fill that opened the position charged
    rq = _quotes(
        se,
        r_bar,
        np.ones(len(r_bar), dtype=bool),
        se.open[r_bar],
        se.open[r_bar] + spread[r_bar],
        account_ccy,
    )
    swaps = acc.swap_amount(
        spec,
        r_lots,
        np.where(r_lots > 0, spec.swap_long, spec.swap_short),
        rolls.nights[with_position],
        account_ccy,
        rq,
    )

    # Every balance change in time order, as whole units of 1e-8.
    amounts = np.r_[swaps, realized, commission]
    if len(amounts) and np.abs(amounts).max() >= EXACT_LIMIT:
        return None
    swap_u = np.rint(swaps * 1e8).astype(np.int64)
    fill_u = np.rint(realized * 1e8).astype(np.int64) - np.rint(commission * 1e8).astype(np.int64)
    k = len(r_bar)
    event_bar = np.r_[r_bar, bar]
    phase = np.r_[np.full(k, PHASE_ROLLOVER), np.where(at_open, PHASE_OPEN, PHASE_CLOSE)]
    order = np.lexsort((np.arange(len(event_bar)), phase, event_bar))
    start = round(initial_balance * 1e8)
    balance_u = start + np.cumsum(np.r_[swap_u, fill_u][order])
    if len(balance_u) and np.abs(balance_u).max() >= EXACT_LIMIT * 1e8:
        return None
    balance = balance_u / 1e8
    event_lots = np.r_[r_lots, after][order]
    event_avg = np.r_[average_after[r_fill], average_after][order]

    # Every order that opens must be affordable: equity before it > margin after.
    if m:
        position_of_event = np.empty(len(order), dtype=np.int64)
        position_of_event[order] = np.arange(len(order))
        at = position_of_event[k:]  # each fill's place among the events
        balance_before = np.r_[start, balance_u[:-1]][at] / 1e8
        mark = np.where(before > 0, bid, ask)
        open_pnl = np.where(
            before != 0, acc.pnl(spec, before, average_before, mark, account_ccy, q), 0.0
        )
        used = acc.margin(spec, after, account_ccy, q, leverage)
        needs = opens & (after != 0)
        if np.any(needs & ~(balance_before + open_pnl > used * (1 + 1e-12) + 1e-9)):
            return None
    # The state at each bar's close, and the stop-out check on it.
    steps, n = event_bar[order], len(se)
    bar_lots = state_per_bar(steps, event_lots, n, 0.0)
    bar_avg = state_per_bar(steps, event_avg, n, 0.0)
    bar_balance = state_per_bar(steps, balance, n, initial_balance)
    bar_equity = equity_curve(se, spread, bar_lots, bar_avg, bar_balance)
    if not _above_stop_out(
        se,
        spread,
        bar_lots,
        bar_avg,
        bar_balance,
        bar_equity,
        account_ccy,
        leverage,
        stop_out_level,
    ):
        return None
    trades = _trades(
        se,
        fills,
        closes,
        before,
        closed,
        average_before,
        realized,
        commission,
        size,
        after,
        swap_u,
        r_fill,
    )
    return Ledger(
        lots=bar_lots,
        equity=bar_equity,
        trades=trades,
        fills=FillList(bar, lots, price, fills.reason),
    )


def state_per_bar(steps: np.ndarray, values: np.ndarray, n: int, default: float) -> np.ndarray:
    """The value after the last event at or before each of ``n`` bars
    (``steps``: the events' bars, sorted; ``default`` before the first)."""
    if not len(steps):
        return np.full(n, default, dtype=np.float64)
    last = np.r_[steps[1:] != steps[:-1], True]
    at, kept = steps[last], np.asarray(values, dtype=np.float64)[last]
    return np.repeat(np.r_[default, kept], np.diff(np.r_[0, at, n]))


def equity_curve(
    se: Series, spread: np.ndarray, lots: np.ndarray, average: np.ndarray, balance: np.ndarray
) -> np.ndarray:
    """Balance plus the open position's P&L at each bar's close (longs at
    the bid, shorts at the ask), converted at the close's rate."""
    # Flat bars have lots and average 0: their open P&L is 0 without a mask.
    pnl = se.close + spread * (lots < 0)
    pnl -= average
    pnl *= lots
    pnl *= se.spec.contract_size
    rate = se.quote_rate_close
    if isinstance(rate, np.ndarray) or rate != 1:
        pnl *= rate
    pnl += balance
    return pnl


def _above_stop_out(
    se, spread, lots, average, balance, equity, account_ccy, leverage, level
) -> bool:
    """Whether the margin level stays above the stop-out level at every close
    with a position. The equity curve and the margin at each close's rates
    find the closes within 5% of the level; only those are valued with the
    accounting functions, and any of them below the level (with a small
    margin of safety) leaves the decision to the simulator."""
    spec = se.spec
    margin_rate = max(spec.margin_rate, 1 / leverage) if leverage else spec.margin_rate
    per_lot = spec.contract_size * margin_rate * level * 1.05 / 100
    rate = se.base_rate_close
    # Usually the lowest equity covers the largest margin with room to spare.
    if equity.min() > np.abs(lots).max() * per_lot * np.max(rate) + 1e-6:
        return True
    near = (equity < np.abs(lots) * per_lot * rate + 1e-6) & (lots != 0)
    if not near.any():
        return True
    near = np.flatnonzero(near)
    pos, bid = lots[near], se.close[near]
    ask = bid + spread[near]
    q = _quotes(se, near, np.zeros(len(near), dtype=bool), bid, ask, account_ccy)
    exact = balance[near] + acc.pnl(
        spec, pos, average[near], np.where(pos > 0, bid, ask), account_ccy, q
    )
    used = acc.margin(spec, pos, account_ccy, q, leverage)
    return bool(np.all(exact * 100 >= used * level * (1 + 1e-9) + 1e-6))


def _trades(
    se,
    fills,
    closes,
    before,
    closed,
    average_before,
    realized,
    commission,
    size,
    after,
    swap_u,
    r_fill,
) -> TradeList:
    """One trade per closing fill ``i``, opened by fill ``i - 1`` (no adds)."""
    spec = se.spec
    i = np.flatnonzero(closes)
    o = i - 1
    bar = fills.bar
    time_us = se.time_us
    opened = np.abs(after)
    open_commission = commission[o] * opened[o] / size[o]
    share = closed[i] / np.abs(before[i])
    swap_units = (
        np.bincount(r_fill, weights=swap_u, minlength=len(bar))
        if len(r_fill)
        else (np.zeros(len(bar)))
    )
    trade_swap = swap_units[o] / 1e8
    entry_commission = open_commission * share
    swap = trade_swap * share
    exit_commission = commission[i] * closed[i] / size[i]
    gross = realized[i]
    reasons = fills.reason
    return TradeList(
        {
            "symbol": [spec.symbol] * len(i),
            "side": np.where(before[i] > 0, "long", "short"),
            "lots": acc.round_places(closed[i], 8),
            "units": acc.round_places(closed[i] * spec.contract_size, 2),
            "entry_time": time_us[bar[o]],
            "entry_index": bar[o],
            "entry_price": average_before[i],
            "exit_time": time_us[bar[i]],
            "exit_index": bar[i],
            "exit_price": fills.price[i],
            "gross_pnl": gross,
            "commission": (entry_commission + exit_commission),
            "swap": swap,
            "net_pnl": (gross - entry_commission - exit_commission + swap),
            "reason": [reasons[x] for x in i.tolist()],
            "bars": (bar[i] - bar[o]),
        }
    )

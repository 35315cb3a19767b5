"""Bars for backtests as numpy arrays, and the conversion rates of an
instrument's currencies into the account currency at every bar.

Bars hold bid prices and the bar's spread (price units); the ask of a bar is
bid + spread. A missing spread is taken from the bar before (or after, for
the first bars); a run with fixed spread ignores the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection

from apps.marketdata import calendar
from apps.marketdata.models import Bar, DataSource, Instrument
from apps.marketdata.selectors import source_with_most_bars
from apps.strategies.errors import NoData
from apps.trading import accounting


@dataclass
class Ticks:
    """Stored ticks of one instrument, in time order, and each bar's run of
    them: bar ``j`` holds ticks ``lo[j]`` to ``hi[j]`` (exclusive)."""

    time_us: np.ndarray  # int64
    bid: np.ndarray
    ask: np.ndarray
    lo: np.ndarray  # int64 per bar
    hi: np.ndarray

    def __len__(self) -> int:
        return len(self.time_us)


@dataclass
class Series:
    """One instrument's bars (bid OHLC, spread in price units)."""

    instrument: Instrument
    spec: accounting.Spec  # floats
    time_us: np.ndarray  # int64 open times
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    spread: np.ndarray
    source: str = ""
    # Conversion rates into the account currency, as of each bar's open (the
    # closes of the bars before) and at each bar's close.
    quote_rate_open: np.ndarray | float = 1
    quote_rate_close: np.ndarray | float = 1
    base_rate_open: np.ndarray | float = 1
    base_rate_close: np.ndarray | float = 1
    extra: dict = field(default_factory=dict)
    ticks: Ticks | None = None  # stored ticks inside the bars (``attach_ticks``)

    def __len__(self) -> int:
        return len(self.time_us)

    def arrays(self) -> dict[str, np.ndarray]:
        """What indicators read."""
        return {
            "time_us": self.time_us,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
        }


def float_spec(instrument: Instrument) -> accounting.Spec:
    return accounting.Spec(
        symbol=instrument.symbol,
        base=instrument.base_currency,
        quote=instrument.quote_currency,
        contract_size=float(instrument.contract_size),
        point=float(instrument.point),
        margin_rate=float(instrument.margin_rate),
        swap_long=float(instrument.swap_long),
        swap_short=float(instrument.swap_short),
    )


_BARS_SQL = """
SELECT (extract(epoch FROM time) * 1000000)::bigint, open::float8, high::float8,
       low::float8, close::float8, volume::float8, spread::float8
  FROM marketdata_bar
 WHERE instrument_id = %s AND source_id = %s AND timeframe = %s
   AND time >= %s AND time < %s
 ORDER BY time
"""


def load_arrays(
    instrument: Instrument, source: DataSource, timeframe: str, start: datetime, end: datetime
) -> dict[str, np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute(_BARS_SQL, [instrument.pk, source.pk, timeframe, start, end])
        rows = cursor.fetchall()
    if not rows:
        return {}
    columns = list(zip(*rows, strict=True))
    spread = np.array([np.nan if v is None else v for v in columns[6]], dtype=np.float64)
    return {
        "time_us": np.array(columns[0], dtype=np.int64),
        "open": np.array(columns[1], dtype=np.float64),
        "high": np.array(columns[2], dtype=np.float64),
        "low": np.array(columns[3], dtype=np.float64),
        "close": np.array(columns[4], dtype=np.float64),
        "volume": np.array(columns[5], dtype=np.float64),
        "spread": spread,
    }


def fill_spread(spread: np.ndarray) -> np.ndarray:
    """Missing spreads from the bar before (the first ones from the first known)."""
    spread = spread.copy()
    missing = np.isnan(spread)
    if not missing.any():
        return spread
    if missing.all():
        return spread
    index = np.where(~missing, np.arange(len(spread)), 0)
    np.maximum.accumulate(index, out=index)
    spread = spread[index]
    first = np.flatnonzero(~np.isnan(spread))[0]
    spread[:first] = spread[first]
    return spread


def series_from_arrays(
    instrument: Instrument, arrays: dict[str, np.ndarray], *, source: str = ""
) -> Series:
    return Series(
        instrument=instrument,
        spec=float_spec(instrument),
        time_us=np.asarray(arrays["time_us"], dtype=np.int64),
        open=np.asarray(arrays["open"], dtype=np.float64),
        high=np.asarray(arrays["high"], dtype=np.float64),
        low=np.asarray(arrays["low"], dtype=np.float64),
        close=np.asarray(arrays["close"], dtype=np.float64),
        volume=np.asarray(arrays.get("volume", np.zeros(len(arrays["time_us"]))), np.float64),
        spread=fill_spread(np.asarray(arrays["spread"], dtype=np.float64)),
        source=source,
    )


def load_series(
    instrument: Instrument,
    timeframe: str,
    start: datetime,
    end: datetime,
    source: DataSource | None = None,
) -> Series:
    source = source or source_with_most_bars(instrument, timeframe, start, end)
    arrays = load_arrays(instrument, source, timeframe, start, end) if source else {}
    if not arrays:
        raise NoData(
            f"No {timeframe} bars of {instrument.symbol} from {start:%Y-%m-%d %H:%M} "
            f"to {end:%Y-%m-%d %H:%M} UTC.",
            fields={"symbol": [f"No {timeframe} bars in this period."]},
        )
    return series_from_arrays(instrument, arrays, source=source.name)


_TICKS_SQL = """
SELECT (extract(epoch FROM time) * 1000000)::bigint, bid::float8, ask::float8
  FROM marketdata_tick
 WHERE instrument_id = %s AND source_id = %s AND time >= %s AND time < %s
 ORDER BY time
"""

# A backtest holds its ticks in memory: 8 bytes x 3 per tick, plus lists.
MAX_TICKS = 20_000_000


def attach_ticks(se: Series, time_us: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> None:
    """Give ``se`` the ticks inside its bars (each bar: from its open time up
    to the next bar's; the last bar's up to its open + the bar spacing)."""
    time_us = np.asarray(time_us, dtype=np.int64)
    starts = se.time_us
    if len(starts) > 1:
        step = int(np.median(np.diff(starts)))
    else:
        step = 0
    ends = np.r_[starts[1:], starts[-1] + step] if len(starts) else starts
    se.ticks = Ticks(
        time_us=time_us,
        bid=np.asarray(bid, dtype=np.float64),
        ask=np.asarray(ask, dtype=np.float64),
        lo=np.searchsorted(time_us, starts, side="left"),
        hi=np.searchsorted(time_us, ends, side="left"),
    )


def load_ticks(se: Series, start: datetime, end: datetime) -> int:
    """Attach the stored ticks of ``se``'s instrument in [start, end) from
    the source with the most of them there (the bars' source first on a tie).
    Returns how many; 0 attaches none. ``NoData`` above ``MAX_TICKS``."""
    instrument = se.instrument
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.source_id, count(*) FROM marketdata_tick t
                WHERE t.instrument_id = %s AND t.time >= %s AND t.time < %s
                GROUP BY t.source_id""",
            [instrument.pk, start, end],
        )
        counts = cursor.fetchall()
    if not counts:
        return 0
    names = dict(DataSource.objects.filter(pk__in=[c[0] for c in counts]).values_list("pk", "name"))
    source_id, count = max(counts, key=lambda c: (c[1], names.get(c[0]) == se.source, -c[0]))
    if count > MAX_TICKS:
        raise NoData(
            f"{count:,} ticks of {instrument.symbol} in the period: more than a backtest "
            f"holds ({MAX_TICKS:,}). Shorten the period or fill from bars.",
            fields={"ticks": [f"At most {MAX_TICKS:,} ticks per instrument."]},
        )
    with connection.cursor() as cursor:
        cursor.execute(_TICKS_SQL, [instrument.pk, source_id, start, end])
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True))
    attach_ticks(se, np.array(columns[0]), np.array(columns[1]), np.array(columns[2]))
    return len(rows)


def _as_of(times: np.ndarray, values: np.ndarray, at: np.ndarray, *, strict: bool) -> np.ndarray:
    """``values`` of the last bar opening before (``strict``) or at ``at``."""
    index = np.searchsorted(times, at, side="left" if strict else "right") - 1
    out = values[np.clip(index, 0, None)]
    return np.where(index >= 0, out, np.nan)


def attach_rates(series: list[Series], account_ccy: str, timeframe: str) -> None:
    """Set each series' conversion-rate arrays (quote and base currency into
    ``account_ccy``) with ``accounting.conversion_rate`` over the bars of the
    pairs it needs (loaded from the same timeframe, as of each bar).

    Raises ``NoData`` when a needed pair has no bars in the period."""
    needed = {c for s in series for c in (s.spec.quote, s.spec.base)} - {account_ccy}
    if not needed:
        return
    own = {s.spec.symbol: s for s in series}
    pairs: dict[str, Series] = dict(own)
    start = calendar.us_to_datetime(int(min(s.time_us[0] for s in series)))
    end = calendar.us_to_datetime(int(max(s.time_us[-1] for s in series)) + 1)
    for ccy in sorted(needed):
        for symbol in (f"{ccy}{account_ccy}", f"{account_ccy}{ccy}", f"{ccy}USD", f"USD{ccy}"):
            if symbol in pairs:
                continue
            instrument = Instrument.objects.filter(symbol=symbol).first()
            if instrument is None:
                continue
            source = source_with_most_bars(instrument, timeframe, start, end)
            arrays = load_arrays(instrument, source, timeframe, start, end) if source else {}
            if arrays:
                pairs[symbol] = series_from_arrays(instrument, arrays)
    if account_ccy != "USD":  # crosses convert through USD
        for symbol in (f"{account_ccy}USD", f"USD{account_ccy}"):
            instrument = Instrument.objects.filter(symbol=symbol).first()
            if instrument and symbol not in pairs:
                source = source_with_most_bars(instrument, timeframe, start, end)
                arrays = load_arrays(instrument, source, timeframe, start, end) if source else {}
                if arrays:
                    pairs[symbol] = series_from_arrays(instrument, arrays)
    for s in series:
        for phase, strict in (("open", True), ("close", False)):
            quotes = {}
            for symbol, p in pairs.items():
                if p is s:
                    bid = _as_of(s.time_us, s.close, s.time_us, strict=strict)
                    spread = _as_of(s.time_us, s.spread, s.time_us, strict=strict)
                else:
                    bid = _as_of(p.time_us, p.close, s.time_us, strict=strict)
                    spread = _as_of(p.time_us, p.spread, s.time_us, strict=strict)
                quotes[symbol] = accounting.Quote(bid, bid + np.nan_to_num(spread))
            for which, ccy in (("quote", s.spec.quote), ("base", s.spec.base)):
                try:
                    rate = accounting.conversion_rate(ccy, account_ccy, quotes)
                except accounting.ConversionError:
                    raise NoData(
                        f"No bars to convert {ccy} into {account_ccy} in this period "
                        f"({timeframe}); import or simulate a {ccy}{account_ccy} or "
                        f"{ccy}USD/USD{account_ccy} history first.",
                        fields={"account_currency": [f"No {ccy}→{account_ccy} rates."]},
                    ) from None
                if isinstance(rate, np.ndarray):
                    rate = _backfill(rate)
                setattr(s, f"{which}_rate_{phase}", rate)


def _backfill(rate: np.ndarray) -> np.ndarray:
    """Bars before the first known rate take the first known rate."""
    known = np.flatnonzero(~np.isnan(rate))
    if len(known) == 0:
        raise NoData("No conversion rate in the period.")
    rate = rate.copy()
    rate[: known[0]] = rate[known[0]]
    # Gaps inside (a pair without a bar at that time) keep the last rate.
    missing = np.isnan(rate)
    if missing.any():
        index = np.where(~missing, np.arange(len(rate)), 0)
        np.maximum.accumulate(index, out=index)
        rate = rate[index]
    return rate


__all__ = ["Bar", "Series", "attach_rates", "load_series", "series_from_arrays"]

"""Bars: built live from ticks, inserted from imports, rolled up to larger timeframes.

Bars hold bid OHLC, the closing spread and the tick volume. Intraday bars are
aligned to UTC; D1 bars open at 17:00 New York and W1 bars at Sunday 17:00
New York (see ``apps.marketdata.calendar``).
"""

from __future__ import annotations

import numpy as np
from django.db import connection

from apps.marketdata import pgcopy
from apps.marketdata.batches import BarBatch
from apps.marketdata.calendar import TIMEFRAMES, bucket_end_us, bucket_start_us, datetime_to_us
from apps.marketdata.models import DataSource, Instrument

COLUMNS = "instrument_id, source_id, timeframe, time, open, high, low, close, spread, volume"

# SQL expression of the bucket (bar open time) of ``time`` for each timeframe.
_INTRADAY_SECONDS = {"M1": 60, "M5": 300, "M15": 900, "M30": 1800, "H1": 3600, "H4": 14400}
_NY = "'America/New_York'"


def bucket_sql(timeframe: str, column: str = "time") -> str:
    if timeframe in _INTRADAY_SECONDS:
        size = _INTRADAY_SECONDS[timeframe]
        return f"to_timestamp(floor(extract(epoch FROM {column}) / {size}) * {size})"
    unit = "day" if timeframe == "D1" else "week"
    return (
        f"((date_trunc('{unit}', ({column} AT TIME ZONE {_NY}) + interval '7 hours') "
        f"- interval '7 hours') AT TIME ZONE {_NY})"
    )


# Which larger timeframes tile exactly from a base timeframe.
def rollup_targets(base: str) -> list[str]:
    larger = TIMEFRAMES[TIMEFRAMES.index(base) + 1 :]
    if base == "H4":  # H4 (UTC-aligned) does not tile a day that rolls at 17:00 New York
        larger = [tf for tf in larger if tf not in ("D1", "W1")]
    return list(larger)


def _price(units: int, digits: int) -> str:
    return f"{units / pgcopy.SCALE_FACTOR:.{digits}f}"


def bar_message(instrument: Instrument, source: DataSource, row: tuple, closed: bool) -> dict:
    timeframe, time, open_, high, low, close, spread, volume = row
    digits = instrument.digits
    return {
        "type": "bar",
        "symbol": instrument.symbol,
        "source": source.name,
        "simulated": source.is_simulated,
        "timeframe": timeframe,
        "time": time.isoformat().replace("+00:00", "Z"),
        "ts": datetime_to_us(time) // 1000,
        "open": f"{open_:.{digits}f}",
        "high": f"{high:.{digits}f}",
        "low": f"{low:.{digits}f}",
        "close": f"{close:.{digits}f}",
        "spread": None if spread is None else f"{spread:.{digits}f}",
        "volume": volume,
        "closed": closed,
    }


def bars_apply_ticks(
    *,
    instrument: Instrument,
    source: DataSource,
    time_us: np.ndarray,
    bid_units: np.ndarray,
    ask_units: np.ndarray,
    last_stored_us: int | None,
) -> list[dict]:
    """Update the bars of every timeframe with newly stored ticks.

    Ticks after everything stored (a live feed) update bars incrementally and
    return the bar messages to publish (open bars, and bars that closed).
    Ticks that land in the past (an import filling a hole) rebuild the bars of
    the affected range from the stored ticks instead.
    """
    if not len(time_us):
        return []
    if last_stored_us is not None and int(time_us[0]) <= last_stored_us:
        bars_rebuild_from_ticks(
            instrument=instrument,
            source=source,
            start_us=int(time_us[0]),
            end_us=int(time_us[-1]),
        )
        return []
    params: list = []
    values: list[str] = []
    latest_bucket: dict[str, int] = {}
    for timeframe in TIMEFRAMES:
        starts = bucket_start_us(time_us, timeframe)
        first = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]])
        last = np.r_[first[1:], len(starts)] - 1
        highs = np.maximum.reduceat(bid_units, first)
        lows = np.minimum.reduceat(bid_units, first)
        counts = np.diff(np.r_[first, len(starts)])
        latest_bucket[timeframe] = int(starts[-1])
        for i, j, high, low, count in zip(first, last, highs, lows, counts, strict=True):
            values.append("(%s, %s, %s, to_timestamp(%s / 1e6), %s, %s, %s, %s, %s, %s)")
            params += [
                instrument.pk,
                source.pk,
                timeframe,
                int(starts[i]),
                _price(int(bid_units[i]), 8),
                _price(int(high), 8),
                _price(int(low), 8),
                _price(int(bid_units[j]), 8),
                _price(int(ask_units[j] - bid_units[j]), 8),
                int(count),
            ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO marketdata_bar ({COLUMNS}) VALUES {', '.join(values)} "
            "ON CONFLICT (instrument_id, source_id, timeframe, time) DO UPDATE SET "
            "high = GREATEST(marketdata_bar.high, EXCLUDED.high), "
            "low = LEAST(marketdata_bar.low, EXCLUDED.low), "
            "close = EXCLUDED.close, spread = EXCLUDED.spread, "
            "volume = marketdata_bar.volume + EXCLUDED.volume "
            "RETURNING timeframe, time, open, high, low, close, spread, volume",
            params,
        )
        rows = cursor.fetchall()
        messages = []
        for row in rows:
            bucket_us = datetime_to_us(row[1])
            messages.append(
                bar_message(instrument, source, row, closed=bucket_us < latest_bucket[row[0]])
            )
        if last_stored_us is not None:
            # The bars that were open before this batch and are now complete.
            previous = {
                tf: int(bucket_start_us(np.array([last_stored_us]), tf)[0]) for tf in TIMEFRAMES
            }
            finished = [tf for tf in TIMEFRAMES if previous[tf] < latest_bucket[tf]]
            if finished:
                clauses = " OR ".join(
                    "(timeframe = %s AND time = to_timestamp(%s / 1e6))" for _ in finished
                )
                args = [instrument.pk, source.pk]
                for tf in finished:
                    args += [tf, previous[tf]]
                cursor.execute(
                    "SELECT timeframe, time, open, high, low, close, spread, volume "
                    "FROM marketdata_bar WHERE instrument_id = %s AND source_id = %s "
                    f"AND ({clauses})",
                    args,
                )
                seen = {(m["timeframe"], m["ts"]) for m in messages}
                for row in cursor.fetchall():
                    message = bar_message(instrument, source, row, closed=True)
                    if (message["timeframe"], message["ts"]) not in seen:
                        messages.insert(0, message)
    return messages


def _range_sql(
    instrument: Instrument, source: DataSource, timeframe: str, start_us: int, end_us: int
):
    lo = int(bucket_start_us(np.array([start_us]), timeframe)[0])
    hi_start = bucket_start_us(np.array([end_us]), timeframe)
    hi = int(bucket_end_us(hi_start, timeframe)[0])
    return lo, hi


def bars_rebuild_from_ticks(
    *, instrument: Instrument, source: DataSource, start_us: int, end_us: int
) -> None:
    """Recompute M1 bars from the stored ticks around [start, end], then roll up."""
    lo, hi = _range_sql(instrument, source, "M1", start_us, end_us)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO marketdata_bar ({COLUMNS}) "
            f"SELECT instrument_id, source_id, 'M1', {bucket_sql('M1')} AS bucket, "
            "(array_agg(bid ORDER BY time))[1], max(bid), min(bid), "
            "(array_agg(bid ORDER BY time DESC))[1], "
            "(array_agg(ask - bid ORDER BY time DESC))[1], count(*) "
            "FROM marketdata_tick WHERE instrument_id = %s AND source_id = %s "
            "AND time >= to_timestamp(%s / 1e6) AND time < to_timestamp(%s / 1e6) "
            "GROUP BY instrument_id, source_id, bucket "
            "ON CONFLICT (instrument_id, source_id, timeframe, time) DO UPDATE SET "
            "open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, "
            "close = EXCLUDED.close, spread = EXCLUDED.spread, volume = EXCLUDED.volume",
            [instrument.pk, source.pk, lo, hi],
        )
    bars_rollup(
        instrument=instrument, source=source, base_timeframe="M1", start_us=start_us, end_us=end_us
    )


# The timeframe each one is built from: every step aggregates few rows.
ROLLUP_PARENT = {
    "M5": "M1",
    "M15": "M5",
    "M30": "M15",
    "H1": "M30",
    "H4": "H1",
    "D1": "H1",
    "W1": "D1",
}


def bars_rollup(
    *, instrument: Instrument, source: DataSource, base_timeframe: str, start_us: int, end_us: int
) -> None:
    """Rebuild every larger timeframe from ``base_timeframe`` bars around [start, end].

    Each timeframe is aggregated from the next smaller one that tiles it
    (M1 → M5 → M15 → M30 → H1 → H4 and D1 → W1), so a rollup reads the base
    bars once, not once per timeframe.
    """
    built = {base_timeframe}
    with connection.cursor() as cursor:
        for timeframe in rollup_targets(base_timeframe):
            parent = ROLLUP_PARENT[timeframe]
            if parent not in built:
                parent = base_timeframe
            built.add(timeframe)
            lo, hi = _range_sql(instrument, source, timeframe, start_us, end_us)
            cursor.execute(
                f"INSERT INTO marketdata_bar ({COLUMNS}) "
                f"SELECT instrument_id, source_id, %s, {bucket_sql(timeframe)} AS bucket, "
                "(array_agg(open ORDER BY time))[1], max(high), min(low), "
                "(array_agg(close ORDER BY time DESC))[1], "
                "(array_agg(spread ORDER BY time DESC))[1], sum(volume) "
                "FROM marketdata_bar WHERE instrument_id = %s AND source_id = %s "
                "AND timeframe = %s "
                "AND time >= to_timestamp(%s / 1e6) AND time < to_timestamp(%s / 1e6) "
                "GROUP BY instrument_id, source_id, bucket "
                "ON CONFLICT (instrument_id, source_id, timeframe, time) DO UPDATE SET "
                "open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, "
                "close = EXCLUDED.close, spread = EXCLUDED.spread, volume = EXCLUDED.volume",
                [timeframe, instrument.pk, source.pk, parent, lo, hi],
            )


def _stored_bar_times(
    instrument: Instrument, source: DataSource, timeframe: str, start_us: int, end_us: int
) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (extract(epoch FROM time) * 1000000)::bigint FROM marketdata_bar "
            "WHERE instrument_id = %s AND source_id = %s AND timeframe = %s "
            "AND time BETWEEN to_timestamp(%s / 1e6) AND to_timestamp(%s / 1e6)",
            [instrument.pk, source.pk, timeframe, start_us, end_us],
        )
        return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)


def bars_insert(
    *, instrument: Instrument, source: DataSource, timeframe: str, batch: BarBatch
) -> int:
    """Insert the bars (sorted by time) that are not stored yet with one binary
    COPY; returns how many were new. Callers hold the (instrument, source) lock."""
    if not len(batch):
        return 0
    stored = _stored_bar_times(
        instrument, source, timeframe, int(batch.time_us[0]), int(batch.time_us[-1])
    )
    fresh = batch.take(np.flatnonzero(~np.isin(batch.time_us, stored)))
    if not len(fresh):
        return 0
    digits = instrument.digits
    count = len(fresh)
    spread = fresh.spread if fresh.spread is not None else np.full(count, np.nan)
    volume = fresh.volume if fresh.volume is not None else np.zeros(count)
    spread_units = np.where(
        np.isnan(spread), -1, pgcopy.to_units(np.nan_to_num(spread), digits)
    ).astype(np.int64)
    payload = pgcopy.encode(
        count,
        [
            pgcopy.Column("inst", "int8", instrument.pk),
            pgcopy.Column("src", "int8", source.pk),
            pgcopy.Column("tf", "text", timeframe.encode()),
            pgcopy.Column("time", "time", fresh.time_us),
            pgcopy.Column("open", "numeric", pgcopy.to_units(fresh.open, digits)),
            pgcopy.Column("high", "numeric", pgcopy.to_units(fresh.high, digits)),
            pgcopy.Column("low", "numeric", pgcopy.to_units(fresh.low, digits)),
            pgcopy.Column("close", "numeric", pgcopy.to_units(fresh.close, digits)),
            pgcopy.Column("volume", "int8", np.nan_to_num(volume).astype(np.int64)),
            pgcopy.Column("spread", "numeric", spread_units, nullable=True),
        ],
    )
    with connection.cursor() as cursor:
        pgcopy.copy(
            cursor,
            "COPY marketdata_bar (instrument_id, source_id, timeframe, time, open, high, low, "
            "close, volume, spread) FROM STDIN (FORMAT BINARY)",
            payload,
        )
    return count

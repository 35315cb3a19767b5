"""Reads of the market data domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.marketdata import live
from apps.marketdata.calendar import (
    TIMEFRAME_US,
    WeeklySession,
    bucket_end_us,
    bucket_start_us,
    datetime_to_us,
)
from apps.marketdata.errors import UnknownSymbol
from apps.marketdata.models import (
    Bar,
    DataSource,
    IngestionRun,
    Instrument,
    MarketHoliday,
    RejectedRow,
)

US = 1_000_000


def instrument_list(*, enabled: bool | None = None) -> QuerySet[Instrument]:
    qs = Instrument.objects.all()
    return qs if enabled is None else qs.filter(enabled=enabled)


def instruments_by_symbols(symbols: list[str], field: str = "symbols") -> list[Instrument]:
    wanted = [s.strip().upper() for s in symbols if s.strip()]
    found = {i.symbol: i for i in Instrument.objects.filter(symbol__in=wanted, enabled=True)}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise UnknownSymbol(missing, field=field)
    return [found[s] for s in wanted]


def instrument_get(symbol: str, field: str = "symbol") -> Instrument:
    return instruments_by_symbols([symbol], field=field)[0]


def quotes(instruments: list[Instrument]) -> list[dict]:
    """Latest quotes from Redis (None values for symbols without one yet)."""
    cached = live.quotes_get([i.symbol for i in instruments])
    out = []
    for instrument, quote in zip(instruments, cached, strict=True):
        if quote is None:
            out.append(
                {
                    "symbol": instrument.symbol,
                    "bid": None,
                    "ask": None,
                    "time": None,
                    "source": None,
                    "simulated": None,
                }
            )
        else:
            out.append(
                {key: quote[key] for key in ("symbol", "bid", "ask", "time", "source", "simulated")}
            )
    return out


def default_source(instrument: Instrument, timeframe: str | None = None) -> DataSource | None:
    """The source with the most recent bars (or ticks) of an instrument."""
    bars = Bar.objects.filter(instrument=instrument)
    if timeframe:
        bars = bars.filter(timeframe=timeframe)
    latest = bars.order_by("-time").values_list("source_id", flat=True).first()
    if latest is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT source_id FROM marketdata_tick WHERE instrument_id = %s "
                "ORDER BY time DESC LIMIT 1",
                [instrument.pk],
            )
            row = cursor.fetchone()
            latest = row[0] if row else None
    return None if latest is None else DataSource.objects.get(pk=latest)


def source_with_most_bars(
    instrument: Instrument, timeframe: str, start: datetime, end: datetime
) -> DataSource | None:
    """The source with the most ``timeframe`` bars of ``instrument`` in
    [start, end) (a backtest's history, rather than a live feed's last hours)."""
    row = (
        Bar.objects.filter(
            instrument=instrument, timeframe=timeframe, time__gte=start, time__lt=end
        )
        .values("source_id")
        .annotate(n=Count("id"))
        .order_by("-n", "source_id")
        .first()
    )
    return None if row is None else DataSource.objects.get(pk=row["source_id"])


def bars(
    *,
    instrument: Instrument,
    source: DataSource,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Bar]:
    """Bars in [start, end) oldest first; without ``start``, the latest ``limit``."""
    qs = Bar.objects.filter(instrument=instrument, source=source, timeframe=timeframe)
    if end is not None:
        qs = qs.filter(time__lt=end)
    if start is None:
        return list(qs.order_by("-time")[:limit])[::-1]
    return list(qs.filter(time__gte=start).order_by("time")[:limit])


def _ticks_sql(
    instrument: Instrument, source: DataSource, start: datetime | None, end: datetime | None
) -> tuple[str, list]:
    where, params = ["instrument_id = %s", "source_id = %s"], [instrument.pk, source.pk]
    if start is not None:
        where.append("time >= %s")
        params.append(start)
    if end is not None:
        where.append("time < %s")
        params.append(end)
    return f"SELECT time, bid, ask, volume FROM marketdata_tick WHERE {' AND '.join(where)}", params


def ticks_rows(
    *,
    instrument: Instrument,
    source: DataSource,
    start: datetime | None,
    end: datetime | None,
    limit: int | None,
) -> list[tuple]:
    """(time, bid, ask, volume) rows ordered by time; without ``start`` the latest."""
    sql, params = _ticks_sql(instrument, source, start, end)
    newest_first = start is None
    sql += f" ORDER BY time {'DESC' if newest_first else 'ASC'}"
    if limit:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return rows[::-1] if newest_first else rows


def iter_ticks(
    *, instrument: Instrument, source: DataSource, start: datetime | None, end: datetime | None
) -> Iterator[tuple]:
    """Every tick in a range, streamed with a server-side cursor (for exports)."""
    sql, params = _ticks_sql(instrument, source, start, end)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY time", params)
        while rows := cursor.fetchmany(5000):
            yield from rows


def gaps(
    *, instrument: Instrument, source: DataSource, timeframe: str, start: datetime, end: datetime
) -> list[dict]:
    """Periods of open market in [start, end) with no bar: reported, never invented."""
    start_us, end_us = datetime_to_us(start), datetime_to_us(end)
    if timeframe in ("D1", "W1"):
        step = TIMEFRAME_US["H1"]
    else:
        step = TIMEFRAME_US[timeframe]
    grid = np.arange(start_us - start_us % step, end_us, step, dtype=np.int64)
    expected = np.unique(bucket_start_us(grid, timeframe))
    expected = expected[(expected >= start_us) & (expected < end_us)]
    holidays = frozenset(
        MarketHoliday.objects.filter(_holiday_q(instrument)).values_list("date", flat=True)
    )
    session = WeeklySession(
        instrument.session_timezone, instrument.week_open, instrument.week_close
    )
    expected = expected[session.is_open(expected, holidays)]
    present = np.array(
        [
            datetime_to_us(t)
            for t in Bar.objects.filter(
                instrument=instrument,
                source=source,
                timeframe=timeframe,
                time__gte=start,
                time__lt=end,
            ).values_list("time", flat=True)
        ],
        dtype=np.int64,
    )
    missing = expected[~np.isin(expected, present)]
    if not len(missing):
        return []
    ends = bucket_end_us(missing, timeframe)
    out: list[dict] = []
    run_start, run_end, count = int(missing[0]), int(ends[0]), 1
    position = {int(t): i for i, t in enumerate(expected)}
    for i in range(1, len(missing)):
        contiguous = position[int(missing[i])] == position[int(missing[i - 1])] + 1
        if contiguous:
            run_end, count = int(ends[i]), count + 1
        else:
            out.append(_gap(run_start, run_end, count))
            run_start, run_end, count = int(missing[i]), int(ends[i]), 1
    out.append(_gap(run_start, run_end, count))
    return out


def _holiday_q(instrument: Instrument) -> Q:
    return Q(instruments__isnull=True) | Q(instruments=instrument)


def _gap(start_us: int, end_us: int, count: int) -> dict:
    from apps.marketdata.services.ingest import to_datetime

    return {"start": to_datetime(start_us), "end": to_datetime(end_us), "missing_bars": count}


def source_list() -> QuerySet[DataSource]:
    return DataSource.objects.prefetch_related("instruments")


def source_lag_seconds(source: DataSource) -> float | None:
    if source.last_tick_at is None:
        return None
    return max(0.0, (timezone.now() - source.last_tick_at).total_seconds())


def import_runs(*, user) -> QuerySet[IngestionRun]:
    qs = IngestionRun.objects.filter(kind=IngestionRun.Kind.IMPORT).select_related(
        "instrument", "source", "created_by"
    )
    if not user.has_perm("accounts.operate"):
        qs = qs.filter(created_by=user)
    return qs


def rejected_counts(*, run: IngestionRun) -> dict[str, int]:
    rows = run.rejected_rows.values("reason").annotate(n=Count("id")).order_by("-n", "reason")
    return {row["reason"]: row["n"] for row in rows}


def rejected_rows(*, run: IngestionRun, reason: str | None = None) -> QuerySet[RejectedRow]:
    qs = RejectedRow.objects.filter(run=run)
    return qs.filter(reason=reason) if reason else qs


def open_bars(*, instrument: Instrument, timeframes: list[str]) -> list[Bar]:
    """The latest bar of each timeframe (for WebSocket snapshots)."""
    source = default_source(instrument)
    if source is None:
        return []
    out = []
    for timeframe in timeframes:
        bar = (
            Bar.objects.filter(instrument=instrument, source=source, timeframe=timeframe)
            .order_by("-time")
            .first()
        )
        if bar is not None:
            out.append(bar)
    return out

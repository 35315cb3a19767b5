"""The ingestion pipeline: validate → deduplicate → COPY → bars → quote → publish.

``ticks_ingest`` and ``bars_ingest`` take a parsed columnar batch for one
instrument and source. Rows that fail validation are stored as
``RejectedRow`` with their reason and counted on the run; the valid rows of
the same batch are stored regardless, so bad rows never cost good data.
Uniqueness on (instrument, source, time) makes replays and re-imports
idempotent: rows already stored are counted as duplicates.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from apps.marketdata import live, pgcopy
from apps.marketdata.batches import BarBatch, RowError, TickBatch
from apps.marketdata.calendar import WeeklySession, us_to_datetime
from apps.marketdata.models import DataSource, IngestionRun, Instrument, MarketHoliday, RejectedRow
from apps.marketdata.services import bars as bar_services
from apps.marketdata.services.partitions import ensure_tick_partitions
from apps.marketdata.signals import bars_closed, ticks_stored
from apps.marketdata.validation import REASON_MESSAGES, Rules, validate_bars, validate_ticks

US = 1_000_000


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_us: int | None = None
    last_us: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        for code, count in other.reasons.items():
            self.reasons[code] = self.reasons.get(code, 0) + count
        if other.first_us is not None:
            self.first_us = (
                other.first_us if self.first_us is None else min(self.first_us, other.first_us)
            )
        if other.last_us is not None:
            self.last_us = (
                other.last_us if self.last_us is None else max(self.last_us, other.last_us)
            )


def now_us() -> int:
    return _time.time_ns() // 1000


def to_datetime(us: int) -> datetime:
    return us_to_datetime(us)


def instrument_rules(instrument: Instrument, source: DataSource | None = None) -> Rules:
    holidays = frozenset(
        MarketHoliday.objects.filter(Q(instruments__isnull=True) | Q(instruments=instrument))
        .values_list("date", flat=True)
        .distinct()
    )
    return Rules(
        max_spread=float(instrument.max_spread_pips * instrument.pip_size),
        session=WeeklySession(
            tz=instrument.session_timezone, open=instrument.week_open, close=instrument.week_close
        ),
        holidays=holidays,
        max_future_us=settings.MARKETDATA_MAX_FUTURE_SECONDS * US,
        spike_sigmas=settings.MARKETDATA_SPIKE_SIGMAS,
        spike_window=settings.MARKETDATA_SPIKE_WINDOW,
        min_move=float(instrument.point) / 10_000,
        # A simulated source may trade around the clock (the demo at weekends).
        check_session=not (
            source is not None and source.is_simulated and source.config.get("always_open")
        ),
    )


def _rejected_rows(
    run: IngestionRun | None, errors: list[RowError], batch, reasons: np.ndarray, describe
) -> list[RejectedRow]:
    if run is None:
        return []
    rows = [
        RejectedRow(
            run=run, line=e.line, raw=e.raw[:2000], reason=e.reason[:32], message=e.message[:300]
        )
        for e in errors
    ]
    for index in np.flatnonzero(reasons != ""):
        code = reasons[index]
        line = None if batch.line is None else int(batch.line[index])
        rows.append(
            RejectedRow(
                run=run,
                line=line,
                time=to_datetime(int(batch.time_us[index])),
                raw=describe(index),
                reason=code,
                message=REASON_MESSAGES.get(code, ""),
            )
        )
    return rows


def _count_reasons(errors: list[RowError], reasons: np.ndarray) -> dict[str, int]:
    counts: dict[str, int] = {}
    for error in errors:
        counts[error.reason] = counts.get(error.reason, 0) + 1
    codes, numbers = np.unique(reasons[reasons != ""].astype(str), return_counts=True)
    for code, number in zip(codes, numbers, strict=True):
        counts[str(code)] = counts.get(str(code), 0) + int(number)
    return counts


def _sorted_unique(batch):
    """The batch sorted by time keeping the first row of each timestamp, and
    how many rows repeated a timestamp (duplicates within the batch)."""
    if len(batch):
        batch = batch.take(np.argsort(batch.time_us, kind="stable"))
    keep = np.ones(len(batch), dtype=bool)
    keep[1:] = batch.time_us[1:] != batch.time_us[:-1]
    return batch.take(keep), int((~keep).sum())


def _lock(instrument: Instrument, source: DataSource, kind: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [kind * 1_000_000 + instrument.pk, source.pk],
        )


def _update_run(run: IngestionRun | None, result: IngestResult) -> None:
    if run is None:
        return
    changes = dict(
        accepted=F("accepted") + result.accepted,
        duplicates=F("duplicates") + result.duplicates,
        rejected=F("rejected") + result.rejected,
    )
    IngestionRun.objects.filter(pk=run.pk).update(**changes)
    if result.first_us is not None:
        first, last = to_datetime(result.first_us), to_datetime(result.last_us)
        IngestionRun.objects.filter(pk=run.pk, first_time__isnull=True).update(first_time=first)
        IngestionRun.objects.filter(pk=run.pk, first_time__gt=first).update(first_time=first)
        IngestionRun.objects.filter(pk=run.pk, last_time__isnull=True).update(last_time=last)
        IngestionRun.objects.filter(pk=run.pk, last_time__lt=last).update(last_time=last)


def _stored_tick_times(instrument: Instrument, source: DataSource, start_us: int, end_us: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (extract(epoch FROM time) * 1000000)::bigint FROM marketdata_tick "
            "WHERE instrument_id = %s AND source_id = %s AND time BETWEEN %s AND %s",
            [instrument.pk, source.pk, to_datetime(start_us), to_datetime(end_us)],
        )
        return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)


def _context_mids(instrument: Instrument, source: DataSource, before_us: int, count: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bid, ask FROM marketdata_tick WHERE instrument_id = %s AND source_id = %s "
            "AND time < %s ORDER BY time DESC LIMIT %s",
            [instrument.pk, source.pk, to_datetime(before_us), count],
        )
        rows = cursor.fetchall()
    return np.array([(float(b) + float(a)) / 2 for b, a in reversed(rows)], dtype=float)


def _last_tick_us(instrument: Instrument, source: DataSource) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (extract(epoch FROM max(time)) * 1000000)::bigint FROM marketdata_tick "
            "WHERE instrument_id = %s AND source_id = %s",
            [instrument.pk, source.pk],
        )
        return cursor.fetchone()[0]


def format_price(units: int, digits: int) -> str:
    return f"{units / pgcopy.SCALE_FACTOR:.{digits}f}"


def tick_message(instrument: Instrument, source: DataSource, t_us: int, bid: int, ask: int) -> dict:
    return {
        "type": "tick",
        "symbol": instrument.symbol,
        "bid": format_price(bid, instrument.digits),
        "ask": format_price(ask, instrument.digits),
        "time": to_datetime(t_us).isoformat().replace("+00:00", "Z"),
        "ts": t_us // 1000,
        "source": source.name,
        "simulated": source.is_simulated,
    }


def ticks_ingest(
    *,
    instrument: Instrument,
    source: DataSource,
    batch: TickBatch,
    run: IngestionRun | None = None,
    publish: bool = True,
    republish_duplicates: bool = False,
    rules: Rules | None = None,
    now: int | None = None,
) -> IngestResult:
    """Validate and store a batch of ticks for one instrument and source."""
    result = IngestResult()
    errors = list(batch.errors)
    batch, in_batch_duplicates = _sorted_unique(batch)
    rules = rules or instrument_rules(instrument, source)
    with transaction.atomic():
        _lock(instrument, source, kind=1)
        context = (
            _context_mids(instrument, source, int(batch.time_us[0]), rules.spike_window)
            if len(batch)
            else None
        )
        reasons = validate_ticks(batch, rules, now_us=now or now_us(), context_mid=context)
        valid = batch.take(reasons == "")
        bid_units = pgcopy.to_units(valid.bid, instrument.digits)
        ask_units = pgcopy.to_units(valid.ask, instrument.digits)
        last_stored = _last_tick_us(instrument, source)
        if len(valid):
            stored = _stored_tick_times(
                instrument, source, int(valid.time_us[0]), int(valid.time_us[-1])
            )
            new = ~np.isin(valid.time_us, stored, assume_unique=True)
        else:
            new = np.zeros(0, dtype=bool)
        result.duplicates = in_batch_duplicates + int((~new).sum())
        fresh = valid.take(new)
        fresh_bid, fresh_ask = bid_units[new], ask_units[new]
        if len(fresh):
            volume = None
            if fresh.volume is not None:
                volume = np.where(
                    np.isnan(fresh.volume),
                    -1,
                    np.rint(np.nan_to_num(fresh.volume) * 10_000) * 10_000,
                ).astype(np.int64)
            ensure_tick_partitions(
                to_datetime(int(fresh.time_us[0])), to_datetime(int(fresh.time_us[-1]))
            )
            payload = pgcopy.encode_ticks(
                instrument_id=instrument.pk,
                source_id=source.pk,
                time_us=fresh.time_us,
                bid_units=fresh_bid,
                ask_units=fresh_ask,
                volume_units=volume,
            )
            with connection.cursor() as cursor:
                pgcopy.copy_ticks(cursor, payload)
            result.accepted = len(fresh)
            result.first_us, result.last_us = int(fresh.time_us[0]), int(fresh.time_us[-1])
        rejected = _rejected_rows(
            run,
            errors,
            batch,
            reasons,
            lambda i: f"bid={float(batch.bid[i])!r} ask={float(batch.ask[i])!r}",
        )
        RejectedRow.objects.bulk_create(rejected, batch_size=5000)
        result.reasons = _count_reasons(errors, reasons)
        result.rejected = sum(result.reasons.values())
        _update_run(run, result)
        bar_messages = bar_services.bars_apply_ticks(
            instrument=instrument,
            source=source,
            time_us=fresh.time_us,
            bid_units=fresh_bid,
            ask_units=fresh_ask,
            last_stored_us=last_stored,
        )
        if result.accepted and source.is_live:
            DataSource.objects.filter(pk=source.pk).update(last_tick_at=to_datetime(result.last_us))
            stored = {
                "instrument_id": instrument.pk,
                "source_id": source.pk,
                "first_us": result.first_us,
                "last_us": result.last_us,
            }
            transaction.on_commit(lambda: ticks_stored.send(sender=DataSource, **stored))
            closed = [(m["timeframe"], m["ts"] * 1000) for m in bar_messages if m["closed"]]
            if closed:
                transaction.on_commit(
                    lambda: bars_closed.send(
                        sender=DataSource,
                        instrument_id=instrument.pk,
                        source_id=source.pk,
                        bars=closed,
                    )
                )
        if publish:
            to_publish = (
                (valid.time_us, bid_units, ask_units)
                if republish_duplicates
                else (fresh.time_us, fresh_bid, fresh_ask)
            )
            ticks = [
                tick_message(instrument, source, int(t), int(b), int(a))
                for t, b, a in zip(*to_publish, strict=True)
            ]
            if ticks or bar_messages:
                latest = ticks[-1] if ticks else None
                transaction.on_commit(lambda: live.publish(ticks, bar_messages, latest))
    return result


def bars_ingest(
    *,
    instrument: Instrument,
    source: DataSource,
    timeframe: str,
    batch: BarBatch,
    run: IngestionRun | None = None,
    rules: Rules | None = None,
    now: int | None = None,
) -> IngestResult:
    """Validate and store imported bars, then roll them up to larger timeframes."""
    result = IngestResult()
    errors = list(batch.errors)
    batch, in_batch_duplicates = _sorted_unique(batch)
    rules = rules or instrument_rules(instrument, source)
    with transaction.atomic():
        _lock(instrument, source, kind=2)
        reasons = validate_bars(batch, rules, now_us=now or now_us())
        valid = batch.take(reasons == "")
        inserted = bar_services.bars_insert(
            instrument=instrument, source=source, timeframe=timeframe, batch=valid
        )
        result.accepted = inserted
        result.duplicates = in_batch_duplicates + len(valid) - inserted
        if len(valid):
            result.first_us, result.last_us = int(valid.time_us[0]), int(valid.time_us[-1])
            bar_services.bars_rollup(
                instrument=instrument,
                source=source,
                base_timeframe=timeframe,
                start_us=result.first_us,
                end_us=result.last_us,
            )
        rejected = _rejected_rows(
            run,
            errors,
            batch,
            reasons,
            lambda i: (
                f"open={float(batch.open[i])!r} high={float(batch.high[i])!r} "
                f"low={float(batch.low[i])!r} close={float(batch.close[i])!r}"
            ),
        )
        RejectedRow.objects.bulk_create(rejected, batch_size=5000)
        result.reasons = _count_reasons(errors, reasons)
        result.rejected = sum(result.reasons.values())
        _update_run(run, result)
    return result

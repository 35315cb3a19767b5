"""Monthly partitions of ``marketdata_tick``, created on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

_known: set[str] = set()
_LOCK_KEY = 7_310_001  # advisory lock serialising partition DDL


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def partition_name(year: int, month: int) -> str:
    return f"marketdata_tick_p{year:04d}_{month:02d}"


def ensure_tick_partitions(start: datetime, end: datetime) -> list[str]:
    """Create the monthly partitions covering [start, end]; return their names.

    Runs in the caller's transaction; concurrent callers are serialised by an
    advisory lock so two workers never race on the same DDL.
    """
    year, month = start.year, start.month
    names = []
    while (year, month) <= (end.year, end.month):
        names.append((year, month))
        year, month = _next_month(year, month)
    missing = [ym for ym in names if partition_name(*ym) not in _known]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            for year, month in missing:
                name = partition_name(year, month)
                upper = _month_start(*_next_month(year, month))
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF marketdata_tick "
                    "FOR VALUES FROM (%s) TO (%s)",
                    [_month_start(year, month), upper],
                )
                connection.on_commit(lambda name=name: _known.add(name))
    return [partition_name(*ym) for ym in names]


def tick_partitions() -> list[str]:
    """Names of the existing tick partitions, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'marketdata_tick' "
            "ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def forget_known_partitions() -> None:
    """For tests that drop and recreate the database."""
    _known.clear()

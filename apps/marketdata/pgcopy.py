"""PostgreSQL binary COPY, encoded with numpy (no per-row Python).

Prices travel as exact integers of 1e-8 (the columns' scale) and are written
as ``numeric`` in PostgreSQL's binary format: ndigits=4 base-10000 digits
(two for the integer part, two for the eight decimals), weight=1, dscale=8.
The server normalises leading and trailing zero digits on receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE = 8
SCALE_FACTOR = 10**SCALE
MAX_PRICE_UNITS = 10**16  # < 1e8 in price: two base-10000 integer digits
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in Unix microseconds
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)

_NUMERIC_PARTS = [
    ("len", ">i4"),
    ("ndigits", ">i2"),
    ("weight", ">i2"),
    ("sign", ">i2"),
    ("dscale", ">i2"),
    ("digits", ">i2", (4,)),
]


@dataclass(frozen=True)
class Column:
    """One COPY column: ``kind`` is int8, time (µs since the Unix epoch),
    numeric (units of 1e-8; -1 = NULL when ``nullable``) or text (bytes)."""

    name: str
    kind: str
    values: object
    nullable: bool = False


def to_units(values: np.ndarray, digits: int) -> np.ndarray:
    """Float prices → exact int64 multiples of 1e-8, rounded to ``digits``."""
    points = np.rint(values * 10.0**digits).astype(np.int64)
    return points * 10 ** (SCALE - digits)


def _fields(column: Column, null: bool) -> list:
    if null:
        return [(f"{column.name}_len", ">i4")]
    if column.kind in ("int8", "time"):
        return [(f"{column.name}_len", ">i4"), (column.name, ">i8")]
    if column.kind == "numeric":
        return [(f"{column.name}_{part}", *rest) for part, *rest in _NUMERIC_PARTS]
    if column.kind == "text":
        return [(f"{column.name}_len", ">i4"), (column.name, f"S{len(column.values)}")]
    raise ValueError(column.kind)


def _fill(rows: np.ndarray, column: Column, mask: np.ndarray, null: bool) -> None:
    name = column.name
    if null:
        rows[f"{name}_len"] = -1
        return
    values = column.values
    if column.kind == "text":
        rows[f"{name}_len"] = len(values)
        rows[name] = values
        return
    selected = values[mask] if isinstance(values, np.ndarray) else values
    if column.kind == "int8":
        rows[f"{name}_len"] = 8
        rows[name] = selected
    elif column.kind == "time":
        rows[f"{name}_len"] = 8
        rows[name] = np.asarray(selected) - PG_EPOCH_US
    else:
        units = np.asarray(selected, dtype=np.int64)
        if units.size and (units.min() < 0 or units.max() >= MAX_PRICE_UNITS):
            raise ValueError(f"{name} out of the range the table stores")
        integer, fraction = np.divmod(units, SCALE_FACTOR)
        rows[f"{name}_len"] = 16
        rows[f"{name}_ndigits"] = 4
        rows[f"{name}_weight"] = 1
        rows[f"{name}_sign"] = 0
        rows[f"{name}_dscale"] = SCALE
        digits = rows[f"{name}_digits"]
        digits[:, 0], digits[:, 1] = np.divmod(integer, 10_000)
        digits[:, 2], digits[:, 3] = np.divmod(fraction, 10_000)


def encode(count: int, columns: list[Column]) -> bytes:
    """The COPY BINARY payload of ``count`` rows (at most one nullable column)."""
    nullable = [c for c in columns if c.nullable]
    if len(nullable) > 1:
        raise ValueError("at most one nullable column")
    groups = [(np.ones(count, dtype=bool), None)]
    if nullable:
        is_null = np.asarray(nullable[0].values) < 0
        groups = [(~is_null, False), (is_null, True)]
    parts = [HEADER]
    for mask, null_group in groups:
        rows_count = int(mask.sum())
        if not rows_count:
            continue
        dtype = np.dtype(
            [("nfields", ">i2")]
            + [f for c in columns for f in _fields(c, bool(null_group) and c.nullable)]
        )
        rows = np.zeros(rows_count, dtype=dtype)
        rows["nfields"] = len(columns)
        for column in columns:
            _fill(rows, column, mask, bool(null_group) and column.nullable)
        parts.append(rows.tobytes())
    parts.append(TRAILER)
    return b"".join(parts)


def encode_ticks(
    *,
    instrument_id: int,
    source_id: int,
    time_us: np.ndarray,
    bid_units: np.ndarray,
    ask_units: np.ndarray,
    volume_units: np.ndarray | None,
) -> bytes:
    """The payload for (instrument_id, source_id, time, bid, ask, volume); volume -1 = NULL."""
    if volume_units is None:
        volume_units = np.full(len(time_us), -1, dtype=np.int64)
    return encode(
        len(time_us),
        [
            Column("inst", "int8", instrument_id),
            Column("src", "int8", source_id),
            Column("time", "time", time_us),
            Column("bid", "numeric", bid_units),
            Column("ask", "numeric", ask_units),
            Column("vol", "numeric", volume_units, nullable=True),
        ],
    )


COPY_TICKS_SQL = (
    "COPY marketdata_tick (instrument_id, source_id, time, bid, ask, volume) "
    "FROM STDIN (FORMAT BINARY)"
)


def copy(cursor, sql: str, payload: bytes) -> None:
    """Write a COPY payload with psycopg 3 (a raw or Django cursor)."""
    raw = getattr(cursor, "cursor", cursor)
    with raw.copy(sql) as stream:
        stream.write(payload)


def copy_ticks(cursor, payload: bytes) -> None:
    copy(cursor, COPY_TICKS_SQL, payload)

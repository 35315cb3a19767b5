"""PostgreSQL binary COPY of tick rows, encoded with numpy (no per-row Python).

Prices travel as exact integers of 1e-8 (the columns' scale) and are written
as ``numeric`` in PostgreSQL's binary format: ndigits=4 base-10000 digits
(two for the integer part, two for the eight decimals), weight=1, dscale=8.
The server normalises leading and trailing zero digits on receipt.
"""

from __future__ import annotations

import numpy as np

SCALE = 8
SCALE_FACTOR = 10**SCALE
MAX_PRICE_UNITS = 10**16  # < 1e8 in price: two base-10000 integer digits
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in Unix microseconds
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)

_NUMERIC = [
    ("len", ">i4"),
    ("ndigits", ">i2"),
    ("weight", ">i2"),
    ("sign", ">i2"),
    ("dscale", ">i2"),
    ("digits", ">i2", (4,)),
]


def _row_dtype(with_volume: bool) -> np.dtype:
    fields = [
        ("nfields", ">i2"),
        ("inst_len", ">i4"),
        ("inst", ">i8"),
        ("src_len", ">i4"),
        ("src", ">i8"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        *[(f"bid_{name}", *rest) for name, *rest in _NUMERIC],
        *[(f"ask_{name}", *rest) for name, *rest in _NUMERIC],
    ]
    if with_volume:
        fields += [(f"vol_{name}", *rest) for name, *rest in _NUMERIC]
    else:
        fields += [("vol_len", ">i4")]
    return np.dtype(fields)


_DTYPE_VOLUME = _row_dtype(True)
_DTYPE_NO_VOLUME = _row_dtype(False)


def to_units(values: np.ndarray, digits: int) -> np.ndarray:
    """Float prices → exact int64 multiples of 1e-8, rounded to ``digits``."""
    points = np.rint(values * 10.0**digits).astype(np.int64)
    return points * 10 ** (SCALE - digits)


def _put_numeric(rows: np.ndarray, prefix: str, units: np.ndarray) -> None:
    if units.size and (units.min() < 0 or units.max() >= MAX_PRICE_UNITS):
        raise ValueError("price out of the range the tick table stores")
    integer, fraction = np.divmod(units, SCALE_FACTOR)
    rows[f"{prefix}_len"] = 16
    rows[f"{prefix}_ndigits"] = 4
    rows[f"{prefix}_weight"] = 1
    rows[f"{prefix}_sign"] = 0
    rows[f"{prefix}_dscale"] = SCALE
    digits = rows[f"{prefix}_digits"]
    digits[:, 0], digits[:, 1] = np.divmod(integer, 10_000)
    digits[:, 2], digits[:, 3] = np.divmod(fraction, 10_000)


def encode_ticks(
    *,
    instrument_id: int,
    source_id: int,
    time_us: np.ndarray,
    bid_units: np.ndarray,
    ask_units: np.ndarray,
    volume_units: np.ndarray | None,
) -> bytes:
    """The COPY BINARY payload for (instrument_id, source_id, time, bid, ask, volume).

    ``volume_units`` uses -1 for NULL.
    """
    parts = [HEADER]
    if volume_units is None:
        volume_units = np.full(len(time_us), -1, dtype=np.int64)
    has_volume = volume_units >= 0
    for dtype, mask in ((_DTYPE_VOLUME, has_volume), (_DTYPE_NO_VOLUME, ~has_volume)):
        count = int(mask.sum())
        if not count:
            continue
        rows = np.zeros(count, dtype=dtype)
        rows["nfields"] = 6
        rows["inst_len"] = rows["src_len"] = rows["time_len"] = 8
        rows["inst"] = instrument_id
        rows["src"] = source_id
        rows["time"] = time_us[mask] - PG_EPOCH_US
        _put_numeric(rows, "bid", bid_units[mask])
        _put_numeric(rows, "ask", ask_units[mask])
        if dtype is _DTYPE_VOLUME:
            _put_numeric(rows, "vol", volume_units[mask])
        else:
            rows["vol_len"] = -1
        parts.append(rows.tobytes())
    parts.append(TRAILER)
    return b"".join(parts)


COPY_TICKS_SQL = (
    "COPY marketdata_tick (instrument_id, source_id, time, bid, ask, volume) "
    "FROM STDIN (FORMAT BINARY)"
)


def copy_ticks(cursor, payload: bytes) -> None:
    """Write a payload from ``encode_ticks`` with psycopg 3 (a raw or Django cursor)."""
    raw = getattr(cursor, "cursor", cursor)
    with raw.copy(COPY_TICKS_SQL) as copy:
        copy.write(payload)

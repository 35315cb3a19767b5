"""Time zones of history files and the vectorised local-time -> UTC conversion.

Accepted names: ``UTC`` (also ``GMT``, ``Z``), ``EST_NO_DST`` (fixed UTC-5,
HistData.com's "Eastern Standard Time without daylight saving"), fixed offsets
such as ``UTC+02:00`` / ``GMT-5`` / ``+0300``, and any IANA name
(``America/New_York``, ``Europe/Athens``, ...).

Local times that a DST change makes ambiguous or nonexistent follow Python's
``fold=0`` rule (PEP 495), i.e. they use the UTC offset in force *before*
the change:

* ambiguous (the repeated hour when clocks go back) -> the earlier instance,
  still on summer time: New York 2024-11-03 01:30 -> 05:30 UTC (EDT);
* nonexistent (the hour skipped when clocks go forward) -> read with the old
  (standard) offset, which amounts to shifting it forward by the gap:
  New York 2024-03-10 02:30 -> 07:30 UTC (= 03:30 EDT). Unlike pandas'
  "shift_forward" this keeps distinct ticks distinct and in order.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from .errors import ParserError

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 60 * US_PER_MINUTE
_NAT = np.iinfo(np.int64).min

_FIXED = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Zone:
    name: str
    offset_us: int | None = None  # fixed offset (UTC = 0); None for an IANA zone
    zone: zoneinfo.ZoneInfo | None = None

    @property
    def is_utc(self) -> bool:
        return self.offset_us == 0


UTC_ZONE = Zone("UTC", 0)


def resolve(name: str) -> Zone:
    """The Zone for a tz argument; ParserError(code="bad_timezone") if unknown."""
    if not isinstance(name, str) or not name.strip():
        raise ParserError("bad_timezone", f"invalid time zone {name!r}")
    text = name.strip()
    if text.upper() in {"UTC", "GMT", "Z", "ETC/UTC", "ETC/GMT", "UTC0", "GMT0"}:
        return UTC_ZONE
    if text.upper() == "EST_NO_DST":
        return Zone("EST_NO_DST", -5 * US_PER_HOUR)
    if match := _FIXED.match(text):
        sign, hours, minutes = match.groups()
        if int(hours) > 18 or int(minutes or 0) > 59:
            raise ParserError("bad_timezone", f"invalid UTC offset {name!r}")
        offset = (int(hours) * 60 + int(minutes or 0)) * US_PER_MINUTE
        return Zone(text, offset if sign == "+" else -offset)
    try:
        zone = zoneinfo.ZoneInfo(text)
        pd.Timestamp("2000-01-01").tz_localize(text)  # pandas knows it too (pytz)
    except Exception:  # ZoneInfoNotFoundError, ValueError, IsADirectoryError, ...
        raise ParserError(
            "bad_timezone",
            f"unknown time zone {name!r}: use an IANA name such as 'America/New_York', "
            "'UTC', an offset such as 'UTC+02:00', or 'EST_NO_DST'",
        ) from None
    return Zone(text, None, zone)


def _localize(local_us: np.ndarray, name: str) -> np.ndarray:
    """UTC microseconds for local wall times; _NAT where ambiguous or nonexistent.

    The zone is given to pandas by name: pandas 2 then uses its vectorised
    pytz transition tables (a ZoneInfo object would be ~100x slower, one
    Python call per row).
    """
    index = pd.DatetimeIndex(local_us.view("datetime64[us]"))
    localized = index.tz_localize(name, ambiguous="NaT", nonexistent="NaT")
    return np.asarray(localized.as_unit("us").asi8, dtype=np.int64)


def to_utc(local_us: np.ndarray, zone: Zone) -> np.ndarray:
    """Convert wall-clock microseconds in ``zone`` to UTC microseconds (vectorised)."""
    if zone.offset_us is not None:
        return local_us - zone.offset_us if zone.offset_us else local_us
    if local_us.size == 0:
        return local_us.copy()
    utc = _localize(local_us, zone.name)
    unresolved = np.flatnonzero(utc == _NAT)
    if unresolved.size:
        # Ambiguous or skipped: use the offset in force 3 hours earlier (fold=0).
        probe_local = local_us[unresolved] - 3 * US_PER_HOUR
        probe_utc = _localize(probe_local, zone.name)
        ok = probe_utc != _NAT
        utc[unresolved[ok]] = local_us[unresolved[ok]] - (probe_local[ok] - probe_utc[ok])
        for i in unresolved[~ok]:  # e.g. a whole skipped day (Samoa 2011): zoneinfo itself
            wall = datetime(1970, 1, 1) + timedelta(microseconds=int(local_us[i]))
            aware = wall.replace(tzinfo=zone.zone, fold=0).astimezone(UTC)
            utc[i] = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return utc

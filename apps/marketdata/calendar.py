"""FX market time: sessions, the 17:00 New York roll and timeframe buckets.

All functions are vectorised over int64 arrays of UTC microseconds.

- The FX week runs from Sunday 17:00 to Friday 17:00 New York (DST-aware);
  an instrument may set other weekly open/close times.
- The FX trade date of an instant is the New York date of (instant + 7 h):
  the day rolls at 17:00 New York. D1 bars open at 17:00 New York and W1 bars
  at Sunday 17:00 New York; intraday bars are aligned to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
NEW_YORK = "America/New_York"
ROLL_SHIFT_US = 7 * HOUR_US  # 17:00 New York + 7 h = midnight of the next trade date

TIMEFRAME_US = {
    "M1": MINUTE_US,
    "M5": 5 * MINUTE_US,
    "M15": 15 * MINUTE_US,
    "M30": 30 * MINUTE_US,
    "H1": HOUR_US,
    "H4": 4 * HOUR_US,
    "D1": DAY_US,
    "W1": 7 * DAY_US,
}
TIMEFRAMES = tuple(TIMEFRAME_US)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us_to_datetime(us: int) -> datetime:
    """UTC microseconds → aware datetime, exactly (no float on the way)."""
    return EPOCH + timedelta(microseconds=int(us))


def datetime_to_us(moment: datetime) -> int:
    """Aware datetime → UTC microseconds, exactly."""
    return (moment - EPOCH) // timedelta(microseconds=1)


_DAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}


def _as_us(index: pd.DatetimeIndex) -> np.ndarray:
    return index.as_unit("us").asi8


def _offset_s(moment_s: int, zone: ZoneInfo) -> int:
    return int(datetime.fromtimestamp(moment_s, zone).utcoffset().total_seconds())


@lru_cache(maxsize=256)
def _offsets_of_year(tz: str, year: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """UTC offset changes of ``tz`` during ``year``: (instants in UTC µs,
    offset from each on), found by sampling every 14 days (shorter than any
    offset a zone keeps) and bisecting each change to the second; the year's
    first offset comes first."""
    zone = ZoneInfo(tz)
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    step = 14 * 86_400
    first = _offset_s(start, zone)
    starts, offsets = [start * US], [first * US]
    previous, previous_offset = start, first
    for moment in [*range(start + step, end, step), end]:
        offset = _offset_s(moment, zone)
        if offset != previous_offset:
            lo, hi = previous, moment  # offset(lo) = previous_offset != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(mid, zone) == previous_offset:
                    lo = mid
                else:
                    hi = mid
            if hi < end:
                starts.append(hi * US)
                offsets.append(offset * US)
        previous, previous_offset = moment, offset
    return tuple(starts), tuple(offsets)


def _local_wall_us(time_us: np.ndarray, tz: str) -> np.ndarray:
    """Wall-clock time in ``tz`` as naive microseconds (DST-aware): each
    instant plus the zone's offset from the last change before it (the
    changes of the years spanned, found once per zone and year)."""
    time_us = np.asarray(time_us, dtype=np.int64)
    if len(time_us) == 0:
        return time_us.copy()
    first = int(time_us.min()) // US
    last = int(time_us.max()) // US
    lo_year = datetime.fromtimestamp(first, UTC).year if first > -62_135_596_800 else 1
    hi_year = datetime.fromtimestamp(min(last, 253_402_300_799), UTC).year
    if lo_year < 1900 or hi_year > 2200:  # outside what the sampling is meant for
        index = pd.DatetimeIndex(np.asarray(time_us, dtype="datetime64[us]")).tz_localize("UTC")
        return _as_us(index.tz_convert(tz).tz_localize(None))
    starts: list[int] = []
    offsets: list[int] = []
    for year in range(lo_year, hi_year + 1):
        year_starts, year_offsets = _offsets_of_year(tz, year)
        starts.extend(year_starts)
        offsets.extend(year_offsets)
    starts_np = np.array(starts, dtype=np.int64)
    offsets_np = np.array(offsets, dtype=np.int64)
    if len(time_us) > 1 and (time_us[1:] >= time_us[:-1]).all():
        # Sorted (bars are): each offset covers one run of instants.
        bounds = np.searchsorted(time_us, starts_np[1:], side="left")
        counts = np.diff(np.r_[0, bounds, len(time_us)])
        return time_us + np.repeat(offsets_np, counts)
    at = np.searchsorted(starts_np, time_us, side="right") - 1
    return time_us + offsets_np[at]


def wall_to_utc_us(wall_us: np.ndarray, tz: str) -> np.ndarray:
    index = pd.DatetimeIndex(np.asarray(wall_us, dtype="datetime64[us]"))
    local = index.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return _as_us(local.tz_convert("UTC"))


@dataclass(frozen=True)
class WeeklySession:
    """Weekly open/close in a time zone, e.g. SUN 17:00 → FRI 17:00 New York."""

    tz: str = NEW_YORK
    open: str = "SUN 17:00"
    close: str = "FRI 17:00"

    @staticmethod
    def _minute_of_week(spec: str) -> int:
        day, clock = spec.strip().upper().split()
        hours, minutes = clock.split(":")
        return _DAYS[day[:3]] * 1440 + int(hours) * 60 + int(minutes)

    def is_open(self, time_us: np.ndarray, holidays: frozenset[date] = frozenset()) -> np.ndarray:
        wall = _local_wall_us(time_us, self.tz)
        # 1970-01-01 was a Thursday: shift so Monday 00:00 is minute 0.
        minute_of_week = ((wall // MINUTE_US) + 3 * 1440) % (7 * 1440)
        start, end = self._minute_of_week(self.open), self._minute_of_week(self.close)
        if start <= end:
            open_ = (minute_of_week >= start) & (minute_of_week < end)
        else:
            open_ = (minute_of_week >= start) | (minute_of_week < end)
        if holidays:
            open_ &= ~np.isin(
                trade_dates(time_us), np.array(sorted(holidays), dtype="datetime64[D]")
            )
        return open_


def trade_dates(time_us: np.ndarray) -> np.ndarray:
    """The FX trade date (datetime64[D]) of each instant: New York date after a 17:00 roll."""
    wall = _local_wall_us(time_us, NEW_YORK) + ROLL_SHIFT_US
    return (wall // DAY_US).astype("datetime64[D]")


def bucket_start_us(time_us: np.ndarray, timeframe: str) -> np.ndarray:
    """Open time (UTC µs) of the bar of ``timeframe`` that contains each instant."""
    time_us = np.asarray(time_us, dtype=np.int64)
    size = TIMEFRAME_US[timeframe]
    if timeframe not in ("D1", "W1"):
        return time_us - np.mod(time_us, size)
    shifted = _local_wall_us(time_us, NEW_YORK) + ROLL_SHIFT_US
    if timeframe == "D1":
        start = shifted - np.mod(shifted, DAY_US)
    else:
        # Monday 00:00 in shifted time is Sunday 17:00 New York.
        days = shifted // DAY_US
        monday = days - np.mod(days + 3, 7)
        start = monday * DAY_US
    return wall_to_utc_us(start - ROLL_SHIFT_US, NEW_YORK)


def bucket_end_us(start_us: np.ndarray, timeframe: str) -> np.ndarray:
    """Close time of bars that open at ``start_us`` (D1/W1 follow DST changes)."""
    start_us = np.asarray(start_us, dtype=np.int64)
    if timeframe not in ("D1", "W1"):
        return start_us + TIMEFRAME_US[timeframe]
    wall = _local_wall_us(start_us, NEW_YORK)
    return wall_to_utc_us(wall + TIMEFRAME_US[timeframe], NEW_YORK)


def timeframe_us(timeframe: str) -> int:
    return TIMEFRAME_US[timeframe]


def ny_zone() -> ZoneInfo:
    return ZoneInfo(NEW_YORK)

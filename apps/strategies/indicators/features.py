"""Session and calendar features of a bar, from its open time alone (``time_us``,
microseconds since the epoch, UTC), so they never look past the bar.

Trading sessions are fixed UTC hour ranges, start inclusive, end exclusive, with no
daylight-saving shift (the London and New York opens move by an hour between
summer and winter; these windows cover both):

* Asia (Tokyo/Singapore/Hong Kong): 00:00-09:00 UTC
* London: 07:00-16:00 UTC
* New York: 12:00-21:00 UTC

They overlap (London/New York 12-16 UTC), so a bar can be in two sessions; bars
from 21:00 to 24:00 UTC are in none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from .base import Indicator, Stream, times

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
# 1970-01-01 was a Thursday: day_of_week (Monday = 0) of epoch day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3

SESSIONS = {"is_asia": (0, 9), "is_london": (7, 16), "is_new_york": (12, 21)}
SESSION_OUTPUTS = ("hour_utc", "day_of_week", *SESSIONS)
CALENDAR_OUTPUTS = ("month", "day_of_month", "week_of_year")


def _session_batch(data, params) -> dict[str, np.ndarray]:
    t = times(data)
    hour = (t // US_PER_HOUR) % 24
    out = {
        "hour_utc": hour.astype(np.float64),
        "day_of_week": ((t // US_PER_DAY + EPOCH_WEEKDAY) % 7).astype(np.float64),
    }
    for name, (start, end) in SESSIONS.items():
        out[name] = ((hour >= start) & (hour < end)).astype(np.float64)
    return out


def session_values(time_us: int) -> dict[str, float]:
    hour = (time_us // US_PER_HOUR) % 24
    out = {
        "hour_utc": float(hour),
        "day_of_week": float((time_us // US_PER_DAY + EPOCH_WEEKDAY) % 7),
    }
    for name, (start, end) in SESSIONS.items():
        out[name] = 1.0 if start <= hour < end else 0.0
    return out


def _calendar_batch(data, params) -> dict[str, np.ndarray]:
    days = (times(data) // US_PER_DAY).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    # ISO week: the week (Monday to Sunday) that holds the year's first Thursday is 1.
    weekday = (days.astype(np.int64) + EPOCH_WEEKDAY) % 7
    thursday = days - weekday + 3
    first_day = thursday.astype("datetime64[Y]").astype("datetime64[D]")
    return {
        "month": (months.astype(np.int64) % 12 + 1).astype(np.float64),
        "day_of_month": ((days - months).astype(np.int64) + 1).astype(np.float64),
        "week_of_year": ((thursday - first_day).astype(np.int64) // 7 + 1).astype(np.float64),
    }


_EPOCH = dt.date(1970, 1, 1)


def calendar_values(time_us: int) -> dict[str, float]:
    day = _EPOCH + dt.timedelta(days=time_us // US_PER_DAY)
    return {
        "month": float(day.month),
        "day_of_month": float(day.day),
        "week_of_year": float(day.isocalendar().week),
    }


class _TimeStream(Stream):
    warmup = 0

    def __init__(self, params: dict[str, Any], outputs: tuple[str, ...], values) -> None:
        self.outputs = outputs
        self._values = values

    def update(self, open, high, low, close, volume=0.0, time_us=0):  # noqa: A002
        return self._values(int(time_us))


def _no_lookback(params: dict[str, Any]) -> int:
    return 0


FEATURES: tuple[Indicator, ...] = (
    Indicator(
        name="session",
        description=(
            "UTC hour, weekday (Monday = 0) and FX session flags (1/0) of the bar's "
            "open time: Asia 00-09, London 07-16, New York 12-21 UTC."
        ),
        group="feature",
        params=(),
        outputs=SESSION_OUTPUTS,
        inputs=("time_us",),
        handwritten=True,
        batch=_session_batch,
        stream=lambda p: _TimeStream(p, SESSION_OUTPUTS, session_values),
        lookback=_no_lookback,
    ),
    Indicator(
        name="calendar",
        description="Month (1-12), day of month and ISO week of the year of the bar's open time (UTC).",
        group="feature",
        params=(),
        outputs=CALENDAR_OUTPUTS,
        inputs=("time_us",),
        handwritten=True,
        batch=_calendar_batch,
        stream=lambda p: _TimeStream(p, CALENDAR_OUTPUTS, calendar_values),
        lookback=_no_lookback,
    ),
)

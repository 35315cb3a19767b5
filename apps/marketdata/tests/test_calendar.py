"""Local wall-clock times from the zone's offset changes, found once per year."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from apps.marketdata import calendar


def _reference(time_us: np.ndarray, tz: str) -> np.ndarray:
    zone = ZoneInfo(tz)
    offsets = [
        int(
            datetime.fromtimestamp(t // 1_000_000, UTC).astimezone(zone).utcoffset().total_seconds()
        )
        for t in time_us.tolist()
    ]
    return time_us + np.array(offsets, dtype=np.int64) * 1_000_000


@pytest.mark.parametrize(
    "tz",
    [
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",  # summer time across the new year
        "Australia/Lord_Howe",  # half-hour changes
        "Africa/Casablanca",  # summer time suspended for Ramadan
        "Asia/Tokyo",
    ],
)
def test_wall_clock_matches_zoneinfo_for_random_and_sorted_instants(tz):
    rng = np.random.default_rng(17)
    moments = rng.integers(0, 2_208_988_800_000_000, 20_000)  # 1970 → 2040
    assert np.array_equal(calendar._local_wall_us(moments, tz), _reference(moments, tz))
    ordered = np.sort(moments)
    assert np.array_equal(calendar._local_wall_us(ordered, tz), _reference(ordered, tz))


def test_wall_clock_around_new_york_changes_to_the_second():
    # 2024-03-10 07:00 UTC (clocks forward) and 2024-11-03 06:00 UTC (back).
    for change in (1_710_054_000, 1_730_613_600):
        moments = np.arange(change - 5, change + 5, dtype=np.int64) * 1_000_000
        assert np.array_equal(
            calendar._local_wall_us(moments, calendar.NEW_YORK),
            _reference(moments, calendar.NEW_YORK),
        )


def test_trade_dates_roll_at_17_00_new_york():
    # 2024-07-01 20:59:59 UTC is 16:59:59 EDT (trade date July 1); a second later, July 2.
    moments = np.array([1_719_867_599, 1_719_867_600], dtype=np.int64) * 1_000_000
    assert calendar.trade_dates(moments).astype(str).tolist() == ["2024-07-01", "2024-07-02"]

"""Bars for engine tests: seeded random walks and hand-made bars."""

from __future__ import annotations

import numpy as np

from apps.marketdata.models import Instrument
from apps.strategies.engine.data import series_from_arrays

HOUR_US = 3_600_000_000
# Monday 2024-01-08 00:00 UTC
T0 = 1_704_672_000_000_000


def walk(n: int, seed: int = 1, *, start: float = 1.1, step: float = 0.0008, spread=0.00012):
    rng = np.random.default_rng(seed)
    close = np.round(start + np.cumsum(rng.normal(0, step, n)), 5)
    open_ = np.r_[close[0], close[:-1]]
    high = np.round(np.maximum(open_, close) + np.abs(rng.normal(0, step / 2, n)), 5)
    low = np.round(np.minimum(open_, close) - np.abs(rng.normal(0, step / 2, n)), 5)
    return {
        "time_us": T0 + np.arange(n, dtype=np.int64) * HOUR_US,
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": np.full(n, 100.0),
        "spread": np.full(n, spread),
    }


def bars(rows: list[tuple], spread: float = 0.0001, start: int = T0):
    """Bars from ``(open, high, low, close)`` rows, one per hour."""
    a = np.array(rows, dtype=float)
    n = len(rows)
    return {
        "time_us": start + np.arange(n, dtype=np.int64) * HOUR_US,
        "open": a[:, 0],
        "high": a[:, 1],
        "low": a[:, 2],
        "close": a[:, 3],
        "volume": np.zeros(n),
        "spread": np.full(n, spread),
    }


def series(arrays, symbol: str = "EURUSD", **rates):
    se = series_from_arrays(Instrument.objects.get(symbol=symbol), arrays)
    for name, value in rates.items():
        setattr(se, name, value)
    return se

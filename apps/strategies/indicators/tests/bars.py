"""Seeded random-walk OHLCV bars shaped like FX M1-H1 data."""

from __future__ import annotations

import numpy as np

FIELDS = ("open", "high", "low", "close", "volume")
HOUR_US = 3_600_000_000
START_US = 1_704_067_200_000_000  # 2024-01-01 00:00 UTC


def random_walk(n: int = 600, *, seed: int = 0, base: float = 1.1, decimals: int = 5):
    """Bars whose prices are rounded to ``decimals`` places (FX quotes: ties happen)."""
    rng = np.random.default_rng(seed)
    close = base * np.exp(np.cumsum(rng.normal(0.0, 1e-3, n)))
    open_ = np.r_[base, close[:-1]] + rng.normal(0.0, 2e-4, n)
    high = np.maximum(open_, close) + np.abs(rng.normal(0.0, 5e-4, n))
    low = np.minimum(open_, close) - np.abs(rng.normal(0.0, 5e-4, n))
    return {
        "open": np.round(open_, decimals),
        "high": np.round(high, decimals),
        "low": np.round(low, decimals),
        "close": np.round(close, decimals),
        "volume": rng.integers(1, 1_000, n).astype(np.float64),
        "time_us": START_US + np.arange(n, dtype=np.int64) * HOUR_US,
    }


def stream_values(stream, data, outputs) -> dict[str, np.ndarray]:
    """Feed ``data`` bar by bar; the outputs as arrays aligned with the bars."""
    rows = [
        stream.update(*(float(data[k][i]) for k in FIELDS), int(data["time_us"][i]))
        for i in range(len(data["close"]))
    ]
    return {name: np.array([row[name] for row in rows]) for name in outputs}


def leading_nans(values: np.ndarray) -> int:
    finite = ~np.isnan(values)
    return int(np.argmax(finite)) if finite.any() else len(values)


def assert_same(batch: np.ndarray, incremental: np.ndarray, label: str = "") -> None:
    """NaN exactly where batch has NaN; values within 1e-9 relative / 1e-12 absolute."""
    np.testing.assert_array_equal(np.isnan(incremental), np.isnan(batch), err_msg=label)
    np.testing.assert_allclose(incremental, batch, rtol=1e-9, atol=1e-12, err_msg=label)

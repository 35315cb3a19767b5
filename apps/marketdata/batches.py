"""Columnar batches of market data, the currency of the ingestion pipeline.

Parsers, feeds and broker adapters produce these; the pipeline validates,
deduplicates and stores them. Columns are numpy arrays of equal length:
times are UTC microseconds since the epoch (int64); prices are float64 for
transport and validation, and are rounded to the instrument's digits into
exact integers (then ``Decimal``) before they reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

US_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class RowError:
    """A source row that could not be turned into data (kept with its reason)."""

    line: int | None
    raw: str
    reason: str  # machine-readable code, e.g. "parse_error", "bad_timestamp"
    message: str = ""


@dataclass(slots=True)
class TickBatch:
    time_us: np.ndarray  # int64, UTC microseconds
    bid: np.ndarray  # float64
    ask: np.ndarray  # float64
    volume: np.ndarray | None = None  # float64, NaN where unknown
    line: np.ndarray | None = None  # int64 source line numbers (files only)
    errors: list[RowError] = field(default_factory=list)

    kind = "tick"

    def __len__(self) -> int:
        return len(self.time_us)

    def take(self, index: np.ndarray) -> TickBatch:
        return TickBatch(
            time_us=self.time_us[index],
            bid=self.bid[index],
            ask=self.ask[index],
            volume=None if self.volume is None else self.volume[index],
            line=None if self.line is None else self.line[index],
        )

    @classmethod
    def empty(cls) -> TickBatch:
        return cls(time_us=np.empty(0, np.int64), bid=np.empty(0), ask=np.empty(0))


@dataclass(slots=True)
class BarBatch:
    time_us: np.ndarray  # int64, bar open time, UTC microseconds
    open: np.ndarray  # float64, bid prices
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray | None = None  # float64 tick volume, NaN where unknown
    spread: np.ndarray | None = None  # float64, in price units (not points), NaN where unknown
    line: np.ndarray | None = None
    errors: list[RowError] = field(default_factory=list)

    kind = "bar"

    def __len__(self) -> int:
        return len(self.time_us)

    def take(self, index: np.ndarray) -> BarBatch:
        def pick(column):
            return None if column is None else column[index]

        return BarBatch(
            time_us=self.time_us[index],
            open=self.open[index],
            high=self.high[index],
            low=self.low[index],
            close=self.close[index],
            volume=pick(self.volume),
            spread=pick(self.spread),
            line=pick(self.line),
        )

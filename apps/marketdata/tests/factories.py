"""Test data for market data: real seeded instruments and sources, tick makers."""

import numpy as np
import pandas as pd

from apps.marketdata.batches import TickBatch
from apps.marketdata.models import DataSource, IngestionRun, Instrument


def us(text: str) -> int:
    return (
        int(pd.Timestamp(text).tz_localize("UTC").value // 1000)
        if pd.Timestamp(text).tzinfo is None
        else int(pd.Timestamp(text).value // 1000)
    )


def instrument(symbol: str = "EURUSD") -> Instrument:
    return Instrument.objects.get(symbol=symbol)


def source(name: str = "history-import") -> DataSource:
    return DataSource.objects.get(name=name)


def run_for(src: DataSource, **kw) -> IngestionRun:
    return IngestionRun.objects.create(
        source=src, kind=kw.pop("kind", IngestionRun.Kind.IMPORT), **kw
    )


def ticks(
    start: str,
    count: int,
    *,
    step_ms: int = 250,
    price: float = 1.10000,
    spread: float = 0.00010,
    seed: int = 1,
    digits: int = 5,
) -> TickBatch:
    """A random walk of ``count`` ticks from ``start`` (UTC), rounded to ``digits``."""
    rng = np.random.default_rng(seed)
    t0 = us(start)
    time_us = t0 + np.arange(count, dtype=np.int64) * step_ms * 1000
    steps = rng.normal(0, 0.00003 * price, count).cumsum()
    bid = np.round(price + steps, digits)
    ask = np.round(bid + spread, digits)
    return TickBatch(time_us=time_us, bid=bid, ask=ask, volume=np.full(count, np.nan))

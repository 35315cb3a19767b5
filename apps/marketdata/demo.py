"""The demo set-up of market data: the synthetic feed of the majors, running,
and two years of simulated H1 history of the majors (for backtests)."""

from __future__ import annotations

import time

import numpy as np
from django.conf import settings

from apps.marketdata.batches import BarBatch
from apps.marketdata.models import Bar, DataSource, Instrument
from apps.marketdata.services.ingest import bars_ingest
from apps.marketdata.services.sources import source_start
from apps.marketdata.simulation import is_market_open

HISTORY_SOURCE = "demo-history"
HISTORY_DAYS = 730
# symbol: (start price, digits, hourly volatility, typical spread in price units)
HISTORY = {
    "EURUSD": (1.0800, 5, 0.0012, 0.00012),
    "GBPUSD": (1.2700, 5, 0.0015, 0.00015),
    "USDJPY": (150.00, 3, 0.0013, 0.012),
    "USDCHF": (0.8800, 5, 0.0012, 0.00015),
    "AUDUSD": (0.6600, 5, 0.0014, 0.00014),
    "USDCAD": (1.3600, 5, 0.0010, 0.00018),
    "NZDUSD": (0.6100, 5, 0.0015, 0.00018),
}
HOUR_US = 3_600_000_000


def simulated_h1(symbol: str, end_us: int, days: int = HISTORY_DAYS, seed: int = 11) -> BarBatch:
    """Hourly bid bars with volatility clustering (GARCH(1,1)) over the open
    market hours of the ``days`` before ``end_us``; seeded per symbol."""
    price, digits, vol, spread = HISTORY[symbol]
    end_us -= end_us % HOUR_US
    times = np.arange(end_us - days * 86_400_000_000, end_us, HOUR_US, dtype=np.int64)
    times = times[is_market_open(times)]
    n = len(times)
    rng = np.random.default_rng([seed, sum(map(ord, symbol))])
    shocks = rng.standard_normal(n)
    variance = np.empty(n)
    returns = np.empty(n)
    omega, alpha, beta = vol**2 * 0.05, 0.08, 0.87
    v = vol**2
    for i in range(n):
        variance[i] = v
        returns[i] = shocks[i] * np.sqrt(v)
        v = omega + alpha * returns[i] ** 2 + beta * v
    close = np.round(price * np.exp(np.cumsum(returns)), digits)
    open_ = np.r_[np.round(price, digits), close[:-1]]
    wick = np.abs(rng.standard_normal((2, n))) * np.sqrt(variance) * price * 0.5
    high = np.round(np.maximum(open_, close) + wick[0], digits)
    low = np.round(np.minimum(open_, close) - wick[1], digits)
    bar_spread = np.round(spread * (1 + 0.5 * rng.random(n)), digits)
    return BarBatch(
        time_us=times,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.round(rng.gamma(4.0, 250.0, n)),
        spread=bar_spread,
    )


def setup_history() -> str:
    """Two years of simulated H1 bars of the majors, once (kept on later runs)."""
    source, _ = DataSource.objects.get_or_create(
        name=HISTORY_SOURCE,
        defaults={
            "kind": DataSource.Kind.IMPORT,
            "description": "Simulated H1 history of the majors for demo backtests.",
            "config": {"simulated": True},
        },
    )
    if Bar.objects.filter(source=source, timeframe="H1").exists():
        return f"{HISTORY_SOURCE}: simulated H1 history already present"
    end_us = time.time_ns() // 1000
    stored = 0
    for symbol in HISTORY:
        instrument = Instrument.objects.filter(symbol=symbol).first()
        if instrument is None:
            continue
        source.instruments.add(instrument)
        result = bars_ingest(
            instrument=instrument,
            source=source,
            timeframe="H1",
            batch=simulated_h1(symbol, end_us),
        )
        stored += result.accepted
    return f"{HISTORY_SOURCE}: {stored:,} simulated H1 bars of {', '.join(HISTORY)}"


def setup_demo() -> str:
    history = setup_history()
    if not settings.MARKETDATA_DEMO_FEED:
        return f"synthetic feed not started (MARKETDATA_DEMO_FEED is off); {history}"
    source = source_start(source=DataSource.objects.get(name="synthetic"))
    symbols = ", ".join(source.instruments.values_list("symbol", flat=True))
    return f"synthetic (simulated) feed {source.state} for {symbols}; {history}"

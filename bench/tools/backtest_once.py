"""One backtest in a fresh process (run by ``bench_backtest``): prints JSON.

Usage: python bench/tools/backtest_once.py PATH BARS
PATH: vectorised | bar | bar-fill-by-fill | baseline-loop | baseline-numpy
(bar-fill-by-fill: the bar path with every fill booked as it happens, as
runs whose account feeds back into their orders go)
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.test")


def bars(n: int):
    import numpy as np

    rng = np.random.default_rng(2024)
    hour = 3_600_000_000
    t0 = 1_704_672_000_000_000  # Monday 2024-01-08 00:00 UTC
    close = np.round(1.1 * np.exp(np.cumsum(rng.normal(0, 0.0012, n))), 5)
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.0006, (2, n)))
    return {
        "time_us": t0 + np.arange(n, dtype=np.int64) * hour,
        "open": open_,
        "high": np.round(np.maximum(open_, close) + wick[0], 5),
        "low": np.round(np.minimum(open_, close) - wick[1], 5),
        "close": close,
        "volume": np.full(n, 1000.0),
        "spread": np.round(0.00010 + 0.00004 * rng.random(n), 5),
    }


def reference_instrument(symbol: str, Instrument):  # noqa: N803
    """The seeded instrument, unsaved (the bench needs no database)."""
    from decimal import Decimal

    from apps.marketdata.reference import INSTRUMENTS

    row = next(r for r in INSTRUMENTS if r[0] == symbol)
    _, base, quote, digits, pip, contract, margin, swl, sws, spread, desc = row
    return Instrument(
        symbol=symbol,
        base_currency=base,
        quote_currency=quote,
        digits=digits,
        pip_size=Decimal(pip),
        contract_size=Decimal(contract),
        margin_rate=Decimal(margin),
        swap_long=Decimal(swl),
        swap_short=Decimal(sws),
        max_spread_pips=Decimal(spread),
    )


def main(path: str, n: int) -> None:
    import django

    django.setup()
    from apps.marketdata.models import Instrument
    from apps.strategies.builtin import BUILTIN
    from apps.strategies.engine.data import series_from_arrays
    from apps.strategies.engine.run import run
    from apps.strategies.engine.simulator import Settings

    arrays = bars(n)
    instrument = reference_instrument("EURUSD", Instrument)
    if path == "baseline-loop":
        # The floor of any bar-by-bar engine in Python: one comparison per bar.
        close = arrays["close"].tolist()
        started = time.perf_counter()
        above = 0
        for i in range(1, len(close)):
            if close[i] > close[i - 1]:
                above += 1
        print(json.dumps({"seconds": time.perf_counter() - started, "bars": n}))
        return
    if path == "baseline-numpy":
        # The floor of a vectorised one: two moving averages and their crosses in numpy.
        import numpy as np

        started = time.perf_counter()
        c = arrays["close"]
        s = np.cumsum(np.r_[0.0, c])
        fast = (s[10:] - s[:-10])[10:] / 10
        slow = (s[20:] - s[:-20]) / 20
        cross = np.diff(np.sign(fast - slow))
        np.flatnonzero(cross)
        print(json.dumps({"seconds": time.perf_counter() - started, "bars": n}))
        return
    series = series_from_arrays(instrument, arrays)
    settings = Settings(
        initial_balance=1_000_000,
        sizing_mode="lots",
        sizing_value=1.0,
        commission_mode="per_lot",
        commission_value=3.5,
        swap=True,
    )
    cls = BUILTIN["sma_cross"]
    started = time.perf_counter()
    at_once = path != "bar-fill-by-fill"
    path = "bar" if path == "bar-fill-by-fill" else path
    result = run(lambda: cls(fast=10, slow=20), [series], settings, path=path, at_once=at_once)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bars": n,
                "path": result.path,
                "trades": len(result.trades),
                "final_equity": result.metrics["final_equity"],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

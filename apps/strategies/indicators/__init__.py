"""Named, parameterised indicators and features for strategies.

Each indicator has a parameter schema, a batch form computed with TA-Lib (or
numpy) over whole arrays, an incremental form fed one closed bar at a time
whose values equal the batch ones, and a warm-up (the leading NaN bars). No
value at bar t depends on bars after t.

    from apps.strategies import indicators

    out = indicators.compute("rsi", data, period=14)        # {"rsi": ndarray}
    stream = indicators.incremental("rsi", period=14)
    stream.update(open, high, low, close, volume, time_us)  # {"rsi": float}

``data`` maps ``open``/``high``/``low``/``close``/``volume`` (float64; volume
optional) and ``time_us`` (int64, bar open time in microseconds UTC) to arrays.

Hand-written (own recurrences): sma, ema, wma, rsi, macd, bbands, atr, adx,
stoch, cci, donchian, keltner, returns, log_returns, volatility, session,
calendar. Every other TA-Lib function is exposed under its lowercase name
(see ``talib_generic``; MAVP is skipped).
"""

from .base import Indicator, IndicatorError, Param, Stream
from .registry import (
    REGISTRY,
    compute,
    describe,
    get,
    incremental,
    names,
    validate_params,
    warmup,
)

__all__ = [
    "REGISTRY",
    "Indicator",
    "IndicatorError",
    "Param",
    "Stream",
    "compute",
    "describe",
    "get",
    "incremental",
    "names",
    "validate_params",
    "warmup",
]

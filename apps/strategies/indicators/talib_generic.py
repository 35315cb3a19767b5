"""Every TA-Lib function, exposed under its lowercase name.

Parameters come from ``talib.abstract.Function(name).parameters`` (the TA-Lib
names: ``timeperiod``, ``fastperiod``, ``matype``, ...), inputs from
``.input_names`` and outputs from ``.output_names``. A single-series input
becomes a choice parameter of the same name (``price``, or ``price0``/``price1``
for the two-series functions BETA, CORREL, ADD, SUB, MULT, DIV, which default to
high and low as TA-Lib's abstract API does). Integer outputs (candlestick
patterns, HT_TRENDMODE, the *INDEX functions) come back as float64 with NaN
during the warm-up, like every other output.

Skipped: MAVP, which needs a second series of per-bar periods that a bar does
not carry.

The incremental form keeps past bars and re-runs the TA-Lib function for the
last value, so it is the batch value by construction:

* functions whose value at t depends only on bars t-lookback..t keep a window
  of lookback + 1 bars (O(lookback) per bar);
* the others keep the whole history (O(bars so far) per bar): anything
  EMA/Wilder based or cumulative (see ``FULL_HISTORY``), an MA type other than
  SMA, WMA or TRIMA, the *INDEX functions (their tie-breaking depends on the
  bars before the window) and the running-sum statistics whose floating-point
  drift a fresh window would not reproduce (STDDEV, VAR, BETA, CORREL). In live
  trading (one bar per minute or slower) that costs microseconds to a
  millisecond a bar; backtests use the batch form.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import talib
from talib import _ta_lib as _ta
from talib import abstract

from .base import (
    INT_MAX,
    NAN,
    PRICE_FIELDS,
    REAL_MAX,
    Indicator,
    IndicatorError,
    Param,
    Stream,
    nan_dict,
    series,
)

SKIPPED = {"MAVP": "needs a per-bar series of periods, which bars do not carry"}

FULL_HISTORY = frozenset(
    {
        # EMA / Wilder / adaptive recurrences
        "ADX", "ADXR", "APO", "ATR", "CMO", "DEMA", "DX", "EMA", "KAMA", "MACD", "MACDEXT",
        "MACDFIX", "MAMA", "MINUS_DI", "MINUS_DM", "NATR", "PLUS_DI", "PLUS_DM", "PPO", "RSI",
        "STOCHRSI", "T3", "TEMA", "TRIX",
        # Hilbert transform cycle indicators
        "HT_DCPERIOD", "HT_DCPHASE", "HT_PHASOR", "HT_SINE", "HT_TRENDLINE", "HT_TRENDMODE",
        # path dependent or cumulative
        "SAR", "SAREXT", "AD", "ADOSC", "OBV",
        # tie-breaking depends on bars before the window
        "MAXINDEX", "MININDEX", "MINMAXINDEX",
        # running sums whose rounding drift a fresh window would not reproduce
        "STDDEV", "VAR", "BETA", "CORREL",
    }
)  # fmt: skip
# MA types whose value depends on the last `period` bars only: SMA, WMA, TRIMA.
WINDOWED_MATYPES = frozenset({0, 2, 5})
# APO/PPO and MACDEXT with windowed MA types still recur on nothing else.
WINDOWED_WITH_MATYPE = frozenset({"APO", "PPO", "MACDEXT"})

GROUPS = {
    "Overlap Studies": "trend",
    "Momentum Indicators": "momentum",
    "Volatility Indicators": "volatility",
    "Volume Indicators": "volume",
    "Pattern Recognition": "pattern",
    "Cycle Indicators": "cycle",
    "Statistic Functions": "statistic",
    "Price Transform": "price",
    "Math Operators": "math",
    "Math Transform": "math",
}

# Ranges of real parameters (TA-Lib's own, which the Python binding does not expose).
REAL_RANGES = {
    "nbdev": (-REAL_MAX, REAL_MAX),
    "nbdevup": (-REAL_MAX, REAL_MAX),
    "nbdevdn": (-REAL_MAX, REAL_MAX),
    "startvalue": (-REAL_MAX, REAL_MAX),
    "vfactor": (0.0, 1.0),
    "fastlimit": (0.01, 0.99),
    "slowlimit": (0.01, 0.99),
}
MATYPE_MAX = 8
_REAL_TYPES = (0, 1)  # TA_OptInput_RealRange, TA_OptInput_RealList
_INT_LIST = 3  # TA_OptInput_IntegerList (the MA type)


def lookback(function: str, params: dict[str, Any]) -> int:
    f = abstract.Function(function)
    f.set_parameters({k: v for k, v in params.items() if k not in _PRICE_PARAMS})
    return f.lookback


_PRICE_PARAMS = frozenset({"price", "price0", "price1"})


def _int_range(f: abstract.Function, name: str) -> tuple[int, int]:
    default = f.parameters[name]
    minimum = None
    for value in (0, 1, 2):
        f.set_parameters({name: value})
        if f.lookback >= 0:
            minimum = value
            break
    f.set_parameters({name: INT_MAX})
    maximum = INT_MAX if f.lookback >= 0 else default
    f.set_parameters({name: default})
    if minimum is None:  # pragma: no cover - no TA-Lib function needs more than 2
        minimum = default
    return minimum, maximum


def _params(function: str, f: abstract.Function) -> tuple[Param, ...]:
    params: list[Param] = []
    for index, (name, default) in enumerate(f.parameters.items()):
        info = _ta._ta_getOptInputParameterInfo(function.encode(), index)
        description = f"{info['display_name']}: {info['help']}".rstrip(".") + "."
        if info["type"] in _REAL_TYPES:
            low, high = REAL_RANGES.get(name, (0.0, REAL_MAX))
            params.append(Param(name, float, float(default), low, high, description=description))
        elif info["type"] == _INT_LIST:
            params.append(
                Param(name, int, int(default), 0, MATYPE_MAX, description=description + " " + _MA)
            )
        else:
            low, high = _int_range(f, name)
            params.append(Param(name, int, int(default), low, high, description=description))
    return tuple(params)


_MA = "0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 7 MAMA, 8 T3."


class _Spec:
    """How to call one TA-Lib function on bar data."""

    def __init__(self, function: str) -> None:
        f = abstract.Function(function)
        self.function = function
        self.fn = getattr(talib, function)
        # (price parameter or None, fields): a chosen single series or a fixed list
        self.inputs: list[tuple[str | None, tuple[str, ...]]] = []
        price_params: list[Param] = []
        for name, value in f.input_names.items():
            if isinstance(value, list):
                self.inputs.append((None, tuple(value)))
            else:
                self.inputs.append((name, ()))
                price_params.append(
                    Param(
                        name,
                        str,
                        value,
                        choices=PRICE_FIELDS,
                        description="Bar field the function reads.",
                    )
                )
        self.params = _params(function, f) + tuple(price_params)
        self.talib_params = tuple(p.name for p in self.params if p.type is not str)
        self.outputs = tuple(f.output_names)
        self.fixed_inputs = tuple(x for _, fields in self.inputs for x in fields)
        info = f.info
        self.description = info["display_name"] + "."
        self.group = GROUPS.get(info["group"], "other")

    def fields(self, params: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for param, fields in self.inputs:
            out.extend((params[param],) if param else fields)
        return out

    def kwargs(self, params: dict[str, Any]) -> dict[str, Any]:
        return {name: params[name] for name in self.talib_params}

    def lookback(self, params: dict[str, Any]) -> int:
        return lookback(self.function, params)

    def check(self, params: dict[str, Any]) -> None:
        if self.lookback(params) < 0:
            raise IndicatorError(
                f"{self.function.lower()}: TA-Lib rejects these parameters: {self.kwargs(params)}"
            )

    def call(self, arrays: list[np.ndarray], kwargs: dict[str, Any], lookback: int):
        result = self.fn(*arrays, **kwargs)
        if not isinstance(result, tuple):
            result = (result,)
        out = {}
        for name, values in zip(self.outputs, result, strict=True):
            values = values.astype(np.float64, copy=False)
            values[:lookback] = NAN
            out[name] = values
        return out

    def batch(self, data, params) -> dict[str, np.ndarray]:
        arrays = [series(data, field) for field in self.fields(params)]
        return self.call(arrays, self.kwargs(params), self.lookback(params))

    def full_history(self, params: dict[str, Any]) -> bool:
        if self.function in FULL_HISTORY:
            return True
        matypes = [v for k, v in params.items() if k.endswith("matype")]
        return any(v not in WINDOWED_MATYPES for v in matypes)

    def stream(self, params: dict[str, Any]) -> Stream:
        return _TalibStream(self, params)


_FIELD_INDEX = {name: i for i, name in enumerate(PRICE_FIELDS)}


class _TalibStream(Stream):
    """Re-runs the TA-Lib function over the kept bars for each new bar."""

    def __init__(self, spec: _Spec, params: dict[str, Any]) -> None:
        self.spec = spec
        self.outputs = spec.outputs
        self.kwargs = spec.kwargs(params)
        self.warmup = spec.lookback(params)
        self.columns = [_FIELD_INDEX[field] for field in spec.fields(params)]
        self.window = None if spec.full_history(params) else self.warmup + 1
        capacity = 1024 if self.window is None else max(2 * self.window, 64)
        self.buffer = np.empty((len(self.columns), capacity))
        self.size = 0  # bars held in the buffer
        self.bars = 0

    def update(self, open, high, low, close, volume=0.0, time_us=0):  # noqa: A002
        bar = (open, high, low, close, volume)
        if self.size == self.buffer.shape[1]:
            if self.window is None:
                grown = np.empty((self.buffer.shape[0], 2 * self.size))
                grown[:, : self.size] = self.buffer
                self.buffer = grown
            else:
                keep = self.window - 1
                self.buffer[:, :keep] = self.buffer[:, self.size - keep : self.size]
                self.size = keep
        for row, column in enumerate(self.columns):
            self.buffer[row, self.size] = bar[column]
        self.size += 1
        self.bars += 1
        if self.bars <= self.warmup:
            return nan_dict(self.outputs)
        start = 0 if self.window is None else self.size - self.window
        arrays = [self.buffer[row, start : self.size] for row in range(len(self.columns))]
        # The kept bars are a prefix (full history) or a window whose first value lands
        # on the lookback either way: the last value is the one the batch gives at t.
        lookback = self.warmup if self.window is None else self.window - 1
        result = self.spec.call(arrays, self.kwargs, lookback)
        return {name: float(values[-1]) for name, values in result.items()}


def generic_indicators(exclude: set[str]) -> list[Indicator]:
    out = []
    for function in talib.get_functions():
        name = function.lower()
        if function in SKIPPED or name in exclude:
            continue
        spec = _Spec(function)
        out.append(
            Indicator(
                name=name,
                description=spec.description,
                group=spec.group,
                params=spec.params,
                outputs=spec.outputs,
                inputs=spec.fixed_inputs,
                handwritten=False,
                batch=spec.batch,
                stream=spec.stream,
                lookback=spec.lookback,
                talib_function=function,
                check=spec.check,
            )
        )
    return out

"""Hand-written indicators: TA-Lib (or numpy) for the batch form, and an O(1)
or O(period) recurrence for the incremental form.

The recurrences repeat TA-Lib's arithmetic step for step (the same seeding,
the same running sums in the same order), so on x86-64 the incremental values
are bit-for-bit the batch values; the tests allow 1e-9 relative.

Warm-ups are TA-Lib's lookbacks, so they count TA-Lib's "unstable period"
(``talib.set_unstable_period``, process-wide, 0 unless someone sets it) where
TA-Lib applies it (EMA, ATR, ADX; this build's RSI ignores it). It only hides
more leading values, except in MACD, whose signal EMA then starts later; the
streams read it when they are built.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view
from talib import abstract

from .base import (
    INT_MAX,
    NAN,
    Indicator,
    Param,
    Stream,
    nan_dict,
    period_param,
    price_param,
    series,
)

PRICE_INDEX = {"open": 0, "high": 1, "low": 2, "close": 3, "volume": 4}


def _talib_lookback(function: str, **params: Any) -> int:
    """TA-Lib's lookback, which counts the unstable period where TA-Lib applies it."""
    f = abstract.Function(function)
    f.set_parameters(params)
    return f.lookback


def _is_zero(value: float) -> bool:
    """TA-Lib's TA_IS_ZERO."""
    return -1e-14 < value < 1e-14


# --- recurrences shared by the streams -------------------------------------------------


class _Sma:
    """TA-Lib's TA_INT_SMA: a running total, added to then trimmed."""

    __slots__ = ("period", "window", "total")

    def __init__(self, period: int) -> None:
        self.period = period
        self.window: deque[float] = deque()
        self.total = 0.0

    def push(self, x: float) -> float:
        self.total += x
        self.window.append(x)
        if len(self.window) < self.period:
            return NAN
        value = self.total / self.period
        self.total -= self.window.popleft()
        return value


class _Ema:
    """TA-Lib's TA_INT_EMA: seeded with the mean of the first ``period`` values."""

    __slots__ = ("period", "k", "count", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.k = 2.0 / (period + 1)
        self.count = 0
        self.value = 0.0

    def push(self, x: float) -> float:
        if self.count < self.period:
            self.count += 1
            self.value += x
            if self.count < self.period:
                return NAN
            self.value = self.value / self.period
            return self.value
        self.value = ((x - self.value) * self.k) + self.value
        return self.value


class _TrueRange:
    __slots__ = ("prev_close",)

    def __init__(self) -> None:
        self.prev_close: float | None = None

    def push(self, high: float, low: float, close: float) -> float:
        prev, self.prev_close = self.prev_close, close
        if prev is None:
            return NAN
        greatest = high - low
        greatest = max(greatest, abs(prev - high))
        return max(greatest, abs(prev - low))


class _Atr:
    """TA-Lib's ATR: SMA of the first ``period`` true ranges, then Wilder smoothing."""

    __slots__ = ("period", "tr", "seed", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.tr = _TrueRange()
        self.seed: _Sma | None = _Sma(period)
        self.value = NAN

    def push(self, high: float, low: float, close: float) -> float:
        tr = self.tr.push(high, low, close)
        if tr != tr:  # first bar
            return NAN
        if self.period == 1:
            return tr
        if self.seed is not None:
            self.value = self.seed.push(tr)
            if self.value == self.value:
                self.seed = None
            return self.value
        value = self.value * (self.period - 1)
        value += tr
        self.value = value / self.period
        return self.value


class _PriceStream(Stream):
    """A stream that reads one bar field, chosen by the ``price`` parameter."""

    def __init__(self, params: dict[str, Any], warmup: int) -> None:
        self.price = PRICE_INDEX[params["price"]]
        self.warmup = warmup
        self.bars = 0

    def update(self, open, high, low, close, volume=0.0, time_us=0):  # noqa: A002
        values = self.step((open, high, low, close, volume)[self.price])
        self.bars += 1
        if self.bars <= self.warmup:
            return nan_dict(self.outputs)
        return dict(zip(self.outputs, values, strict=True))

    def step(self, x: float) -> tuple[float, ...]:
        raise NotImplementedError


class _BarStream(Stream):
    """A stream that reads the whole bar."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.bars = 0

    def update(self, open, high, low, close, volume=0.0, time_us=0):  # noqa: A002
        values = self.step(open, high, low, close, volume)
        self.bars += 1
        if self.bars <= self.warmup:
            return nan_dict(self.outputs)
        return dict(zip(self.outputs, values, strict=True))

    def step(self, open, high, low, close, volume) -> tuple[float, ...]:  # noqa: A002
        raise NotImplementedError


# --- moving averages --------------------------------------------------------------------


def _sma_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("SMA", timeperiod=p["period"])


def _wma_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("WMA", timeperiod=p["period"])


def _bbands_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("BBANDS", timeperiod=p["period"])


def _cci_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("CCI", timeperiod=p["period"])


def _donchian_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("MAX", timeperiod=p["period"])


class _SmaStream(_PriceStream):
    outputs = ("sma",)

    def __init__(self, params):
        super().__init__(params, _sma_lookback(params))
        self.sma = _Sma(params["period"])

    def step(self, x):
        return (self.sma.push(x),)


def _ema_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("EMA", timeperiod=p["period"])


class _EmaStream(_PriceStream):
    outputs = ("ema",)

    def __init__(self, params):
        super().__init__(params, _ema_lookback(params))
        self.ema = _Ema(params["period"])

    def step(self, x):
        return (self.ema.push(x),)


class _WmaStream(_PriceStream):
    """TA-Lib's WMA: a running weighted sum, less the running plain sum each bar."""

    outputs = ("wma",)

    def __init__(self, params):
        super().__init__(params, _wma_lookback(params))
        self.period = params["period"]
        self.divider = (self.period * (self.period + 1)) >> 1
        self.window: deque[float] = deque()
        self.period_sub = 0.0
        self.period_sum = 0.0
        self.trailing = 0.0

    def step(self, x):
        p = self.period
        if p == 1:
            return (x,)
        self.window.append(x)
        n = len(self.window)
        if n < p:
            self.period_sub += x
            self.period_sum += x * n
            return (NAN,)
        self.period_sub += x
        self.period_sub -= self.trailing
        self.period_sum += x * p
        self.trailing = self.window.popleft()
        value = self.period_sum / self.divider
        self.period_sum -= self.period_sub
        return (value,)


# --- momentum ---------------------------------------------------------------------------


def _rsi_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("RSI", timeperiod=p["period"])


class _RsiStream(_PriceStream):
    """TA-Lib's RSI: mean gain/loss over the first ``period`` changes, then Wilder."""

    outputs = ("rsi",)

    def __init__(self, params):
        super().__init__(params, _rsi_lookback(params))
        self.period = params["period"]
        self.prev: float | None = None
        self.changes = 0
        self.gain = 0.0
        self.loss = 0.0

    def step(self, x):
        prev, self.prev = self.prev, x
        if prev is None:
            return (NAN,)
        diff = x - prev
        p = self.period
        self.changes += 1
        if self.changes <= p:
            if diff < 0:
                self.loss -= diff
            else:
                self.gain += diff
            if self.changes < p:
                return (NAN,)
            self.loss /= p
            self.gain /= p
        else:
            self.loss *= p - 1
            self.gain *= p - 1
            if diff < 0:
                self.loss -= diff
            else:
                self.gain += diff
            self.loss /= p
            self.gain /= p
        total = self.gain + self.loss
        return (0.0 if _is_zero(total) else 100.0 * (self.gain / total),)


def _macd_periods(p: dict[str, Any]) -> tuple[int, int, int]:
    fast, slow = p["fast_period"], p["slow_period"]
    if slow < fast:  # TA-Lib swaps them
        fast, slow = slow, fast
    return fast, slow, p["signal_period"]


def _macd_lookback(p: dict[str, Any]) -> int:
    fast, slow, signal = _macd_periods(p)
    return _talib_lookback("MACD", fastperiod=fast, slowperiod=slow, signalperiod=signal)


class _MacdStream(_PriceStream):
    """TA-Lib's MACD: the fast EMA is seeded on the ``fast`` bars that end where the
    slow EMA's seed ends; the signal EMA starts on the MACD values from the slow
    EMA's first output (after the EMA unstable period)."""

    outputs = ("macd", "signal", "hist")

    def __init__(self, params):
        super().__init__(params, _macd_lookback(params))
        fast, slow, signal = _macd_periods(params)
        self.fast_start = slow - fast
        self.macd_start = _talib_lookback("EMA", timeperiod=slow)
        self.fast = _Ema(fast)
        self.slow = _Ema(slow)
        self.signal = _Ema(signal)
        self.index = -1

    def step(self, x):
        self.index += 1
        slow = self.slow.push(x)
        fast = self.fast.push(x) if self.index >= self.fast_start else NAN
        if self.index < self.macd_start:
            return (NAN, NAN, NAN)
        macd = fast - slow
        signal = self.signal.push(macd)
        return (macd, signal, macd - signal)


class _CciStream(_BarStream):
    """TA-Lib's CCI, down to its circular buffer (the sums run in buffer order)."""

    outputs = ("cci",)

    def __init__(self, params):
        period = params["period"]
        super().__init__(_cci_lookback(params))
        self.period = period
        self.buffer = [0.0] * period
        self.index = 0
        self.filled = 0

    def step(self, open, high, low, close, volume):  # noqa: A002
        p = self.period
        last = (high + low + close) / 3
        self.buffer[self.index] = last
        self.index = (self.index + 1) % p
        if self.filled < p - 1:
            self.filled += 1
            return (NAN,)
        average = 0.0
        for value in self.buffer:
            average += value
        average /= p
        deviation = 0.0
        for value in self.buffer:
            deviation += abs(value - average)
        diff = last - average
        if diff != 0.0 and deviation != 0.0:
            return (diff / (0.015 * (deviation / p)),)
        return (0.0,)


def _stoch_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback(
        "STOCH",
        fastk_period=p["fastk_period"],
        slowk_period=p["slowk_period"],
        slowd_period=p["slowd_period"],
    )


class _StochStream(_BarStream):
    """TA-Lib's STOCH with simple moving averages for slow %K and %D."""

    outputs = ("slowk", "slowd")

    def __init__(self, params):
        super().__init__(_stoch_lookback(params))
        self.highs: deque[float] = deque(maxlen=params["fastk_period"])
        self.lows: deque[float] = deque(maxlen=params["fastk_period"])
        self.slowk = _Sma(params["slowk_period"])
        self.slowd = _Sma(params["slowd_period"])

    def step(self, open, high, low, close, volume):  # noqa: A002
        self.highs.append(high)
        self.lows.append(low)
        if len(self.highs) < self.highs.maxlen:
            return (NAN, NAN)
        lowest = min(self.lows)
        diff = (max(self.highs) - lowest) / 100.0
        fastk = (close - lowest) / diff if diff != 0.0 else 0.0
        slowk = self.slowk.push(fastk)
        if slowk != slowk:
            return (NAN, NAN)
        return (slowk, self.slowd.push(slowk))


# --- trend ------------------------------------------------------------------------------


def _adx_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("ADX", timeperiod=p["period"])


class _AdxStream(_BarStream):
    """TA-Lib's ADX: Wilder-smoothed +DM, -DM and TR (seeded with sums over the
    first ``period - 1`` bars), ADX seeded with the mean of the first ``period`` DX."""

    outputs = ("adx",)

    def __init__(self, params):
        super().__init__(_adx_lookback(params))
        self.period = params["period"]
        self.index = -1
        self.prev_high = self.prev_low = self.prev_close = 0.0
        self.minus_dm = self.plus_dm = self.tr = 0.0
        self.sum_dx = 0.0
        self.adx = NAN

    def step(self, open, high, low, close, volume):  # noqa: A002
        p = self.period
        self.index += 1
        if self.index == 0:
            self.prev_high, self.prev_low, self.prev_close = high, low, close
            return (NAN,)
        diff_p = high - self.prev_high
        diff_m = self.prev_low - low
        self.prev_high, self.prev_low = high, low
        seeding = self.index < p
        if not seeding:
            self.minus_dm -= self.minus_dm / p
            self.plus_dm -= self.plus_dm / p
        if diff_m > 0 and diff_p < diff_m:
            self.minus_dm += diff_m
        elif diff_p > 0 and diff_p > diff_m:
            self.plus_dm += diff_p
        true_range = high - low
        true_range = max(true_range, abs(high - self.prev_close))
        true_range = max(true_range, abs(low - self.prev_close))
        self.prev_close = close
        if seeding:
            self.tr += true_range
            return (NAN,)
        self.tr = self.tr - self.tr / p + true_range
        dx = NAN
        if not _is_zero(self.tr):
            minus_di = 100.0 * (self.minus_dm / self.tr)
            plus_di = 100.0 * (self.plus_dm / self.tr)
            total = minus_di + plus_di
            if not _is_zero(total):
                dx = 100.0 * (abs(minus_di - plus_di) / total)
        if self.index < 2 * p:
            if dx == dx:
                self.sum_dx += dx
            if self.index < 2 * p - 1:
                return (NAN,)
            self.adx = self.sum_dx / p
        elif dx == dx:
            self.adx = (self.adx * (p - 1) + dx) / p
        return (self.adx,)


# --- volatility -------------------------------------------------------------------------


def _atr_lookback(p: dict[str, Any]) -> int:
    return _talib_lookback("ATR", timeperiod=p["period"])


class _AtrStream(_BarStream):
    outputs = ("atr",)

    def __init__(self, params):
        super().__init__(_atr_lookback(params))
        self.atr = _Atr(params["period"])

    def step(self, open, high, low, close, volume):  # noqa: A002
        return (self.atr.push(high, low, close),)


class _BbandsStream(_PriceStream):
    """TA-Lib's BBANDS with an SMA middle band: the variance is the running mean of
    squares less the squared middle band, 0 when below TA-Lib's 1e-14."""

    outputs = ("upper", "middle", "lower")

    def __init__(self, params):
        super().__init__(params, _bbands_lookback(params))
        self.period = params["period"]
        self.up = params["nbdev_up"]
        self.down = params["nbdev_dn"]
        self.sma = _Sma(self.period)
        self.squares: deque[float] = deque()
        self.total2 = 0.0

    def step(self, x):
        middle = self.sma.push(x)
        square = x * x
        self.total2 += square
        self.squares.append(square)
        if middle != middle:
            return (NAN, NAN, NAN)
        mean2 = self.total2 / self.period
        self.total2 -= self.squares.popleft()
        mean2 -= middle * middle
        std = math.sqrt(mean2) if mean2 >= 1e-14 else 0.0
        return (middle + std * self.up, middle, middle - std * self.down)


class _DonchianStream(_BarStream):
    outputs = ("upper", "lower", "middle")

    def __init__(self, params):
        super().__init__(_donchian_lookback(params))
        self.highs: deque[float] = deque(maxlen=params["period"])
        self.lows: deque[float] = deque(maxlen=params["period"])

    def step(self, open, high, low, close, volume):  # noqa: A002
        self.highs.append(high)
        self.lows.append(low)
        upper, lower = max(self.highs), min(self.lows)
        return (upper, lower, (upper + lower) / 2.0)


def _keltner_lookback(p: dict[str, Any]) -> int:
    return max(_ema_lookback(p), _atr_lookback({"period": p["atr_period"]}))


class _KeltnerStream(_BarStream):
    outputs = ("upper", "middle", "lower")

    def __init__(self, params):
        super().__init__(_keltner_lookback(params))
        self.ema = _Ema(params["period"])
        self.atr = _Atr(params["atr_period"])
        self.multiplier = params["multiplier"]

    def step(self, open, high, low, close, volume):  # noqa: A002
        middle = self.ema.push(close)
        width = self.multiplier * self.atr.push(high, low, close)
        return (middle + width, middle, middle - width)


# --- returns ----------------------------------------------------------------------------


class _ReturnsStream(_PriceStream):
    outputs = ("returns",)

    def __init__(self, params):
        super().__init__(params, params["period"])
        self.window: deque[float] = deque(maxlen=params["period"] + 1)

    def step(self, x):
        self.window.append(x)
        if len(self.window) < self.window.maxlen:
            return (NAN,)
        return (self.ratio(x / self.window[0]),)

    @staticmethod
    def ratio(r: float) -> float:
        return r - 1.0


class _LogReturnsStream(_ReturnsStream):
    outputs = ("log_returns",)

    @staticmethod
    def ratio(r: float) -> float:
        return math.log(r)


class _VolatilityStream(_PriceStream):
    """Sample standard deviation (ddof=1) of the last ``period`` one-bar log returns."""

    outputs = ("volatility",)

    def __init__(self, params):
        super().__init__(params, params["period"])
        self.period = params["period"]
        self.scale = math.sqrt(params["annualise"]) if params["annualise"] else 1.0
        self.prev: float | None = None
        self.returns: deque[float] = deque(maxlen=self.period)

    def step(self, x):
        prev, self.prev = self.prev, x
        if prev is None:
            return (NAN,)
        self.returns.append(math.log(x / prev))
        if len(self.returns) < self.period:
            return (NAN,)
        mean = math.fsum(self.returns) / self.period
        var = math.fsum((r - mean) ** 2 for r in self.returns) / (self.period - 1)
        return (math.sqrt(var) * self.scale,)


# --- batch forms ------------------------------------------------------------------------


def _sma_batch(data, p):
    return {"sma": talib.SMA(series(data, p["price"]), timeperiod=p["period"])}


def _ema_batch(data, p):
    return {"ema": talib.EMA(series(data, p["price"]), timeperiod=p["period"])}


def _wma_batch(data, p):
    return {"wma": talib.WMA(series(data, p["price"]), timeperiod=p["period"])}


def _rsi_batch(data, p):
    return {"rsi": talib.RSI(series(data, p["price"]), timeperiod=p["period"])}


def _macd_batch(data, p):
    macd, signal, hist = talib.MACD(
        series(data, p["price"]),
        fastperiod=p["fast_period"],
        slowperiod=p["slow_period"],
        signalperiod=p["signal_period"],
    )
    return {"macd": macd, "signal": signal, "hist": hist}


def _hlc(data):
    return series(data, "high"), series(data, "low"), series(data, "close")


def _cci_batch(data, p):
    return {"cci": talib.CCI(*_hlc(data), timeperiod=p["period"])}


def _stoch_batch(data, p):
    slowk, slowd = talib.STOCH(
        *_hlc(data),
        fastk_period=p["fastk_period"],
        slowk_period=p["slowk_period"],
        slowk_matype=0,
        slowd_period=p["slowd_period"],
        slowd_matype=0,
    )
    return {"slowk": slowk, "slowd": slowd}


def _adx_batch(data, p):
    return {"adx": talib.ADX(*_hlc(data), timeperiod=p["period"])}


def _atr_batch(data, p):
    return {"atr": talib.ATR(*_hlc(data), timeperiod=p["period"])}


def _bbands_batch(data, p):
    upper, middle, lower = talib.BBANDS(
        series(data, p["price"]),
        timeperiod=p["period"],
        nbdevup=p["nbdev_up"],
        nbdevdn=p["nbdev_dn"],
        matype=0,
    )
    return {"upper": upper, "middle": middle, "lower": lower}


def _donchian_batch(data, p):
    upper = talib.MAX(series(data, "high"), timeperiod=p["period"])
    lower = talib.MIN(series(data, "low"), timeperiod=p["period"])
    return {"upper": upper, "lower": lower, "middle": (upper + lower) / 2.0}


def _keltner_batch(data, p):
    high, low, close = _hlc(data)
    middle = talib.EMA(close, timeperiod=p["period"])
    width = p["multiplier"] * talib.ATR(high, low, close, timeperiod=p["atr_period"])
    upper, lower = middle + width, middle - width
    lookback = _keltner_lookback(p)
    for out in (upper, middle, lower):
        out[:lookback] = NAN
    return {"upper": upper, "middle": middle, "lower": lower}


def _lagged(x: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """An all-NaN output and the ratio x[t] / x[t - period] for t >= period."""
    out = np.full(len(x), NAN)
    return out, x[period:] / x[:-period]


def _returns_batch(data, p):
    out, ratio = _lagged(series(data, p["price"]), p["period"])
    out[p["period"] :] = ratio - 1.0
    return {"returns": out}


def _log_returns_batch(data, p):
    out, ratio = _lagged(series(data, p["price"]), p["period"])
    out[p["period"] :] = np.log(ratio)
    return {"log_returns": out}


def _volatility_batch(data, p):
    x = series(data, p["price"])
    period = p["period"]
    out = np.full(len(x), NAN)
    if len(x) > period:
        log_returns = np.log(x[1:] / x[:-1])
        std = sliding_window_view(log_returns, period).std(axis=1, ddof=1)
        out[period:] = std * math.sqrt(p["annualise"]) if p["annualise"] else std
    return {"volatility": out}


# --- registry entries -------------------------------------------------------------------

_DEV = "Standard deviations from the middle band."


def _entry(
    name: str,
    description: str,
    group: str,
    params: tuple[Param, ...],
    outputs: tuple[str, ...],
    inputs: tuple[str, ...],
    batch,
    stream_cls,
    lookback,
    talib_function: str | None = None,
) -> Indicator:
    assert stream_cls.outputs == outputs, name
    return Indicator(
        name=name,
        description=description,
        group=group,
        params=params,
        outputs=outputs,
        inputs=inputs,
        handwritten=True,
        batch=batch,
        stream=stream_cls,
        lookback=lookback,
        talib_function=talib_function,
    )


def _period_lookback(p: dict[str, Any]) -> int:
    return p["period"]


HANDWRITTEN: tuple[Indicator, ...] = (
    _entry(
        "sma",
        "Simple moving average.",
        "trend",
        (period_param(20), price_param()),
        ("sma",),
        (),
        _sma_batch,
        _SmaStream,
        _sma_lookback,
        "SMA",
    ),
    _entry(
        "ema",
        "Exponential moving average, seeded with the SMA of the first `period` bars.",
        "trend",
        (period_param(20), price_param()),
        ("ema",),
        (),
        _ema_batch,
        _EmaStream,
        _ema_lookback,
        "EMA",
    ),
    _entry(
        "wma",
        "Linearly weighted moving average.",
        "trend",
        (period_param(20), price_param()),
        ("wma",),
        (),
        _wma_batch,
        _WmaStream,
        _wma_lookback,
        "WMA",
    ),
    _entry(
        "rsi",
        "Relative strength index (Wilder smoothing), 0-100.",
        "momentum",
        (period_param(14), price_param()),
        ("rsi",),
        (),
        _rsi_batch,
        _RsiStream,
        _rsi_lookback,
        "RSI",
    ),
    _entry(
        "macd",
        "MACD: fast EMA less slow EMA, its signal EMA and the histogram.",
        "momentum",
        (
            period_param(12, name="fast_period", description="Fast EMA period."),
            period_param(26, name="slow_period", description="Slow EMA period."),
            period_param(9, 1, name="signal_period", description="Signal EMA period."),
            price_param(),
        ),
        ("macd", "signal", "hist"),
        (),
        _macd_batch,
        _MacdStream,
        _macd_lookback,
        "MACD",
    ),
    _entry(
        "bbands",
        "Bollinger bands: SMA ± population standard deviation multiples.",
        "volatility",
        (
            period_param(20),
            Param("nbdev_up", float, 2.0, 0.0, 100.0, description=_DEV),
            Param("nbdev_dn", float, 2.0, 0.0, 100.0, description=_DEV),
            price_param(),
        ),
        ("upper", "middle", "lower"),
        (),
        _bbands_batch,
        _BbandsStream,
        _bbands_lookback,
        "BBANDS",
    ),
    _entry(
        "atr",
        "Average true range (Wilder smoothing).",
        "volatility",
        (period_param(14, 1),),
        ("atr",),
        ("high", "low", "close"),
        _atr_batch,
        _AtrStream,
        _atr_lookback,
        "ATR",
    ),
    _entry(
        "adx",
        "Average directional movement index, 0-100.",
        "trend",
        (period_param(14),),
        ("adx",),
        ("high", "low", "close"),
        _adx_batch,
        _AdxStream,
        _adx_lookback,
        "ADX",
    ),
    _entry(
        "stoch",
        "Slow stochastic oscillator (%K and %D smoothed with SMAs), 0-100.",
        "momentum",
        (
            period_param(14, 1, name="fastk_period", description="Bars in the high/low window."),
            period_param(3, 1, name="slowk_period", description="SMA period of slow %K."),
            period_param(3, 1, name="slowd_period", description="SMA period of slow %D."),
        ),
        ("slowk", "slowd"),
        ("high", "low", "close"),
        _stoch_batch,
        _StochStream,
        _stoch_lookback,
        "STOCH",
    ),
    _entry(
        "cci",
        "Commodity channel index.",
        "momentum",
        (period_param(20),),
        ("cci",),
        ("high", "low", "close"),
        _cci_batch,
        _CciStream,
        _cci_lookback,
        "CCI",
    ),
    _entry(
        "donchian",
        "Donchian channel: highest high and lowest low of the last `period` bars "
        "(the current bar included) and their midpoint.",
        "volatility",
        (period_param(20),),
        ("upper", "lower", "middle"),
        ("high", "low"),
        _donchian_batch,
        _DonchianStream,
        _donchian_lookback,
    ),
    _entry(
        "keltner",
        "Keltner channel: EMA(close, period) ± multiplier × ATR(atr_period).",
        "volatility",
        (
            period_param(20, description="EMA period of the middle line."),
            period_param(10, 1, name="atr_period", description="ATR period."),
            Param("multiplier", float, 2.0, 0.0, 100.0, description="ATR multiples."),
        ),
        ("upper", "middle", "lower"),
        ("high", "low", "close"),
        _keltner_batch,
        _KeltnerStream,
        _keltner_lookback,
    ),
    _entry(
        "returns",
        "Simple return over `period` bars: price[t] / price[t - period] - 1.",
        "feature",
        (period_param(1, 1, description="Bars back."), price_param()),
        ("returns",),
        (),
        _returns_batch,
        _ReturnsStream,
        _period_lookback,
    ),
    _entry(
        "log_returns",
        "Log return over `period` bars: ln(price[t] / price[t - period]).",
        "feature",
        (period_param(1, 1, description="Bars back."), price_param()),
        ("log_returns",),
        (),
        _log_returns_batch,
        _LogReturnsStream,
        _period_lookback,
    ),
    _entry(
        "volatility",
        "Rolling sample standard deviation of one-bar log returns over `period` bars, "
        "times sqrt(annualise) when annualise (bars per year) is not 0.",
        "volatility",
        (
            period_param(20, description="One-bar log returns in the window."),
            Param(
                "annualise",
                int,
                0,
                0,
                INT_MAX * 100,
                description="Bars per year to annualise by (252 for daily bars); 0 = not.",
            ),
            price_param(),
        ),
        ("volatility",),
        (),
        _volatility_batch,
        _VolatilityStream,
        _period_lookback,
    ),
)

"""The built-in strategies.

Each one trades one instrument, enters with the run's position sizing and,
when set, attaches a stop-loss, a take-profit and a trailing stop given in
pips (0 = none). The vectorised ones (crossovers, MACD, Bollinger breakout)
give the engine their signals as arrays when no stop is set.
"""

from __future__ import annotations

import numpy as np

from apps.strategies.framework import Context, Strategy, crosses, hold_signals
from apps.strategies.params import Errors, Float, Int

PROTECTIVE = {
    "stop_pips": Float(0.0, 0, 10_000, "Stop-loss distance in pips (0: none).", step=5),
    "take_pips": Float(0.0, 0, 10_000, "Take-profit distance in pips (0: none).", step=5),
    "trail_pips": Float(0.0, 0, 10_000, "Trailing stop distance in pips (0: none).", step=5),
}


def _nan(x: float) -> bool:
    return x != x


class Protected(Strategy):
    """Strategies with the stop-loss / take-profit / trailing-stop parameters."""

    def can_vectorise(self) -> bool:
        p = self.p
        return self.vectorised and not (p.stop_pips or p.take_pips or p.trail_pips)

    def go(self, ctx: Context, direction: int) -> None:
        p, pip = self.p, ctx.pip
        ctx.target(
            direction,
            stop=p.stop_pips * pip or None,
            take=p.take_pips * pip or None,
            trail=p.trail_pips * pip or None,
        )


class MovingAverageCross(Protected):
    """On a cross of the fast average over the slow one, close a short and go
    long; on a cross under, close a long and go short."""

    key = "sma_cross"
    name = "SMA crossover"
    description = (
        "Long when the fast simple moving average crosses above the slow one, short when it "
        "crosses below (always in the market after the first cross)."
    )
    average = "sma"
    vectorised = True
    params = {
        "fast": Int(10, 2, 1000, "Fast average period (bars).", step=1),
        "slow": Int(20, 3, 5000, "Slow average period (bars).", step=5),
        **PROTECTIVE,
    }

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        if values["fast"] >= values["slow"]:
            errors.add("fast", "Must be smaller than slow.")

    def indicators(self):
        return {
            "fast": (self.average, {"period": self.p.fast}, self.average),
            "slow": (self.average, {"period": self.p.slow}, self.average),
        }

    def start(self, ctx: Context) -> None:
        self._fast, self._slow = ctx.ind["fast"], ctx.ind["slow"]

    def on_bar(self, ctx: Context, i: int) -> None:
        if i == 0:
            return
        f, s = self._fast, self._slow
        a, b, pa, pb = f[i], s[i], f[i - 1], s[i - 1]
        if a != a or b != b or pa != pa or pb != pb:  # NaN during warm-up
            return
        if a > b and not pa > pb:
            self.go(ctx, 1)
        elif a < b and not pa < pb:
            self.go(ctx, -1)

    def signals(self, data, ind):
        return hold_signals(crosses(ind["fast"], ind["slow"]))


class EmaCross(MovingAverageCross):
    key = "ema_cross"
    name = "EMA crossover"
    description = (
        "Long when the fast exponential moving average crosses above the slow one, short when "
        "it crosses below."
    )
    average = "ema"


class MacdTrend(Protected):
    key = "macd_trend"
    name = "MACD trend"
    description = "Long when MACD crosses above its signal line, short when it crosses below."
    vectorised = True
    params = {
        "fast": Int(12, 2, 200, "Fast EMA period."),
        "slow": Int(26, 3, 400, "Slow EMA period.", step=2),
        "signal": Int(9, 1, 100, "Signal EMA period."),
        **PROTECTIVE,
    }

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        if values["fast"] >= values["slow"]:
            errors.add("fast", "Must be smaller than slow.")

    def indicators(self):
        p = {"fast_period": self.p.fast, "slow_period": self.p.slow, "signal_period": self.p.signal}
        return {"macd": ("macd", p, "macd"), "signal": ("macd", p, "signal")}

    def on_bar(self, ctx: Context, i: int) -> None:
        if i == 0:
            return
        f, s = ctx.ind["macd"], ctx.ind["signal"]
        a, b, pa, pb = f[i], s[i], f[i - 1], s[i - 1]
        if _nan(a) or _nan(b) or _nan(pa) or _nan(pb):
            return
        if a > b and not pa > pb:
            self.go(ctx, 1)
        elif a < b and not pa < pb:
            self.go(ctx, -1)

    def signals(self, data, ind):
        return hold_signals(crosses(ind["macd"], ind["signal"]))


class RsiReversion(Protected):
    key = "rsi_reversion"
    name = "RSI mean reversion"
    description = (
        "Long when RSI falls below the lower level, short when it rises above the upper level; "
        "out when RSI comes back to the exit level."
    )
    params = {
        "period": Int(14, 2, 200, "RSI period."),
        "lower": Float(30, 1, 50, "Oversold level (go long below).", step=5),
        "upper": Float(70, 50, 99, "Overbought level (go short above).", step=5),
        "exit": Float(50, 1, 99, "Exit level."),
        **PROTECTIVE,
    }

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        if not values["lower"] < values["exit"] < values["upper"]:
            errors.add("exit", "Must lie between lower and upper.")

    def indicators(self):
        return {"rsi": ("rsi", {"period": self.p.period}, "rsi")}

    def on_bar(self, ctx: Context, i: int) -> None:
        r = ctx.ind["rsi"][i]
        if _nan(r):
            return
        p, pos = self.p, ctx.position
        if pos == 0:
            if r < p.lower:
                self.go(ctx, 1)
            elif r > p.upper:
                self.go(ctx, -1)
        elif (pos > 0 and r >= p.exit) or (pos < 0 and r <= p.exit):
            ctx.target(0)


class BollingerBreakout(Protected):
    key = "bollinger_breakout"
    name = "Bollinger breakout"
    description = "Long on a close above the upper band, short on a close below the lower band."
    vectorised = True
    params = {
        "period": Int(20, 2, 500, "Band period."),
        "deviations": Float(2.0, 0.1, 5.0, "Band width in standard deviations.", step=0.5),
        **PROTECTIVE,
    }

    def indicators(self):
        p = {"period": self.p.period, "nbdev_up": self.p.deviations, "nbdev_dn": self.p.deviations}
        return {
            "upper": ("bbands", p, "upper"),
            "middle": ("bbands", p, "middle"),
            "lower": ("bbands", p, "lower"),
        }

    def on_bar(self, ctx: Context, i: int) -> None:
        c, up, lo = ctx.close[i], ctx.ind["upper"][i], ctx.ind["lower"][i]
        if _nan(up) or _nan(lo):
            return
        if c > up:
            self.go(ctx, 1)
        elif c < lo:
            self.go(ctx, -1)

    def signals(self, data, ind):
        close = data["close"]
        events = np.zeros(len(close), dtype=np.int8)
        events[close > ind["upper"]] = 1
        events[close < ind["lower"]] = -1
        return hold_signals(events)


class BollingerReversion(Protected):
    key = "bollinger_reversion"
    name = "Bollinger reversion"
    description = (
        "Long on a close below the lower band, short on a close above the upper band; out when "
        "the close comes back to the middle band."
    )
    params = BollingerBreakout.params

    indicators = BollingerBreakout.indicators

    def on_bar(self, ctx: Context, i: int) -> None:
        ind = ctx.ind
        c, up, mid, lo = ctx.close[i], ind["upper"][i], ind["middle"][i], ind["lower"][i]
        if _nan(up) or _nan(lo):
            return
        pos = ctx.position
        if pos == 0:
            if c < lo:
                self.go(ctx, 1)
            elif c > up:
                self.go(ctx, -1)
        elif (pos > 0 and c >= mid) or (pos < 0 and c <= mid):
            ctx.target(0)


class DonchianBreakout(Protected):
    key = "donchian_breakout"
    name = "Donchian (turtle) breakout"
    description = (
        "Long when the close breaks above the highest high of the previous entry-period bars, "
        "short below the lowest low; out on a break of the shorter exit channel the other way."
    )
    params = {
        "entry": Int(20, 2, 500, "Entry channel (bars)."),
        "exit": Int(10, 2, 500, "Exit channel (bars)."),
        **PROTECTIVE,
    }

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        if values["exit"] > values["entry"]:
            errors.add("exit", "Must not be longer than the entry channel.")

    def indicators(self):
        return {
            "entry_high": ("donchian", {"period": self.p.entry}, "upper"),
            "entry_low": ("donchian", {"period": self.p.entry}, "lower"),
            "exit_high": ("donchian", {"period": self.p.exit}, "upper"),
            "exit_low": ("donchian", {"period": self.p.exit}, "lower"),
        }

    def on_bar(self, ctx: Context, i: int) -> None:
        if i == 0:
            return
        ind = ctx.ind
        # Channels of the bars before this one: a close can break them.
        hi, lo = ind["entry_high"][i - 1], ind["entry_low"][i - 1]
        if _nan(hi) or _nan(lo):
            return
        c, pos = ctx.close[i], ctx.position
        if pos <= 0 and c > hi:
            self.go(ctx, 1)
        elif pos >= 0 and c < lo:
            self.go(ctx, -1)
        elif pos > 0 and c < ind["exit_low"][i - 1]:
            ctx.target(0)
        elif pos < 0 and c > ind["exit_high"][i - 1]:
            ctx.target(0)


class SignalProvider:
    """What a model source gives the ML-signal strategy (the ML app registers
    one with ``register_signal_provider``): whether a model exists, its
    predictions over whole arrays (backtests) and one bar at a time (live),
    equal on the same history and never using bars after t."""

    def exists(self, model_id: int) -> bool:
        raise NotImplementedError

    def batch(self, model_id: int, data: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def stream(self, model_id: int):
        """An object with ``update(open, high, low, close, volume, time_us) -> float``."""
        raise NotImplementedError


_PROVIDERS: list[SignalProvider] = []


def register_signal_provider(provider: SignalProvider) -> None:
    _PROVIDERS.append(provider)


def signal_provider(model_id: int) -> SignalProvider | None:
    return next((p for p in _PROVIDERS if p.exists(model_id)), None)


class _SignalStream:
    def __init__(self, stream) -> None:
        self.stream = stream

    def update(self, open, high, low, close, volume=0.0, time_us=0):  # noqa: A002
        return {"signal": self.stream.update(open, high, low, close, volume, time_us)}


class MlSignal(Protected):
    """Trades a trained model's predicted return: long above ``threshold``,
    short below ``-threshold``, flat in between. The models come from the ML
    app; until one is trained and registered, choosing one is refused."""

    key = "ml_signal"
    name = "ML signal"
    description = (
        "Long when the model's predicted return is above the threshold, short below minus "
        "the threshold, flat in between."
    )
    vectorised = True
    params = {
        "model": Int(1, 1, 2**31 - 1, "Id of a trained model (ML app)."),
        "threshold": Float(0.0, 0.0, 1.0, "Smallest predicted return acted on.", step=0.0001),
        **PROTECTIVE,
    }

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        if signal_provider(values["model"]) is None:
            errors.add("model", f"No trained model {values['model']}: train one in the ML app.")

    def compute_indicators(self, data):
        return {"signal": signal_provider(self.p.model).batch(self.p.model, data)}

    def incremental_indicators(self):
        stream = signal_provider(self.p.model).stream(self.p.model)
        return {"signal": (_SignalStream(stream), "signal")}

    def warmup(self) -> int:
        return 0

    def _direction(self, value: float) -> int | None:
        if value != value:
            return None
        if value > self.p.threshold:
            return 1
        if value < -self.p.threshold:
            return -1
        return 0

    def on_bar(self, ctx: Context, i: int) -> None:
        direction = self._direction(ctx.ind["signal"][i])
        if direction is not None:
            self.go(ctx, direction)

    def signals(self, data, ind):
        signal = ind["signal"]
        out = np.where(
            signal > self.p.threshold, 1.0, np.where(signal < -self.p.threshold, -1.0, 0.0)
        )
        out[np.isnan(signal)] = np.nan
        return out


BUILTIN: dict[str, type[Strategy]] = {
    cls.key: cls
    for cls in (
        MovingAverageCross,
        EmaCross,
        MacdTrend,
        RsiReversion,
        BollingerBreakout,
        BollingerReversion,
        DonchianBreakout,
        MlSignal,
    )
}

"""The strategy framework: what a strategy is and what it may call.

A strategy is a Python class with a declared parameter schema. It sees
closed bars one at a time (``on_bar``) and emits orders through a
``Context``; the backtest engine and a live deployment provide the same
``Context``, so the same code runs in both.

What a strategy reads on bar ``i`` (the bar that just closed):

- ``ctx.open[i]``, ``ctx.high[i]``, ``ctx.low[i]``, ``ctx.close[i]`` (bid
  prices), ``ctx.time_us[i]`` (open time, µs UTC), and any earlier index;
- ``ctx.ind[label][i]``: the indicators it declared in ``indicators()``
  (NaN during their warm-up);
- ``ctx.position`` (signed lots held), ``ctx.equity`` (account currency).

Nothing at an index above ``i`` exists yet (live) or may be read (backtest:
the engine gives the strategy the arrays, but a test checks that changing
bars after ``i`` never changes what happens before).

What it can do: ``ctx.target(+1 | -1 | 0)`` (be long, short or flat with the
run's position sizing), ``ctx.buy``/``ctx.sell`` (market, limit or stop;
lots or the run's sizing), attached ``stop``/``take`` distances and a
``trail`` distance (price units), ``ctx.close()``, ``ctx.cancel_all()``.
Market orders fill at the next bar's open, never at this bar's close.

Ticks: a backtest may fill from the stored ticks inside its bars (``ticks``
setting). Orders then fill at the tick prices, stops and targets trigger on
the first tick that reaches them, and a strategy that defines ``on_tick``
is called with each tick (``Tick(time_us, bid, ask)``) between the closes;
orders it places there fill at the next tick.

A strategy that can say what it wants as a whole array — a target position
direction per bar (+1, -1, 0, NaN for "no change") — sets ``vectorised =
True`` and implements ``signals``; the engine then takes a fast path that
must give exactly the trades and equity of calling ``on_bar`` bar by bar.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar, NamedTuple

import numpy as np

from apps.strategies import indicators as ind_registry
from apps.strategies.params import Errors, Param, validate


class Tick(NamedTuple):
    """One quote, as ``on_tick`` receives it."""

    time_us: int
    bid: float
    ask: float


class Context:
    """What a running strategy sees and calls (see the module docstring)."""

    open: Any
    high: Any
    low: Any
    close: Any
    time_us: Any
    ind: dict[str, Any]

    @property
    def position(self) -> float:
        raise NotImplementedError

    @property
    def equity(self) -> float:
        raise NotImplementedError

    def target(self, direction: int, *, stop=None, take=None, trail=None) -> None:
        raise NotImplementedError

    def buy(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        raise NotImplementedError

    def sell(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        raise NotImplementedError

    def close_position(self) -> None:
        raise NotImplementedError

    def cancel_all(self) -> None:
        raise NotImplementedError


class Strategy:
    """Base class. Subclasses set ``key``, ``name``, ``description``,
    ``params`` and implement ``on_bar`` (and ``signals`` when vectorised)."""

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    vectorised: ClassVar[bool] = False

    def __init__(self, **params) -> None:
        self.values = self.validate(params)
        self.p = SimpleNamespace(**self.values)

    # --- parameters ---------------------------------------------------------

    @classmethod
    def validate(cls, raw: dict | None) -> dict:
        """Full, validated parameters (``InvalidParameters`` with field errors)."""
        values = validate(cls.params, raw)
        errors = Errors()
        cls.check(values, errors)
        errors.raise_if_any()
        cls._check_indicators(values, errors)
        errors.raise_if_any()
        return values

    @classmethod
    def _check_indicators(cls, values: dict, errors: Errors) -> None:
        """The indicators these parameters declare must accept their own
        parameters (a period of 1 where the indicator needs 2 or more, say):
        each problem is reported on the strategy parameter that set it."""
        probe = cls.__new__(cls)
        probe.values, probe.p = values, SimpleNamespace(**values)
        reported = set()
        for label, (name, params, _) in probe.indicators().items():
            try:
                ind_registry.validate_params(name, params)
            except ind_registry.IndicatorError as exc:
                given = set(params.values())
                field = next((k for k, v in values.items() if v in given), label)
                if (field, exc.message) not in reported:
                    reported.add((field, exc.message))
                    errors.add(field, exc.message)

    @classmethod
    def check(cls, values: dict, errors: Errors) -> None:
        """Rules between parameters (``errors.add(field, message)``)."""

    @classmethod
    def describe(cls) -> dict:
        return {
            "key": cls.key,
            "name": cls.name,
            "description": cls.description,
            "vectorised": cls.vectorised,
            "params": {name: p.describe() for name, p in cls.params.items()},
        }

    # --- ticks --------------------------------------------------------------

    def on_tick(self, ctx: Context, tick: Tick) -> None:
        """Optional: called on each stored tick when a backtest fills from
        ticks (``ctx.i`` is the last closed bar; market orders placed here
        fill at the next tick)."""

    @classmethod
    def wants_ticks(cls) -> bool:
        return cls.on_tick is not Strategy.on_tick

    # --- data ---------------------------------------------------------------

    def indicators(self) -> dict[str, tuple[str, dict, str]]:
        """``label → (indicator name, its parameters, output)`` to compute."""
        return {}

    def warmup(self) -> int:
        """Bars before the first one on which every indicator has a value."""
        return max(
            (ind_registry.warmup(name, **params) for name, params, _ in self.indicators().values()),
            default=0,
        )

    def compute_indicators(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The declared indicators over whole arrays (batch)."""
        cache: dict[tuple, dict] = {}
        out = {}
        for label, (name, params, output) in self.indicators().items():
            key = (name, tuple(sorted(params.items())))
            if key not in cache:
                cache[key] = ind_registry.compute(name, data, **params)
            out[label] = cache[key][output]
        return out

    def incremental_indicators(self) -> dict[str, tuple[Any, str]]:
        """``label → (incremental indicator, output)`` for live bars."""
        return {
            label: (ind_registry.incremental(name, **params), output)
            for label, (name, params, output) in self.indicators().items()
        }

    # --- behaviour ----------------------------------------------------------

    def start(self, ctx: Context) -> None:
        """Called once before the first bar."""

    def on_bar(self, ctx: Context, i: int) -> None:
        raise NotImplementedError

    def can_vectorise(self) -> bool:
        """Whether these parameters allow the vectorised path (no stops)."""
        return self.vectorised

    def signals(self, data: dict[str, np.ndarray], ind: dict[str, np.ndarray]) -> np.ndarray:
        """Vectorised strategies: the target direction after each bar's close
        (+1, -1, 0; NaN = keep the current one)."""
        raise NotImplementedError(f"{self.key} is not vectorised")


def crosses(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """+1 where ``a`` crosses above ``b`` at a bar (above now, at or below on
    the bar before), -1 where it crosses below, 0 elsewhere (and where either
    value is NaN)."""
    out = np.zeros(len(a), dtype=np.int8)
    if len(a) < 2:
        return out
    above = a > b
    below = a < b
    valid = ~(np.isnan(a) | np.isnan(b))
    prev_valid = np.r_[False, valid[:-1]]
    ok = valid & prev_valid
    out[1:][(above[1:] & ~above[:-1]) & ok[1:]] = 1
    out[1:][(below[1:] & ~below[:-1]) & ok[1:]] = -1
    return out


def hold_signals(events: np.ndarray) -> np.ndarray:
    """Target directions from ``events`` (+1/-1/0 per bar, 0 = nothing new):
    the event where there is one, NaN (keep) elsewhere."""
    out = np.full(len(events), np.nan)
    mask = events != 0
    out[mask] = events[mask]
    return out

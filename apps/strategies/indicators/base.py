"""The pieces every indicator is made of: its parameters, its error, and the
shape of its batch and incremental forms.

An indicator is a value object (:class:`Indicator`) holding three callables
that all take the *validated* parameter dict:

* ``batch(data, params) -> dict[str, np.ndarray]``: every output over a whole
  history, float64, aligned with the input bars, NaN during warm-up;
* ``stream(params) -> Stream``: an object fed one closed bar at a time whose
  values equal the batch values on the same history;
* ``lookback(params) -> int``: the number of leading NaN bars.

``data`` is any mapping holding float64 arrays ``open``, ``high``, ``low``,
``close``, optionally ``volume`` (zeros when absent) and int64 ``time_us``
(bar open time, microseconds since the epoch, UTC).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fxsite.errors import ApplicationError

NAN = math.nan

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
BAR_FIELDS = ("open", "high", "low", "close", "volume", "time_us")

# The largest magnitude TA-Lib accepts for a real parameter (TA_REAL_MAX).
REAL_MAX = 3e37
INT_MAX = 100_000


class IndicatorError(ApplicationError, ValueError):
    """An unknown indicator or a parameter outside its schema."""

    code = "indicator_invalid"
    default_message = "Invalid indicator request."


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an indicator's schema.

    ``type`` is ``int``, ``float`` or ``str``; a ``str`` parameter takes one of
    ``choices`` (the ``price`` parameters: which bar field feeds the indicator).
    """

    name: str
    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "description": self.description,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out

    def allowed(self) -> str:
        if self.type is str:
            return "one of " + ", ".join(self.choices)
        kind = "an integer" if self.type is int else "a number"
        return f"{kind} between {self.min:g} and {self.max:g}"

    def clean(self, indicator: str, value: Any) -> Any:
        """Return ``value`` as this parameter's type, or raise IndicatorError."""
        cleaned = self._coerce(value)
        if cleaned is None or (
            self.type is not str and not (self.min <= cleaned <= self.max)  # type: ignore[operator]
        ):
            raise IndicatorError(
                f"{indicator}: parameter '{self.name}' must be {self.allowed()} (got {value!r})",
                fields={self.name: [f"Must be {self.allowed()}."]},
            )
        return cleaned

    def _coerce(self, value: Any) -> Any:
        if isinstance(value, bool | np.bool_):
            return None
        if self.type is str:
            return value if isinstance(value, str) and value in self.choices else None
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                return None
        if not isinstance(value, numbers.Real):
            return None
        value = float(value)
        if not math.isfinite(value):
            return None
        if self.type is int:
            return int(value) if value.is_integer() else None
        return value


def price_param(default: str = "close") -> Param:
    return Param(
        "price",
        str,
        default,
        choices=PRICE_FIELDS,
        description="Bar field the indicator is computed on.",
    )


def period_param(
    default: int, minimum: int = 2, name: str = "period", description: str = ""
) -> Param:
    return Param(
        name, int, default, minimum, INT_MAX, description=description or "Bars in the window."
    )


class Stream:
    """Incremental form of an indicator: feed closed bars in order.

    ``update`` returns a fresh ``{output: float}`` dict for the bar just fed,
    NaN while the indicator is warming up.
    """

    outputs: tuple[str, ...] = ()
    warmup: int = 0

    def update(
        self,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float = 0.0,
        time_us: int = 0,
    ) -> dict[str, float]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Indicator:
    """A registered indicator. Call the registry functions rather than the
    private callables: they validate the parameters first."""

    name: str
    description: str
    group: str
    params: tuple[Param, ...]
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    handwritten: bool
    batch: Callable[[Mapping[str, np.ndarray], dict[str, Any]], dict[str, np.ndarray]] = field(
        repr=False
    )
    stream: Callable[[dict[str, Any]], Stream] = field(repr=False)
    lookback: Callable[[dict[str, Any]], int] = field(repr=False)
    talib_function: str | None = None
    check: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The full parameter dict (defaults filled in), or IndicatorError."""
        known = {p.name: p for p in self.params}
        unknown = [k for k in params if k not in known]
        if unknown:
            expected = ", ".join(known) or "none"
            raise IndicatorError(
                f"{self.name}: unknown parameter '{unknown[0]}' (parameters: {expected})",
                fields={unknown[0]: ["Unknown parameter."]},
            )
        out = {
            p.name: p.clean(self.name, params[p.name]) if p.name in params else p.default
            for p in self.params
        }
        if self.check is not None:
            self.check(out)
        return out

    def inputs_for(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The bar fields these (validated) parameters make the indicator read."""
        chosen = tuple(params[p.name] for p in self.params if p.type is str)
        return tuple(dict.fromkeys(self.inputs + chosen))

    def warmup(self, **params: Any) -> int:
        return self.lookback(self.validate_params(params))

    def compute(self, data: Mapping[str, np.ndarray], **params: Any) -> dict[str, np.ndarray]:
        return self.batch(data, self.validate_params(params))

    def incremental(self, **params: Any) -> Stream:
        return self.stream(self.validate_params(params))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "group": self.group,
            "params": [p.describe() for p in self.params],
            "outputs": list(self.outputs),
            "inputs": list(self.inputs_for({p.name: p.default for p in self.params})),
            "handwritten": self.handwritten,
        }


def bar_count(data: Mapping[str, np.ndarray]) -> int:
    for key in BAR_FIELDS:
        if key in data:
            return len(data[key])
    raise IndicatorError("data has none of the bar fields: " + ", ".join(BAR_FIELDS))


def series(data: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    """A contiguous float64 view (no copy when already one) of one bar field."""
    try:
        values = data[key]
    except KeyError:
        if key == "volume":
            return np.zeros(bar_count(data))
        raise IndicatorError(f"data has no '{key}' series") from None
    return np.ascontiguousarray(values, dtype=np.float64)


def times(data: Mapping[str, np.ndarray]) -> np.ndarray:
    try:
        values = data["time_us"]
    except KeyError:
        raise IndicatorError("data has no 'time_us' series") from None
    return np.asarray(values, dtype=np.int64)


def nan_dict(outputs: tuple[str, ...]) -> dict[str, float]:
    return dict.fromkeys(outputs, NAN)

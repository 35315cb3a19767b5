"""Parameter schemas of strategies: declared types, ranges and defaults, and
their validation into per-field errors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from apps.strategies.errors import InvalidParameters


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is ``int``, ``float``, ``bool`` or ``choice``."""

    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    help: str = ""
    step: float | None = None  # the grid step an optimiser uses by default

    def clean(self, raw: Any) -> Any:
        """The value, or ``ValueError`` with a message for the field."""
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            if raw in ("true", "True", "1", 1):
                return True
            if raw in ("false", "False", "0", 0):
                return False
            raise ValueError("Must be true or false.")
        if self.kind == "choice":
            if raw not in self.choices:
                raise ValueError(f"Must be one of {', '.join(map(str, self.choices))}.")
            return raw
        if isinstance(raw, bool):
            raise ValueError(f"Must be {'an integer' if self.kind == 'int' else 'a number'}.")
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(
                f"Must be {'an integer' if self.kind == 'int' else 'a number'}."
            ) from None
        if not math.isfinite(number):
            raise ValueError("Must be a finite number.")
        if self.kind == "int":
            if number != int(number):
                raise ValueError("Must be an integer.")
            number = int(number)
        if self.min is not None and number < self.min:
            raise ValueError(f"Must be at least {_show(self.min)}.")
        if self.max is not None and number > self.max:
            raise ValueError(f"Must be at most {_show(self.max)}.")
        return number

    def describe(self) -> dict:
        out = {"type": self.kind, "default": self.default, "help": self.help}
        if self.kind in ("int", "float"):
            out.update(minimum=self.min, maximum=self.max, step=self.step)
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        return out


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def Int(default: int, min: int | None = None, max: int | None = None, help: str = "", step=1):  # noqa: N802, A002
    return Param("int", default, min, max, help=help, step=step)


def Float(
    default: float, min: float | None = None, max: float | None = None, help: str = "", step=None
):  # noqa: N802, A002
    return Param("float", default, min, max, help=help, step=step)


def Bool(default: bool, help: str = ""):  # noqa: N802
    return Param("bool", default, help=help)


def Choice(default: str, choices: tuple, help: str = ""):  # noqa: N802
    return Param("choice", default, choices=tuple(choices), help=help)


@dataclass
class Errors:
    """Collects per-field messages; ``raise_if_any`` raises them together."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self, message: str = "Some parameters are not valid.") -> None:
        if self.fields:
            raise InvalidParameters(message, fields=self.fields)


def validate(schema: dict[str, Param], raw: dict | None, *, prefix: str = "") -> dict:
    """Every parameter of ``schema`` from ``raw`` (defaults for the missing
    ones); unknown names and bad values are ``InvalidParameters``."""
    raw = dict(raw or {})
    errors = Errors()
    if not isinstance(raw, dict):
        raise InvalidParameters(fields={prefix.rstrip(".") or "params": ["Must be an object."]})
    for name in sorted(set(raw) - set(schema)):
        errors.add(f"{prefix}{name}", f"Unknown parameter; expected one of {', '.join(schema)}.")
    values = {}
    for name, param in schema.items():
        if name not in raw or raw[name] is None:
            values[name] = param.default
            continue
        try:
            values[name] = param.clean(raw[name])
        except ValueError as exc:
            errors.add(f"{prefix}{name}", str(exc))
    errors.raise_if_any()
    return values

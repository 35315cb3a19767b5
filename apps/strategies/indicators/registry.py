"""The registry of named indicators and the functions the rest of the platform calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Indicator, IndicatorError, Stream
from .features import FEATURES
from .handwritten import HANDWRITTEN
from .talib_generic import generic_indicators


def _build() -> dict[str, Indicator]:
    own = {ind.name: ind for ind in (*HANDWRITTEN, *FEATURES)}
    generic = {ind.name: ind for ind in generic_indicators(exclude=set(own))}
    return dict(sorted({**generic, **own}.items()))


REGISTRY: dict[str, Indicator] = _build()


def get(name: str) -> Indicator:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise IndicatorError(
            f"unknown indicator {name!r}", fields={"indicator": ["Unknown indicator."]}
        ) from None


def names() -> list[str]:
    return list(REGISTRY)


def describe() -> list[dict[str, Any]]:
    return [ind.describe() for ind in REGISTRY.values()]


def validate_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return get(name).validate_params(params)


def warmup(name: str, **params: Any) -> int:
    """Leading bars whose values are NaN."""
    return get(name).warmup(**params)


def compute(name: str, data: Mapping[str, np.ndarray], **params: Any) -> dict[str, np.ndarray]:
    """Every output of ``name`` over ``data``: float64 arrays aligned with the bars."""
    return get(name).compute(data, **params)


def incremental(name: str, **params: Any) -> Stream:
    """A fresh stream: ``update(open, high, low, close, volume, time_us)`` per closed bar."""
    return get(name).incremental(**params)

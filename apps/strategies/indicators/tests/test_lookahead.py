"""No value at bar t depends on bars after t, for every registered indicator."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.strategies import indicators

from .bars import random_walk

N = 160
DATA = random_walk(N, seed=21, base=0.7)
OTHER = random_walk(N, seed=22, base=0.8)
BATCH = {name: indicators.compute(name, DATA) for name in indicators.names()}
FIELDS = ("open", "high", "low", "close", "volume", "time_us")


@pytest.mark.parametrize("name", indicators.names())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=st.integers(0, N - 2), mode=st.sampled_from(["truncate", "replace"]))
def test_values_up_to_t_ignore_later_bars(name, t, mode):
    if mode == "truncate":
        data = {k: DATA[k][: t + 1] for k in FIELDS}
    else:  # the bars after t replaced by another history
        data = {k: np.concatenate([DATA[k][: t + 1], OTHER[k][t + 1 :]]) for k in FIELDS}
    out = indicators.compute(name, data)
    for output, values in out.items():
        np.testing.assert_array_equal(values[: t + 1], BATCH[name][output][: t + 1])

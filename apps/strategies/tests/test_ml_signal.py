"""The ML-signal strategy: refused without a trained model; with a model
source registered (here a stand-in predicting the last 3-bar return), both
engine paths trade its predictions identically."""

from __future__ import annotations

import numpy as np
import pytest

from apps.strategies import builtin
from apps.strategies.engine.run import run
from apps.strategies.engine.simulator import Settings
from apps.strategies.errors import InvalidParameters
from apps.strategies.tests.helpers import series, walk

pytestmark = pytest.mark.django_db


class ThreeBarReturn(builtin.SignalProvider):
    def exists(self, model_id):
        return model_id == 7

    def batch(self, model_id, data):
        close = data["close"]
        out = np.full(len(close), np.nan)
        out[3:] = close[3:] / close[:-3] - 1
        return out

    def stream(self, model_id):
        class Stream:
            def __init__(self):
                self.closes = []

            def update(self, o, h, lo, c, v=0.0, t=0):
                self.closes.append(c)
                if len(self.closes) < 4:
                    return float("nan")
                return self.closes[-1] / self.closes[-4] - 1

        return Stream()


@pytest.fixture
def model():
    provider = ThreeBarReturn()
    builtin.register_signal_provider(provider)
    yield 7
    builtin._PROVIDERS.remove(provider)


def test_without_a_trained_model_it_is_refused():
    with pytest.raises(InvalidParameters) as info:
        builtin.MlSignal.validate({"model": 7})
    assert "train one in the ML app" in info.value.fields["model"][0]


def test_it_trades_the_predictions_the_same_on_both_paths(model):
    se = series(walk(3_000, seed=5))

    def strategy():
        return builtin.MlSignal(model=model, threshold=0.002)

    fast = run(strategy, [se], Settings(swap=False), path="vectorised")
    slow = run(strategy, [se], Settings(swap=False), path="bar")
    assert fast.path == "vectorised" and len(fast.trades) > 10
    assert fast.trades == slow.trades and np.array_equal(fast.equity, slow.equity)
    # Its live form predicts what the batch form does.
    stream = builtin.MlSignal(model=model).incremental_indicators()["signal"][0]
    arrays = se.arrays()
    batch = ThreeBarReturn().batch(7, arrays)
    live = [
        stream.update(o, h, lo, c)["signal"]
        for o, h, lo, c in zip(
            arrays["open"], arrays["high"], arrays["low"], arrays["close"], strict=True
        )
    ]
    np.testing.assert_array_equal(np.array(live), batch)

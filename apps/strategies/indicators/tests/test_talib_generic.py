import numpy as np
import pytest
import talib
from talib import abstract

from apps.strategies import indicators
from apps.strategies.indicators.talib_generic import SKIPPED

from .bars import assert_same, leading_nans, random_walk, stream_values

GENERIC = [name for name in indicators.names() if not indicators.get(name).handwritten]
# Prices inside every math function's domain (ACOS/ASIN need |x| <= 1).
BASE = 0.7


def test_every_talib_function_is_registered_or_skipped():
    registered = {indicators.get(n).talib_function for n in indicators.names()}
    for function in talib.get_functions():
        assert function in registered or function in SKIPPED, function
    assert {"kama", "mom", "obv", "sar", "willr", "cdlengulfing", "beta", "correl"} <= set(GENERIC)


@pytest.mark.parametrize("name", GENERIC)
def test_incremental_equals_batch(name):
    data = random_walk(400, seed=11, base=BASE)
    indicator = indicators.get(name)
    batch = indicators.compute(name, data)
    streamed = stream_values(indicators.incremental(name), data, indicator.outputs)
    warmup = indicators.warmup(name)
    for output in indicator.outputs:
        assert batch[output].dtype == np.float64
        assert leading_nans(batch[output]) == warmup, output
        assert_same(batch[output], streamed[output], f"{name} {output}")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ma", {"timeperiod": 10, "matype": 1}),
        ("ma", {"timeperiod": 10, "matype": 5}),
        ("ma", {"timeperiod": 10, "matype": 8}),
        ("apo", {"matype": 2}),
        ("ppo", {"matype": 1}),
        ("stochf", {"fastd_matype": 1}),
        ("macdext", {"fastmatype": 2, "slowmatype": 5, "signalmatype": 0}),
        ("macdext", {"fastmatype": 6, "slowmatype": 1, "signalmatype": 3}),
        ("kama", {"timeperiod": 5, "price": "high"}),
        ("max", {"timeperiod": 3, "price": "low"}),
        ("maxindex", {"timeperiod": 4}),
        ("aroon", {"timeperiod": 5}),
        ("correl", {"timeperiod": 7, "price0": "close", "price1": "open"}),
        ("var", {"timeperiod": 9, "nbdev": 2.0}),
        ("sar", {"acceleration": 0.05, "maximum": 0.3}),
        ("cdlmorningstar", {"penetration": 0.1}),
        ("t3", {"timeperiod": 3, "vfactor": 0.5}),
    ],
)
def test_incremental_equals_batch_with_other_parameters(name, params):
    data = random_walk(400, seed=12, decimals=3)  # coarse quotes: many ties
    indicator = indicators.get(name)
    batch = indicators.compute(name, data, **params)
    streamed = stream_values(indicators.incremental(name, **params), data, indicator.outputs)
    for output in indicator.outputs:
        assert leading_nans(batch[output]) == indicators.warmup(name, **params)
        assert_same(batch[output], streamed[output], f"{name} {params} {output}")


def test_window_stream_runs_past_its_buffer():
    data = random_walk(1_000, seed=13)
    batch = indicators.compute("willr", data, timeperiod=5)["real"]
    streamed = stream_values(indicators.incremental("willr", timeperiod=5), data, ("real",))
    assert_same(batch, streamed["real"])


def test_generic_functions_match_talib_directly():
    data = random_walk(300, seed=14)
    high, low, close, volume = data["high"], data["low"], data["close"], data["volume"]
    np.testing.assert_array_equal(
        indicators.compute("kama", data, timeperiod=10)["real"], talib.KAMA(close, 10)
    )
    np.testing.assert_array_equal(
        indicators.compute("willr", data, timeperiod=14)["real"],
        talib.WILLR(high, low, close, 14),
    )
    np.testing.assert_array_equal(indicators.compute("obv", data)["real"], talib.OBV(close, volume))
    np.testing.assert_array_equal(
        indicators.compute("mom", data, price="open")["real"], talib.MOM(data["open"], 10)
    )
    np.testing.assert_array_equal(
        indicators.compute("beta", data)["real"], talib.BETA(high, low, 5)
    )
    aroon = indicators.compute("aroon", data)
    down, up = talib.AROON(high, low, 14)
    np.testing.assert_array_equal(aroon["aroondown"], down)
    np.testing.assert_array_equal(aroon["aroonup"], up)


def test_integer_outputs_are_floats_with_nan_warmup():
    data = random_walk(300, seed=15)
    out = indicators.compute("cdlengulfing", data)["integer"]
    raw = talib.CDLENGULFING(data["open"], data["high"], data["low"], data["close"])
    assert out.dtype == np.float64
    assert np.isnan(out[:2]).all()
    np.testing.assert_array_equal(out[2:], raw[2:].astype(np.float64))


@pytest.mark.parametrize("name", GENERIC)
def test_parameter_ranges_are_talibs(name):
    indicator = indicators.get(name)
    f = abstract.Function(indicator.talib_function)
    numeric = [p for p in indicator.params if p.type is not str]
    assert [p.name for p in numeric] == list(f.parameters)
    for param in numeric:
        assert param.default == f.parameters[param.name]
        for value in (param.min, param.max):
            assert indicators.warmup(name, **{param.name: value}) >= 0
        if param.type is int:
            f.set_parameters({param.name: param.min - 1})
            assert f.lookback < 0
            f.set_parameters({param.name: param.default})

import numpy as np
import pytest
import talib

from apps.strategies import indicators

from .bars import assert_same, leading_nans, random_walk, stream_values

# Two parameter sets per hand-written indicator: the defaults and another one.
CASES = {
    "sma": [{}, {"period": 7, "price": "high"}],
    "ema": [{}, {"period": 3, "price": "open"}],
    "wma": [{}, {"period": 9, "price": "low"}],
    "rsi": [{}, {"period": 5}],
    "macd": [{}, {"fast_period": 5, "slow_period": 13, "signal_period": 4}],
    "bbands": [{}, {"period": 10, "nbdev_up": 1.5, "nbdev_dn": 2.5, "price": "high"}],
    "atr": [{}, {"period": 5}],
    "adx": [{}, {"period": 6}],
    "stoch": [{}, {"fastk_period": 5, "slowk_period": 1, "slowd_period": 4}],
    "cci": [{}, {"period": 7}],
    "donchian": [{}, {"period": 5}],
    "keltner": [{}, {"period": 10, "atr_period": 20, "multiplier": 1.5}],
    "returns": [{}, {"period": 5, "price": "open"}],
    "log_returns": [{}, {"period": 3}],
    "volatility": [{}, {"period": 10, "annualise": 252}],
    "session": [{}],
    "calendar": [{}],
}

HANDWRITTEN = sorted(name for name in indicators.names() if indicators.get(name).handwritten)


def test_every_handwritten_indicator_has_cases():
    assert sorted(CASES) == HANDWRITTEN


@pytest.mark.parametrize(
    ("name", "params"), [(name, p) for name, sets in CASES.items() for p in sets]
)
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_equals_batch(name, params, seed):
    data = random_walk(600, seed=seed)
    indicator = indicators.get(name)
    batch = indicators.compute(name, data, **params)
    streamed = stream_values(indicators.incremental(name, **params), data, indicator.outputs)
    assert set(batch) == set(indicator.outputs)
    for output in indicator.outputs:
        assert batch[output].dtype == np.float64
        assert batch[output].shape == data["close"].shape
        assert_same(batch[output], streamed[output], f"{name} {params} {output}")


@pytest.mark.parametrize(
    ("name", "params"), [(name, p) for name, sets in CASES.items() for p in sets]
)
def test_warmup_is_the_leading_nan_count(name, params):
    batch = indicators.compute(name, random_walk(300, seed=3), **params)
    warmup = indicators.warmup(name, **params)
    for output, values in batch.items():
        assert leading_nans(values) == warmup, output
        assert not np.isnan(values[warmup:]).any(), output


@pytest.mark.parametrize(
    ("name", "function", "params", "talib_params"),
    [
        ("sma", "SMA", {"period": 10}, {"timeperiod": 10}),
        ("ema", "EMA", {"period": 10}, {"timeperiod": 10}),
        ("rsi", "RSI", {"period": 10}, {"timeperiod": 10}),
        ("atr", "ATR", {"period": 10}, {"timeperiod": 10}),
        ("adx", "ADX", {"period": 10}, {"timeperiod": 10}),
        ("macd", "MACD", {}, {}),
        ("bbands", "BBANDS", {"period": 10}, {"timeperiod": 10}),
        ("stoch", "STOCH", {}, {"fastk_period": 14}),
        ("cci", "CCI", {}, {"timeperiod": 20}),
    ],
)
def test_warmup_is_talib_lookback(name, function, params, talib_params):
    f = talib.abstract.Function(function)
    f.set_parameters(talib_params)
    assert indicators.warmup(name, **params) == f.lookback


@pytest.fixture
def unstable_periods():
    functions = {"EMA": 5, "RSI": 3, "ATR": 4, "ADX": 2}
    for function, period in functions.items():
        talib.set_unstable_period(function, period)
    yield
    for function in functions:
        talib.set_unstable_period(function, 0)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ema", {"period": 6}),
        ("rsi", {"period": 6}),
        ("atr", {"period": 6}),
        ("adx", {"period": 6}),
        ("macd", {"fast_period": 4, "slow_period": 9, "signal_period": 3}),
        ("keltner", {"period": 5, "atr_period": 3}),
    ],
)
def test_talib_unstable_period_is_followed(unstable_periods, name, params):
    data = random_walk(300, seed=4)
    indicator = indicators.get(name)
    batch = indicators.compute(name, data, **params)
    streamed = stream_values(indicators.incremental(name, **params), data, indicator.outputs)
    warmup = indicators.warmup(name, **params)
    for output in indicator.outputs:
        assert leading_nans(batch[output]) == warmup
        assert_same(batch[output], streamed[output], output)


def test_macd_takes_fast_and_slow_in_either_order():
    data = random_walk(200, seed=5)
    swapped = {"fast_period": 26, "slow_period": 12}
    batch = indicators.compute("macd", data, **swapped)
    straight = indicators.compute("macd", data)
    np.testing.assert_array_equal(batch["macd"], straight["macd"])
    streamed = stream_values(indicators.incremental("macd", **swapped), data, ("macd",))
    assert_same(batch["macd"], streamed["macd"])


def test_atr_of_one_bar_is_the_true_range():
    data = random_walk(50, seed=6)
    atr = indicators.compute("atr", data, period=1)["atr"]
    tr = talib.TRANGE(data["high"], data["low"], data["close"])
    np.testing.assert_array_equal(atr, tr)
    streamed = stream_values(indicators.incremental("atr", period=1), data, ("atr",))
    assert_same(atr, streamed["atr"])


def test_flat_prices_give_talib_zeros():
    n = 80
    flat = {k: np.full(n, 1.2345) for k in ("open", "high", "low", "close")}
    flat["volume"] = np.zeros(n)
    flat["time_us"] = np.arange(n, dtype=np.int64)
    for name in ("rsi", "adx", "stoch", "cci", "bbands", "volatility"):
        indicator = indicators.get(name)
        batch = indicators.compute(name, flat)
        streamed = stream_values(indicators.incremental(name), flat, indicator.outputs)
        for output in indicator.outputs:
            assert_same(batch[output], streamed[output], f"{name} {output}")


def test_donchian_includes_the_current_bar():
    data = random_walk(40, seed=7)
    out = indicators.compute("donchian", data, period=5)
    assert out["upper"][10] == data["high"][6:11].max()
    assert out["lower"][10] == data["low"][6:11].min()
    assert out["middle"][10] == (out["upper"][10] + out["lower"][10]) / 2


def test_keltner_is_ema_plus_minus_atr_multiples():
    data = random_walk(100, seed=8)
    out = indicators.compute("keltner", data, period=20, atr_period=10, multiplier=2.0)
    ema = talib.EMA(data["close"], 20)
    atr = talib.ATR(data["high"], data["low"], data["close"], 10)
    np.testing.assert_allclose(out["upper"][19:], (ema + 2.0 * atr)[19:])
    np.testing.assert_allclose(out["lower"][19:], (ema - 2.0 * atr)[19:])


def test_returns_and_volatility_definitions():
    data = random_walk(100, seed=9)
    close = data["close"]
    returns = indicators.compute("returns", data, period=3)["returns"]
    assert returns[10] == pytest.approx(close[10] / close[7] - 1)
    log_returns = indicators.compute("log_returns", data, period=3)["log_returns"]
    assert log_returns[10] == pytest.approx(np.log(close[10] / close[7]))
    vol = indicators.compute("volatility", data, period=10)["volatility"]
    one_bar = np.log(close[1:] / close[:-1])
    assert vol[10] == pytest.approx(one_bar[0:10].std(ddof=1))
    yearly = indicators.compute("volatility", data, period=10, annualise=252)["volatility"]
    assert yearly[50] == pytest.approx(vol[50] * np.sqrt(252))


def test_volume_may_be_absent():
    data = random_walk(60, seed=10)
    del data["volume"]
    assert np.all(indicators.compute("obv", data)["real"][1:] == 0.0)
    assert indicators.compute("sma", data)["sma"].shape == (60,)

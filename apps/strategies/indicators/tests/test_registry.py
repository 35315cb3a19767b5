import datetime as dt

import numpy as np
import pytest

from apps.strategies import indicators
from apps.strategies.indicators import IndicatorError

from .bars import FIELDS, random_walk, stream_values


def _us(*args) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 1_000_000


def test_unknown_indicator():
    with pytest.raises(IndicatorError, match="unknown indicator 'nope'"):
        indicators.get("nope")
    with pytest.raises(IndicatorError):
        indicators.compute("nope", random_walk(10))


def test_indicator_error_is_a_value_error_with_a_code():
    with pytest.raises(ValueError) as info:
        indicators.validate_params("rsi", {"period": 1})
    assert info.value.code == "indicator_invalid"
    assert info.value.fields == {"period": ["Must be an integer between 2 and 100000."]}


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rsi", {"period": 1}, "rsi: parameter 'period' must be an integer between 2 and 100000"),
        ("sma", {"period": 100_001}, "'period' must be an integer between 2 and 100000"),
        ("sma", {"period": 2.5}, "'period' must be an integer"),
        ("sma", {"period": True}, "'period' must be an integer"),
        ("sma", {"period": "x"}, "'period' must be an integer"),
        ("sma", {"price": "mid"}, "'price' must be one of open, high, low, close, volume"),
        ("bbands", {"nbdev_up": -1}, "'nbdev_up' must be a number between 0 and 100"),
        ("bbands", {"nbdev_up": float("nan")}, "'nbdev_up' must be a number"),
        ("sma", {"periods": 5}, "sma: unknown parameter 'periods' \\(parameters: period, price\\)"),
        ("t3", {"vfactor": 1.5}, "t3: parameter 'vfactor' must be a number between 0 and 1"),
        ("kama", {"timeperiod": 1}, "kama: parameter 'timeperiod' must be an integer between 2"),
        ("ma", {"matype": 9}, "ma: parameter 'matype' must be an integer between 0 and 8"),
    ],
)
def test_parameter_validation(name, params, message):
    with pytest.raises(IndicatorError, match=message):
        indicators.validate_params(name, params)
    with pytest.raises(IndicatorError):
        indicators.incremental(name, **params)


def test_validate_params_fills_defaults_and_coerces():
    assert indicators.validate_params("macd", {"fast_period": "8", "signal_period": 5.0}) == {
        "fast_period": 8,
        "slow_period": 26,
        "signal_period": 5,
        "price": "close",
    }
    assert indicators.validate_params("bbands", {"nbdev_up": 1}) == {
        "period": 20,
        "nbdev_up": 1.0,
        "nbdev_dn": 2.0,
        "price": "close",
    }
    assert indicators.validate_params("session", {}) == {}


def test_names_and_describe():
    names = indicators.names()
    assert names == sorted(names)
    required = {
        "sma", "ema", "wma", "rsi", "macd", "bbands", "atr", "adx", "stoch", "cci", "donchian",
        "keltner", "returns", "log_returns", "volatility", "session", "calendar",
    }  # fmt: skip
    assert required <= set(names)
    described = {d["name"]: d for d in indicators.describe()}
    assert set(described) == set(names)
    assert described["bbands"]["outputs"] == ["upper", "middle", "lower"]
    assert described["bbands"]["group"] == "volatility"
    assert described["cdlengulfing"]["group"] == "pattern"
    assert described["obv"]["inputs"] == ["volume", "close"]
    assert described["session"]["group"] == "feature"
    assert {"name": "period", "type": "int", "default": 20, "min": 2, "max": 100_000}.items() <= (
        described["sma"]["params"][0].items()
    )
    for entry in described.values():
        assert entry["group"] in {
            "trend", "momentum", "volatility", "volume", "pattern", "feature", "cycle",
            "statistic", "price", "math",
        }  # fmt: skip


def test_session_features_on_known_times():
    stamps = [
        _us(2024, 3, 4, 0, 0),  # Monday 00:00: Asia
        _us(2024, 3, 4, 8, 30),  # Monday 08:30: Asia and London
        _us(2024, 3, 6, 13, 0),  # Wednesday 13:00: London and New York
        _us(2024, 3, 8, 20, 59),  # Friday 20:59: New York
        _us(2024, 3, 10, 22, 0),  # Sunday 22:00: none
    ]
    data = {"time_us": np.array(stamps, dtype=np.int64)}
    out = indicators.compute("session", data)
    assert out["hour_utc"].tolist() == [0, 8, 13, 20, 22]
    assert out["day_of_week"].tolist() == [0, 0, 2, 4, 6]
    assert out["is_asia"].tolist() == [1, 1, 0, 0, 0]
    assert out["is_london"].tolist() == [0, 1, 1, 0, 0]
    assert out["is_new_york"].tolist() == [0, 0, 1, 1, 0]
    stream = indicators.incremental("session")
    assert [stream.update(1, 1, 1, 1, 0, s) for s in stamps][2] == {
        "hour_utc": 13.0,
        "day_of_week": 2.0,
        "is_asia": 0.0,
        "is_london": 1.0,
        "is_new_york": 1.0,
    }


def test_calendar_features_on_known_times():
    stamps = [
        _us(2024, 1, 1, 0, 0),  # Monday, ISO week 1
        _us(2021, 1, 3, 23, 59),  # Sunday, ISO week 53 of 2020
        _us(2024, 12, 30, 12, 0),  # Monday, ISO week 1 of 2025
        _us(2024, 2, 29, 6, 0),  # leap day, week 9
        _us(1999, 12, 31, 6, 0),  # Friday, week 52
    ]
    out = indicators.compute("calendar", {"time_us": np.array(stamps, dtype=np.int64)})
    assert out["month"].tolist() == [1, 1, 12, 2, 12]
    assert out["day_of_month"].tolist() == [1, 3, 30, 29, 31]
    assert out["week_of_year"].tolist() == [1, 53, 1, 9, 52]


def test_calendar_stream_matches_batch_over_years():
    n = 3_000
    data = random_walk(n, seed=30)
    data["time_us"] = _us(2019, 12, 20) + np.arange(n, dtype=np.int64) * 7 * 3_600_000_000
    for name in ("calendar", "session"):
        batch = indicators.compute(name, data)
        streamed = stream_values(indicators.incremental(name), data, tuple(batch))
        for output, values in batch.items():
            np.testing.assert_array_equal(streamed[output], values, err_msg=output)
            assert set(FIELDS) <= set(data)

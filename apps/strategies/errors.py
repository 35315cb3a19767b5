"""Errors of the strategies domain (mapped to the platform's error format by
``fxsite.api.exceptions``)."""

from fxsite.errors import ApplicationError, NotFoundError


class StrategyError(ApplicationError):
    code = "strategy_error"


class InvalidParameters(StrategyError):
    """Strategy parameters or backtest settings that do not validate; ``fields``
    maps each bad field to its messages."""

    code = "invalid_parameters"
    default_message = "Some parameters are not valid."


class UnknownStrategy(NotFoundError):
    code = "unknown_strategy"
    default_message = "No such strategy."


class NoData(StrategyError):
    """No bars for the requested instrument, timeframe and period."""

    code = "no_data"
    status_code = 422


class BacktestCancelled(StrategyError):
    code = "backtest_cancelled"
    status_code = 409
    default_message = "The backtest was cancelled."

"""Errors of the trading domain."""

from fxsite.errors import ApplicationError


class TradingError(ApplicationError):
    code = "trading_error"


class InvalidTransition(TradingError):
    code = "invalid_transition"
    status_code = 409


class AccountNotActive(TradingError):
    code = "account_not_active"
    status_code = 409


class InvalidOrder(TradingError):
    code = "invalid_order"
    status_code = 400

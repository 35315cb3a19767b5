"""Errors of the risk domain.

``RiskRejected`` carries the code of the check that refused an order
(``RISK_MAX_ORDER_SIZE`` ... ``RISK_REDUCING``), a message naming the limit,
the value and the order's effect, and the same figures in ``extra``.
"""

from fxsite.errors import ApplicationError


class RiskError(ApplicationError):
    code = "risk_error"


class RiskRejected(RiskError):
    status_code = 409
    default_message = "The order breaks a risk limit."

    MAX_ORDER_SIZE = "RISK_MAX_ORDER_SIZE"
    MAX_POSITION = "RISK_MAX_POSITION"
    EXPOSURE = "RISK_EXPOSURE"
    LEVERAGE = "RISK_LEVERAGE"
    MARGIN = "RISK_MARGIN"
    OPEN_ORDERS = "RISK_OPEN_ORDERS"
    ORDER_RATE = "RISK_ORDER_RATE"
    DAILY_LOSS = "RISK_DAILY_LOSS"
    DRAWDOWN = "RISK_DRAWDOWN"
    INSTRUMENT = "RISK_INSTRUMENT"
    HOURS = "RISK_HOURS"
    HALTED = "RISK_HALTED"
    REDUCING = "RISK_REDUCING"

    CODES = (
        MAX_ORDER_SIZE,
        MAX_POSITION,
        EXPOSURE,
        LEVERAGE,
        MARGIN,
        OPEN_ORDERS,
        ORDER_RATE,
        DAILY_LOSS,
        DRAWDOWN,
        INSTRUMENT,
        HOURS,
        HALTED,
        REDUCING,
    )


class RiskPermissionDenied(RiskError):
    code = "permission_denied"
    status_code = 403


class InvalidRiskRequest(RiskError):
    code = "invalid_risk_request"
    status_code = 400

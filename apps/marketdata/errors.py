"""Errors of the market data domain."""

from fxsite.errors import ApplicationError


class MarketDataError(ApplicationError):
    code = "marketdata_error"


class UnknownSymbol(MarketDataError):
    code = "unknown_symbol"
    status_code = 400

    def __init__(self, symbols: list[str], field: str = "symbol"):
        names = ", ".join(symbols)
        super().__init__(
            f"Unknown or disabled symbol(s): {names}.",
            fields={field: [f"Unknown or disabled symbol(s): {names}."]},
        )


class InvalidImport(MarketDataError):
    code = "invalid_import"
    status_code = 400


class SourceStateError(MarketDataError):
    code = "source_state"
    status_code = 409


class SourceConfigError(MarketDataError):
    code = "source_config"
    status_code = 400

"""The base of every domain error.

Each app raises subclasses with its own ``code`` (``RiskLimitBreached``,
``AccountLocked`` ...); ``fxsite.api.exceptions.exception_handler`` turns them
into the platform's single error format with ``status_code``.
"""

from typing import Any


class ApplicationError(Exception):
    code: str = "application_error"
    status_code: int = 400
    default_message: str = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    code = "not_found"
    status_code = 404
    default_message = "Not found."


class ConflictError(ApplicationError):
    code = "conflict"
    status_code = 409
    default_message = "The request conflicts with the current state."

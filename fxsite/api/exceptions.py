"""One error format for every API error.

``{"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}``
for validation, authentication, permission, throttling, domain errors
(:class:`fxsite.errors.ApplicationError`) and unexpected server errors.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fxsite.errors import ApplicationError

logger = logging.getLogger(__name__)

NON_FIELD_KEY = "non_field_errors"


def error_body(code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> dict:
    error: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    error.update(extra)
    return {"error": error}


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"a.b": ["msg"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or NON_FIELD_KEY] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                out.update(_flatten_fields(item, name))
    else:
        out[prefix or NON_FIELD_KEY] = [str(detail)]
    return out


def _validation_message(fields: dict[str, list[str]]) -> str:
    if list(fields) == [NON_FIELD_KEY]:
        return fields[NON_FIELD_KEY][0]
    names = ", ".join(sorted(fields))
    return f"Invalid input: {names}."


def _code_of(exc: exceptions.APIException) -> str:
    detail = exc.detail
    # simplejwt puts its own code ("token_not_valid", "user_inactive") in the detail.
    if isinstance(detail, dict) and "code" in detail and isinstance(detail["code"], str):
        return str(detail["code"])
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def _message_of(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    if isinstance(detail, (list, dict)):
        return str(exc.default_detail)
    return str(detail)


def validation_body(detail: Any) -> dict:
    """The error body of a serializer's errors (``ValidationError.detail``)."""
    fields = _flatten_fields(detail)
    return error_body("validation_error", _validation_message(fields), fields)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_KEY: exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: log with the traceback and answer in the same format.
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body("server_error", "An unexpected error occurred. It has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body = validation_body(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        body = error_body(
            "throttled",
            _message_of(exc),
            retry_after=int(exc.wait) if exc.wait is not None else None,
        )
    else:
        body = error_body(_code_of(exc), _message_of(exc))
    response.data = body
    return response

"""JSON log lines with the request/correlation id."""

import logging
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from apps.monitoring.context import get_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs after the middleware returned: use its request.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or get_request_id() or "-"
        return True


class JsonFormatter(_BaseJsonFormatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra}``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", _RESERVED)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["ts"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["request_id"] = getattr(record, "request_id", None) or get_request_id()
        log_record["process"] = record.processName
        request = log_record.get("request")
        if request is not None and hasattr(request, "path"):
            log_record["request"] = f"{request.method} {request.path}"


_RESERVED = [
    "args",
    "asctime",
    "created",
    "exc_info",
    "exc_text",
    "filename",
    "funcName",
    "levelname",
    "levelno",
    "lineno",
    "module",
    "msecs",
    "msg",
    "name",
    "pathname",
    "process",
    "processName",
    "relativeCreated",
    "stack_info",
    "thread",
    "threadName",
    "taskName",
    "request_id",
]

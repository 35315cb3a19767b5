import json
import logging

import pytest

from apps.monitoring.context import reset_request_id, set_request_id
from apps.monitoring.logging import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


def test_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_missing_or_unsafe(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    unsafe = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert unsafe != "bad id\nwith newline" and len(unsafe) == 32


def test_api_errors_carry_the_request_id_header(client):
    response = client.get("/api/v1/me/", HTTP_X_REQUEST_ID="trace-me")
    assert response.status_code == 401
    assert response["X-Request-ID"] == "trace-me"


def test_log_lines_are_json_with_the_request_id():
    record = logging.LogRecord("apps.test", logging.INFO, __file__, 1, "hello %s", ("fx",), None)
    token = set_request_id("rid-42")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello fx"
    assert line["request_id"] == "rid-42"
    assert line["level"] == "INFO"
    assert line["logger"] == "apps.test"
    assert line["ts"].endswith("+00:00")

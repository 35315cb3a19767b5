"""Every API error has one format; the schema builds without warnings."""

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


def assert_error_format(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_unknown_api_path_is_a_json_404(client):
    assert_error_format(client.get("/api/v1/does-not-exist/"), 404, "not_found")
    assert_error_format(client.get("/api/v2/me/"), 404, "not_found")
    # A missing trailing slash on a real endpoint redirects like APPEND_SLASH.
    response = client.get("/api/docs")
    assert response.status_code == 301 and response["Location"] == "/api/docs/"
    assert_error_format(client.post("/api/v1/me"), 404, "not_found")


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )
    assert_error_format(response, 400, "parse_error")


def test_wrong_method_is_405(trader_client):
    assert_error_format(trader_client.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_permission_denied_format(trader_client):
    from rest_framework.test import APIClient

    created = trader_client.post("/api/v1/api-keys/", {"name": "k"}, format="json").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created['key']}")
    assert_error_format(client.get("/api/v1/api-keys/"), 403, "permission_denied")


@override_settings(ROOT_URLCONF="tests.urls_failing", DEBUG=False)
def test_unexpected_errors_are_a_json_500(client):
    client.raise_request_exception = False
    assert_error_format(client.get("/api/v1/boom/"), 500, "server_error")


def test_list_endpoints_are_paginated(trader_client):
    for name in ("a", "b", "c"):
        trader_client.post("/api/v1/api-keys/", {"name": name}, format="json")
    page = trader_client.get("/api/v1/api-keys/", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert_error_format(trader_client.get("/api/v1/api-keys/", {"page": 99}), 404, "not_found")


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/api-keys/", "/api/v1/auth/logout/"):
        assert path in text
    assert "ApiKeyAuth" in text and "jwtAuth" in text


def test_schema_and_swagger_ui_are_served(client):
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()

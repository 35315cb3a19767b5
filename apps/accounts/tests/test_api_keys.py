import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys/"


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def create_key(client, **data) -> dict:
    response = client.post(KEYS, {"name": "bot", **data}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_key_is_shown_once_and_stored_hashed(trader_client):
    created = create_key(trader_client, scope="trade")
    assert created["key"].startswith("fx_")
    stored = ApiKey.objects.get(pk=created["id"])
    assert created["key"] not in (stored.hashed_key, stored.prefix)
    listed = trader_client.get(KEYS).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]
    assert "key" not in trader_client.get(f"{KEYS}{created['id']}/").json()


def test_api_key_authenticates_and_records_last_use(trader_client):
    created = create_key(trader_client)
    response = key_client(created["key"]).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "trader1"
    assert ApiKey.objects.get(pk=created["id"]).last_used_at is not None


def test_read_scope_cannot_write_and_trade_scope_can(trader_client):
    read = create_key(trader_client, name="reader")
    trade = create_key(trader_client, name="trader-bot", scope="trade")
    response = key_client(read["key"]).patch("/api/v1/me/", {"first_name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    response = key_client(trade["key"]).patch("/api/v1/me/", {"first_name": "X"}, format="json")
    assert response.status_code == 200


def test_revoked_and_unknown_keys_are_refused(trader_client):
    created = create_key(trader_client)
    assert trader_client.delete(f"{KEYS}{created['id']}/").status_code == 204
    response = key_client(created["key"]).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert key_client("fx_dead_beef").get("/api/v1/me/").status_code == 401
    assert trader_client.get(KEYS, {"active": "false"}).json()["count"] == 1
    assert trader_client.get(KEYS, {"active": "true"}).json()["count"] == 0


def test_viewer_cannot_create_a_trading_key(viewer, api_client):
    from conftest import jwt_for

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(api_client, 'viewer1')['access']}")
    response = api_client.post(KEYS, {"name": "bot", "scope": "trade"}, format="json")
    assert response.status_code == 400
    assert "scope" in response.json()["error"]["fields"]


def test_duplicate_name_and_bad_scope_are_field_errors(trader_client):
    create_key(trader_client)
    response = trader_client.post(KEYS, {"name": "bot"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]
    response = trader_client.post(KEYS, {"name": "x", "scope": "admin"}, format="json")
    assert "scope" in response.json()["error"]["fields"]
    response = trader_client.get(KEYS, {"scope": "admin"})
    assert response.status_code == 400
    assert "scope" in response.json()["error"]["fields"]
    assert trader_client.get(KEYS, {"scope": "read"}).json()["count"] == 1


def test_keys_cannot_manage_keys_or_see_other_users_keys(trader_client, viewer):
    created = create_key(trader_client, scope="trade")
    response = key_client(created["key"]).post(KEYS, {"name": "child"}, format="json")
    assert response.status_code == 403
    from apps.accounts import services

    other, _ = services.apikey_create(user=viewer, name="theirs")
    assert trader_client.get(f"{KEYS}{other.pk}/").status_code == 404
    assert trader_client.delete(f"{KEYS}{other.pk}/").status_code == 404


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"principal": "3/min", "anon": "100/min", "login": "100/min"},
    }
)
def test_each_api_key_has_its_own_throttle_bucket(trader_client):
    created = create_key(trader_client)
    bot = key_client(created["key"])
    for _ in range(3):
        assert bot.get("/api/v1/me/").status_code == 200
    response = bot.get("/api/v1/me/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    # The user's own session (JWT) is not starved by the bot.
    assert trader_client.get("/api/v1/me/").status_code == 200

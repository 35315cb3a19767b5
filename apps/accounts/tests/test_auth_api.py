from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import User
from conftest import TEST_PASSWORD, jwt_for

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
VERIFY = "/api/v1/auth/token/verify/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_login_returns_a_token_pair_that_opens_me(api_client, trader):
    tokens = jwt_for(api_client, "trader1")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api_client.get(ME).json()
    assert me["username"] == "trader1"
    assert me["roles"] == ["trader"]
    assert "accounts.trade" in me["permissions"]
    assert me["last_login"] is not None


def test_wrong_password_is_401_in_the_error_format(api_client, trader):
    response = api_client.post(TOKEN, {"username": "trader1", "password": "nope"})
    assert_error(response, 401, "authentication_failed")


def test_missing_fields_are_per_field_validation_errors(api_client):
    error = assert_error(api_client.post(TOKEN, {}), 400, "validation_error")
    assert set(error["fields"]) == {"username", "password"}


def test_lockout_after_repeated_failures_refuses_even_the_right_password(api_client, trader):
    for _ in range(4):
        assert_error(
            api_client.post(TOKEN, {"username": "trader1", "password": "bad"}),
            401,
            "authentication_failed",
        )
    # The fifth failure locks the account and says so.
    error = assert_error(
        api_client.post(TOKEN, {"username": "trader1", "password": "bad"}), 403, "account_locked"
    )
    assert "locked_until" in error
    error = assert_error(
        api_client.post(TOKEN, {"username": "trader1", "password": TEST_PASSWORD}),
        403,
        "account_locked",
    )
    trader.refresh_from_db()
    assert trader.locked_until > timezone.now() + timedelta(minutes=14)


def test_lock_expires_and_success_resets_the_counter(api_client, trader):
    User.objects.filter(pk=trader.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1), failed_login_count=3
    )
    jwt_for(api_client, "trader1")
    trader.refresh_from_db()
    assert trader.failed_login_count == 0 and trader.locked_until is None


def test_locked_user_cannot_log_into_the_admin_either(client, operator):
    User.objects.filter(pk=operator.pk).update(locked_until=timezone.now() + timedelta(minutes=5))
    assert not client.login(username="operator1", password=TEST_PASSWORD)


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"principal": "1000/min", "anon": "1000/min", "login": "3/min"},
    }
)
def test_login_endpoint_is_throttled_per_client(api_client, trader):
    for _ in range(3):
        api_client.post(TOKEN, {"username": "ghost", "password": "x"})
    error = assert_error(
        api_client.post(TOKEN, {"username": "ghost", "password": "x"}), 429, "throttled"
    )
    assert error["retry_after"] > 0


def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client, trader):
    tokens = jwt_for(api_client, "trader1")
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh"] != tokens["refresh"]
    assert rotated["access"]
    # The old refresh token is blacklisted after rotation.
    assert_error(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")
    assert api_client.post(REFRESH, {"refresh": rotated["refresh"]}).status_code == 200


def test_verify_accepts_valid_and_rejects_garbage(api_client, trader):
    tokens = jwt_for(api_client, "trader1")
    assert api_client.post(VERIFY, {"token": tokens["access"]}).status_code == 200
    assert_error(api_client.post(VERIFY, {"token": "garbage"}), 401, "token_not_valid")


def test_logout_blacklists_the_refresh_token(api_client, trader):
    tokens = jwt_for(api_client, "trader1")
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert_error(api_client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")
    # Logging out twice is harmless; a forged token is a clear 400.
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    error = assert_error(api_client.post(LOGOUT, {"refresh": "forged"}), 400, "token_not_valid")
    assert "refresh" in error["fields"]


def test_me_requires_authentication(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_patch_me_updates_profile_and_validates_timezone(trader_client):
    response = trader_client.patch(ME, {"first_name": "Ada", "timezone": "Europe/London"})
    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"
    assert response.json()["timezone"] == "Europe/London"
    error = assert_error(
        trader_client.patch(ME, {"timezone": "Mars/Olympus"}), 400, "validation_error"
    )
    assert "timezone" in error["fields"]
    error = assert_error(
        trader_client.patch(ME, {"email": "not-an-email"}), 400, "validation_error"
    )
    assert "email" in error["fields"]


def test_signup_is_closed_by_default(api_client):
    response = api_client.post(
        "/api/v1/auth/signup/", {"username": "new", "password": "A-long-pass-9876"}
    )
    assert_error(response, 403, "signup_disabled")
    assert not User.objects.filter(username="new").exists()


@override_settings(ACCOUNTS_ALLOW_SIGNUP=True)
def test_signup_when_allowed_creates_a_viewer(api_client):
    response = api_client.post(
        "/api/v1/auth/signup/", {"username": "new", "password": "A-long-pass-9876"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["viewer"]
    error = assert_error(
        api_client.post("/api/v1/auth/signup/", {"username": "new2", "password": "123"}),
        400,
        "validation_error",
    )
    assert error["fields"]

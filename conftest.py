"""Fixtures shared by every app's tests and the integration tests."""

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory

TEST_PASSWORD = "S3cure-pass-for-tests"


@pytest.fixture(autouse=True)
def _clear_cache_keys():
    """Throttle counters and live quotes live in the real Redis; each test starts with none.

    Only the cache's own keys are deleted: the Celery broker shares the Redis
    database and must keep its queue bindings.
    """
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = []
    for prefix in (settings.CACHES["default"]["KEY_PREFIX"], settings.MARKETDATA_PUBSUB_PREFIX):
        keys += list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    yield


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests truncate every table afterwards, taking the data the
    migrations seeded with them; put it back for them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from apps.marketdata.models import DataSource, Instrument
        from apps.marketdata.reference import seed_reference_data

        seed_reference_data(Instrument, DataSource)
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


@pytest.fixture
def trader(db):
    return UserFactory(username="trader1", roles=["trader"])


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer1", roles=["viewer"])


@pytest.fixture
def operator(db):
    return UserFactory(username="operator1", roles=["operator"])


def jwt_for(client: APIClient, username: str, password: str = TEST_PASSWORD) -> dict:
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def trader_client(trader) -> APIClient:
    client = APIClient()
    tokens = jwt_for(client, trader.username)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client

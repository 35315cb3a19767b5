"""WebSocket authentication through the ASGI application (real Redis layer)."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from apps.accounts import services
from fxsite.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _communicator(path: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[(b"host", b"127.0.0.1")])


async def _access_token(user) -> str:
    from channels.db import database_sync_to_async

    pair = await database_sync_to_async(services.token_pair_for)(user=user)
    return pair["access"]


@pytest.fixture
def ws_user(transactional_db):
    from apps.accounts.tests.factories import UserFactory

    return UserFactory(username="wsuser", roles=["trader"])


async def test_token_in_query_string(ws_user):
    token = await _access_token(ws_user)
    ws = _communicator(f"/ws/echo/?token={token}")
    connected, _ = await ws.connect()
    assert connected
    welcome = await ws.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome" and welcome["user"] == "wsuser"
    await ws.send_json_to({"type": "echo", "data": {"x": 1}})
    assert await ws.receive_json_from(timeout=5) == {"type": "echo", "data": {"x": 1}}
    await ws.disconnect()


async def test_token_as_first_message_and_api_key(ws_user):
    from channels.db import database_sync_to_async

    _, raw_key = await database_sync_to_async(services.apikey_create)(user=ws_user, name="ws")
    ws = _communicator("/ws/echo/")
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "auth", "token": raw_key})
    assert (await ws.receive_json_from(timeout=5))["type"] == "welcome"
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    await ws.send_to(text_data="not json")
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "invalid_json"
    await ws.disconnect()


async def test_bad_token_closes_with_4401():
    ws = _communicator("/ws/echo/?token=forged")
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "ping"})
    error = await ws.receive_json_from(timeout=5)
    assert error["error"]["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4401}
    await ws.disconnect()


@override_settings(WEBSOCKET_AUTH_TIMEOUT=0.2)
async def test_silent_unauthenticated_client_is_closed_with_4401():
    ws = _communicator("/ws/echo/")
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=5))["code"] == 4401
    await ws.disconnect()


def _layers_with_group_expiry(seconds: int) -> dict:
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]
    config = {**layer["CONFIG"], "group_expiry": seconds, "prefix": "fx:ws-expiry-test"}
    return {"default": {**layer, "CONFIG": config}}


async def test_a_live_socket_keeps_its_groups_and_a_dead_channel_drops_out(ws_user):
    """Group memberships lapse after ``group_expiry`` so the channels of a
    server that died stop receiving every later event; a live socket renews
    its own and keeps getting them."""
    import asyncio

    import redis
    from channels.layers import get_channel_layer
    from django.conf import settings

    with override_settings(CHANNEL_LAYERS=_layers_with_group_expiry(3)):
        layer = get_channel_layer()
        group = f"trading.user.{ws_user.pk}"
        token = await _access_token(ws_user)
        ws = _communicator(f"/ws/trading/?token={token}")
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "welcome"
        await layer.group_add(group, "specific.deadserver!gone")  # a socket of a dead server

        await asyncio.sleep(5)  # longer than group_expiry; the socket renews every second
        await layer.group_send(group, {"type": "trading.events", "events": [{"type": "probe"}]})
        assert (await ws.receive_json_from(timeout=5)) == {"type": "probe"}
        members = redis.Redis.from_url(settings.REDIS_URL).zrange(layer._group_key(group), 0, -1)
        assert len(members) == 1 and b"deadserver" not in members[0], members
        await ws.disconnect()

"""A real WebSocket client through Daphne (not an in-process communicator)."""

import asyncio
import json

import pytest
import websockets

from apps.accounts import services
from apps.accounts.tests.factories import UserFactory
from apps.monitoring.tasks import heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


async def _recv(ws, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def test_authenticated_client_connects_pings_and_gets_worker_heartbeats(
    daphne_server, celery_worker
):
    user = UserFactory(username="wsclient", roles=["viewer"])
    token = services.token_pair_for(user=user)["access"]

    async def scenario():
        async with websockets.connect(f"{daphne_server.ws_url}/ws/echo/?token={token}") as ws:
            welcome = await _recv(ws)
            assert welcome["type"] == "welcome" and welcome["user"] == "wsclient"
            await ws.send(json.dumps({"type": "ping"}))
            assert (await _recv(ws))["type"] == "pong"
            # A task on the worker publishes through the channel layer to this client.
            await asyncio.to_thread(lambda: heartbeat.delay())
            assert (await _recv(ws, 30))["type"] == "heartbeat"

    asyncio.run(scenario())


def test_unauthenticated_client_is_closed_with_4401(daphne_server):
    async def scenario():
        async with websockets.connect(f"{daphne_server.ws_url}/ws/echo/?token=forged") as ws:
            await ws.send(json.dumps({"type": "ping"}))
            error = await _recv(ws)
            assert error["error"]["code"] == "not_authenticated"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())


def test_first_message_authentication_through_daphne(daphne_server):
    user = UserFactory(username="wsclient2", roles=["viewer"])
    _, raw_key = services.apikey_create(user=user, name="ws-bot")

    async def scenario():
        async with websockets.connect(f"{daphne_server.ws_url}/ws/echo/") as ws:
            await ws.send(json.dumps({"type": "auth", "token": raw_key}))
            assert (await _recv(ws))["user"] == "wsclient2"

    asyncio.run(scenario())


def test_idle_connection_survives_the_channel_layer_poll_timeout(daphne_server):
    """An idle client stays connected past channels-redis' 5 s blocking poll."""
    user = UserFactory(username="wsidle", roles=["viewer"])
    token = services.token_pair_for(user=user)["access"]

    async def scenario():
        async with websockets.connect(f"{daphne_server.ws_url}/ws/echo/?token={token}") as ws:
            assert (await _recv(ws))["type"] == "welcome"
            await asyncio.sleep(7)
            await ws.send(json.dumps({"type": "ping"}))
            assert (await _recv(ws))["type"] == "pong"

    asyncio.run(scenario())

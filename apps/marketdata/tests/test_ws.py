"""/ws/prices/ through the ASGI app with the real Redis pub/sub."""

import asyncio

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts import services as account_services
from apps.accounts.tests.factories import UserFactory
from apps.marketdata.hub import ClientQueue
from apps.marketdata.services.ingest import ticks_ingest
from apps.marketdata.tests.factories import instrument, source, ticks, us
from fxsite.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

NOW = us("2024-06-01 00:00")


@database_sync_to_async
def _token() -> str:
    user = UserFactory(username="pricesws", roles=["viewer"])
    return account_services.token_pair_for(user=user)["access"]


@database_sync_to_async
def _ingest(batch, src="synthetic"):
    return ticks_ingest(instrument=instrument("EURUSD"), source=source(src), batch=batch, now=NOW)


async def _receive_until(ws, kind: str, timeout: float = 10):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await ws.receive_json_from(
            timeout=max(0.1, deadline - asyncio.get_running_loop().time())
        )
        if message.get("type") == kind:
            return message


async def test_subscribe_gets_snapshot_then_live_ticks_and_bars():
    token = await _token()
    await _ingest(ticks("2024-01-02 10:00:00", 10, step_ms=1000))
    ws = WebsocketCommunicator(
        application, f"/ws/prices/?token={token}", headers=[(b"host", b"127.0.0.1")]
    )
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "welcome"
    await ws.send_json_to({"action": "subscribe", "symbols": ["eurusd"], "timeframes": ["M1"]})
    snapshot = await _receive_until(ws, "snapshot")
    assert snapshot["symbols"] == ["EURUSD"]
    assert snapshot["quotes"][0]["symbol"] == "EURUSD"
    assert snapshot["bars"][0]["timeframe"] == "M1"
    # The next minute's ticks: live ticks, the new open bar and the closed previous bar.
    await _ingest(ticks("2024-01-02 10:01:00", 3, step_ms=1000, seed=5))
    tick = await _receive_until(ws, "tick")
    assert tick["symbol"] == "EURUSD" and tick["simulated"] is True
    assert len(tick["bid"].split(".")[1]) == 5
    bars = []
    while len(bars) < 2:
        bars.append(await _receive_until(ws, "bar"))
    assert {(b["timeframe"], b["closed"]) for b in bars} == {("M1", True), ("M1", False)}
    await ws.send_json_to({"action": "unsubscribe"})
    assert (await _receive_until(ws, "unsubscribed"))["symbols"] == "all"
    await ws.disconnect()


async def test_bad_subscriptions_are_explained():
    token = await _token()
    ws = WebsocketCommunicator(
        application, f"/ws/prices/?token={token}", headers=[(b"host", b"127.0.0.1")]
    )
    await ws.connect()
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"action": "subscribe", "symbols": ["NOPE"]})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "unknown_symbol"
    await ws.send_json_to({"action": "subscribe", "symbols": ["EURUSD"], "timeframes": ["M7"]})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "invalid_subscription"
    await ws.send_json_to({"action": "dance"})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "unknown_action"
    await ws.disconnect()


async def test_a_slow_client_gets_the_latest_price_not_a_backlog():
    delivered = []
    gate = asyncio.Event()

    async def slow_send(message):
        await gate.wait()
        delivered.append(message)

    queue = ClientQueue(slow_send)
    queue.timeframes["EURUSD"] = {"M1"}
    queue.offer("tick", "EURUSD", {"type": "tick", "bid": "1.00000"})
    await asyncio.sleep(0)  # the sender takes the first tick and blocks on the slow socket
    for i in range(1, 1000):
        queue.offer("tick", "EURUSD", {"type": "tick", "bid": f"1.{i:05d}"})
    queue.offer("bar", "EURUSD", {"type": "bar", "timeframe": "M1", "ts": 1, "closed": True})
    queue.offer("bar", "EURUSD", {"type": "bar", "timeframe": "M1", "ts": 2, "closed": False})
    queue.offer(
        "bar", "EURUSD", {"type": "bar", "timeframe": "H1", "ts": 2, "closed": False}
    )  # not subscribed
    gate.set()
    await asyncio.sleep(0.05)
    queue.close()
    assert [m["bid"] for m in delivered if m["type"] == "tick"] == ["1.00000", "1.00999"]
    assert [(m["ts"], m["closed"]) for m in delivered if m["type"] == "bar"] == [
        (1, True),
        (2, False),
    ]
    assert queue.conflated == 998
    assert np.isclose(len(delivered), 4)


@database_sync_to_async
def _run_for(username):
    from apps.accounts.models import User
    from apps.marketdata.models import IngestionRun

    return IngestionRun.objects.create(
        source=source(),
        kind="import",
        instrument=instrument(),
        status="running",
        created_by=User.objects.get(username=username),
        progress=0.5,
        accepted=10,
    )


async def test_import_progress_is_pushed_to_watchers():
    from apps.marketdata.services.imports import _push

    token = await _token()
    run = await _run_for("pricesws")
    ws = WebsocketCommunicator(
        application, f"/ws/prices/?token={token}", headers=[(b"host", b"127.0.0.1")]
    )
    await ws.connect()
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"action": "watch_import", "id": run.pk})
    first = await _receive_until(ws, "import")
    assert first["progress"] == 0.5 and first["accepted"] == 10
    run.progress, run.status = 1.0, "completed"
    await database_sync_to_async(_push)(run)
    update = await _receive_until(ws, "import")
    assert update["status"] == "completed" and update["progress"] == 1.0
    await ws.send_json_to({"action": "watch_import", "id": 999999})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "not_found"
    await ws.disconnect()

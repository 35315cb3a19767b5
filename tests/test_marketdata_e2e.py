"""Market data end to end: real worker, real Daphne, real Redis, real clients."""

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
import websockets

from apps.accounts import services as account_services
from apps.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).resolve().parent.parent / "apps" / "marketdata" / "tests" / "samples"


def _headers(user) -> dict:
    return {"Authorization": f"Bearer {account_services.token_pair_for(user=user)['access']}"}


def _wait(predicate, timeout: float = 60, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def test_synthetic_feed_reaches_a_websocket_client_through_daphne(daphne_server, celery_worker):
    operator = UserFactory(username="md-operator", roles=["operator"])
    viewer = UserFactory(username="md-viewer", roles=["viewer"])
    base = daphne_server.base_url
    started = httpx.post(
        f"{base}/api/v1/marketdata/sources/synthetic/start/", headers=_headers(operator)
    )
    assert started.status_code == 202, started.text
    token = account_services.token_pair_for(user=viewer)["access"]

    async def scenario():
        async with websockets.connect(f"{daphne_server.ws_url}/ws/prices/?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(
                json.dumps(
                    {"action": "subscribe", "symbols": ["EURUSD", "USDJPY"], "timeframes": ["M1"]}
                )
            )
            seen = {"tick": set(), "bar": 0}
            deadline = asyncio.get_running_loop().time() + 60
            while (
                len(seen["tick"]) < 2 or not seen["bar"]
            ) and asyncio.get_running_loop().time() < deadline:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "tick":
                    assert message["simulated"] is True and message["source"] == "synthetic"
                    seen["tick"].add(message["symbol"])
                elif message["type"] == "bar":
                    seen["bar"] += 1
            return seen

    seen = asyncio.run(scenario())
    assert seen["tick"] == {"EURUSD", "USDJPY"} and seen["bar"]
    quotes = httpx.get(
        f"{base}/api/v1/marketdata/quotes/", params={"symbols": "EURUSD"}, headers=_headers(viewer)
    ).json()
    assert quotes[0]["bid"] and quotes[0]["simulated"] is True
    status = httpx.get(
        f"{base}/api/v1/marketdata/sources/synthetic/", headers=_headers(viewer)
    ).json()
    assert status["state"] == "running" and status["lag_seconds"] is not None
    stopped = httpx.post(
        f"{base}/api/v1/marketdata/sources/synthetic/stop/", headers=_headers(operator)
    )
    assert stopped.status_code == 202
    _wait(
        lambda: (
            httpx.get(
                f"{base}/api/v1/marketdata/sources/synthetic/", headers=_headers(viewer)
            ).json()["state"]
            == "stopped"
        ),
        30,
    )


def test_import_through_the_api_with_progress_and_rejected_rows(daphne_server, celery_worker):
    trader = UserFactory(username="md-trader", roles=["trader"])
    base, headers = daphne_server.base_url, _headers(trader)
    sample = SAMPLES / "mt5_eurusd_m1.csv"
    with sample.open("rb") as handle:
        response = httpx.post(
            f"{base}/api/v1/marketdata/imports/",
            headers=headers,
            files={"file": ("EURUSD_M1.csv", handle, "text/csv")},
            data={"symbol": "EURUSD", "timeframe": "M1"},
        )
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] in ("queued", "running", "completed") and run["format"] == "mt5"
    detail = _wait(
        lambda: (
            (
                d := httpx.get(
                    f"{base}/api/v1/marketdata/imports/{run['id']}/", headers=headers
                ).json()
            )["status"]
            in ("completed", "failed")
            and d
        )
    )
    assert detail["status"] == "completed", detail
    assert detail["progress"] == 1.0 and detail["accepted"] > 0 and detail["rejected"] > 0
    rejected = httpx.get(detail["rejected_rows_url"], headers=headers).json()
    assert rejected["count"] == detail["rejected"]
    assert all(row["reason"] and row["line"] for row in rejected["results"])
    assert sum(detail["rejected_by_reason"].values()) == detail["rejected"]
    assert all("np." not in row["raw"] for row in rejected["results"])
    bars = httpx.get(
        f"{base}/api/v1/marketdata/bars/",
        params={
            "symbol": "EURUSD",
            "timeframe": "M1",
            "source": "history-import",
            "from": "2024-01-01T00:00:00Z",
        },
        headers=headers,
    ).json()
    assert bars["count"] == detail["accepted"]
    # The same file again: everything is a duplicate, nothing is stored twice.
    with sample.open("rb") as handle:
        again = httpx.post(
            f"{base}/api/v1/marketdata/imports/",
            headers=headers,
            files={"file": ("EURUSD_M1.csv", handle, "text/csv")},
            data={"symbol": "EURUSD", "timeframe": "M1"},
        ).json()
    detail2 = _wait(
        lambda: (
            (
                d := httpx.get(
                    f"{base}/api/v1/marketdata/imports/{again['id']}/", headers=headers
                ).json()
            )["status"]
            == "completed"
            and d
        )
    )
    assert detail2["accepted"] == 0 and detail2["duplicates"] == detail["accepted"]


def test_import_errors_are_immediate_and_per_field(daphne_server):
    trader = UserFactory(username="md-trader2", roles=["trader"])
    viewer = UserFactory(username="md-viewer2", roles=["viewer"])
    base = daphne_server.base_url
    bars = (SAMPLES / "mt5_eurusd_m1.csv").read_bytes()
    post = lambda user, data, content=bars: httpx.post(  # noqa: E731
        f"{base}/api/v1/marketdata/imports/",
        headers=_headers(user),
        files={"file": ("f.csv", content, "text/csv")},
        data=data,
    )
    response = post(trader, {"symbol": "EURUSD"})
    assert response.status_code == 400 and "timeframe" in response.json()["error"]["fields"]
    response = post(trader, {"symbol": "NOPE", "timeframe": "M1"})
    assert response.json()["error"]["code"] == "unknown_symbol"
    response = post(trader, {"symbol": "EURUSD", "timeframe": "M1", "tz": "Mars/Base"})
    assert "tz" in response.json()["error"]["fields"]
    response = post(trader, {"symbol": "EURUSD", "timeframe": "M1"}, content=b"hello\nworld\n")
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    assert post(viewer, {"symbol": "EURUSD", "timeframe": "M1"}).status_code == 403

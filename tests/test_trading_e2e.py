"""Trading end to end on a paper account: REST → worker → fills on /ws/trading/."""

import asyncio
import json
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
import websockets

from apps.accounts import services as account_services
from apps.accounts.tests.factories import UserFactory
from apps.marketdata import live
from apps.trading import services as trading

pytestmark = pytest.mark.django_db(transaction=True)


def _quote(bid: str, ask: str, ts: int) -> None:
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": bid,
            "ask": ask,
            "time": "2024-01-02T10:00:00Z",
            "ts": ts,
            "source": "test",
            "simulated": True,
        }
    )


@asynccontextmanager
async def _sockets(server, token: str, other_token: str):
    """The trader's ``/ws/trading/`` socket and another user's, both welcomed."""
    async with (
        websockets.connect(f"{server.ws_url}/ws/trading/?token={token}") as ws,
        websockets.connect(f"{server.ws_url}/ws/trading/?token={other_token}") as spy,
    ):
        assert json.loads(await ws.recv())["type"] == "welcome"
        assert json.loads(await spy.recv())["type"] == "welcome"
        yield ws, spy


def test_market_orders_fill_on_paper_and_arrive_live(daphne_server, celery_worker):
    trader = UserFactory(username="paper-trader", roles=["trader"])
    other = UserFactory(username="other-trader", roles=["trader"])
    account = trading.account_open(owner=trader, name="Paper", deposit=Decimal("100000"))
    trading.account_open(owner=other, name="Theirs", deposit=Decimal("5000"))
    token = account_services.token_pair_for(user=trader)["access"]
    other_token = account_services.token_pair_for(user=other)["access"]
    headers = {"Authorization": f"Bearer {token}"}
    base = daphne_server.base_url
    _quote("1.10000", "1.10010", 1_900_000_000_000)

    async def scenario():
        async with _sockets(daphne_server, token, other_token) as (ws, spy):
            body = {
                "account": account.pk,
                "symbol": "EURUSD",
                "side": "buy",
                "type": "market",
                "quantity": "1.00",
                "client_order_id": "e2e-1",
            }
            async with httpx.AsyncClient() as client:
                placed = await client.post(
                    f"{base}/api/v1/trading/orders/", json=body, headers=headers
                )
                assert placed.status_code == 201, placed.text
                again = await client.post(
                    f"{base}/api/v1/trading/orders/", json=body, headers=headers
                )
                assert again.status_code == 200 and again.json()["id"] == placed.json()["id"]
            seen = {}
            while "fill" not in seen or "position" not in seen:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                seen[message["type"]] = message
            assert seen["order"]["order_type"] == "market"
            assert Decimal(seen["fill"]["price"]) == Decimal("1.10010")  # bought at the ask
            assert Decimal(seen["fill"]["quantity"]) == 1
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(spy.recv(), 1)  # nothing of another user's
            return seen

    seen = asyncio.run(scenario())
    positions = httpx.get(f"{base}/api/v1/trading/positions/", headers=headers).json()["results"]
    assert len(positions) == 1 and Decimal(positions[0]["quantity"]) == 1
    assert positions[0]["id"] == seen["position"]["id"]
    _quote("1.10110", "1.10120", 1_900_000_001_000)
    closed = httpx.post(
        f"{base}/api/v1/trading/positions/{positions[0]['id']}/close/", headers=headers
    )
    assert closed.status_code == 202, closed.text

    def balance():
        return httpx.get(f"{base}/api/v1/trading/accounts/{account.pk}/", headers=headers).json()

    import time

    for _ in range(100):
        if balance()["balance"] != "100000.00000000":
            break
        time.sleep(0.2)
    summary = balance()
    # Bought at the ask 1.10010, sold at the bid 1.10110: 100,000 × 0.00100 = 100 USD
    assert summary["balance"] == "100100.00000000" and summary["margin"] == "0.00000000"
    assert httpx.get(f"{base}/api/v1/trading/positions/", headers=headers).json()["count"] == 0
    fills = httpx.get(f"{base}/api/v1/trading/fills/", headers=headers).json()
    assert fills["count"] == 2
    other_headers = {"Authorization": f"Bearer {other_token}"}
    assert httpx.get(f"{base}/api/v1/trading/fills/", headers=other_headers).json()["count"] == 0
    assert (
        httpx.get(
            f"{base}/api/v1/trading/accounts/{account.pk}/", headers=other_headers
        ).status_code
        == 404
    )


def test_a_batch_of_orders_fills_and_arrives_live(daphne_server, celery_worker):
    """Twenty market orders in one POST: every fill arrives on the owner's
    socket (nobody else's), and the books are exact."""
    trader = UserFactory(username="batch-trader", roles=["trader"])
    other = UserFactory(username="batch-other", roles=["trader"])
    account = trading.account_open(owner=trader, name="Paper", deposit=Decimal("100000"))
    token = account_services.token_pair_for(user=trader)["access"]
    other_token = account_services.token_pair_for(user=other)["access"]
    headers = {"Authorization": f"Bearer {token}"}
    base = daphne_server.base_url
    _quote("1.10000", "1.10010", 1_900_000_000_000)
    orders = [
        {"symbol": "EURUSD", "side": "buy" if i % 2 == 0 else "sell", "quantity": "0.10"}
        for i in range(20)
    ]

    async def scenario():
        async with _sockets(daphne_server, token, other_token) as (ws, spy):
            async with httpx.AsyncClient() as client:
                placed = await client.post(
                    f"{base}/api/v1/trading/orders/batch/",
                    json={"account": account.pk, "orders": orders},
                    headers=headers,
                )
            assert placed.status_code == 201, placed.text
            ids = [r["order"]["id"] for r in placed.json()["results"]]
            assert len(set(ids)) == 20
            fills, final = {}, {}
            while len(fills) < 20 or len(final) < 20:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "fill":
                    fills[message["order"]] = message
                elif message["type"] == "order" and message["status"] == "filled":
                    final[message["id"]] = message
            assert set(fills) == set(final) == set(ids)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(spy.recv(), 1)
            return fills

    fills = asyncio.run(scenario())
    assert {Decimal(f["price"]) for f in fills.values() if f["side"] == "buy"} == {
        Decimal("1.10010")
    }
    assert {Decimal(f["price"]) for f in fills.values() if f["side"] == "sell"} == {
        Decimal("1.10000")
    }
    summary = httpx.get(f"{base}/api/v1/trading/accounts/{account.pk}/", headers=headers).json()
    # ten round trips of 0.10 lot, each bought at the ask and sold at the bid:
    # 10 × 10,000 × 0.00010 = 10 USD
    assert summary["balance"] == "99990.00000000" and summary["margin"] == "0.00000000"
    assert httpx.get(f"{base}/api/v1/trading/positions/", headers=headers).json()["count"] == 0

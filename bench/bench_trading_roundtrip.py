"""Order round trip on a paper account: REST place of a market order until its
fill arrives on ``/ws/trading/``, and orders per second sustained.

Baseline, same run, same server: an authenticated trivial GET (``/api/v1/me/``).
Target: p99 under 5x that GET; at least 300 orders/s sustained.
"""

import asyncio
import json
import os
import sys
import time

import httpx
import numpy as np
import websockets

from bench.bench_marketdata_live import BIN, _free_port, _start, _stop
from bench.common import Figure

SEQUENTIAL = int(os.environ.get("BENCH_ORDERS", "100"))
BURST = int(os.environ.get("BENCH_ORDER_BURST", "200"))
CONCURRENCY = 32


async def _measure(base: str, ws_url: str, token: str, account_id: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    fills: dict[int, float] = {}
    arrived = asyncio.Event()

    async def listen(ws):
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "fill":
                fills[message["order"]] = time.perf_counter()
                arrived.set()

    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client,
        websockets.connect(f"{ws_url}/ws/trading/?token={token}", max_queue=None) as ws,
    ):
        await ws.recv()  # welcome
        listener = asyncio.create_task(listen(ws))
        gets = []
        for _ in range(SEQUENTIAL):
            started = time.perf_counter()
            await client.get("/api/v1/me/")
            gets.append((time.perf_counter() - started) * 1000)
        trips = []
        for i in range(SEQUENTIAL):
            body = {
                "account": account_id,
                "symbol": "EURUSD",
                "side": "buy" if i % 2 else "sell",
                "type": "market",
                "quantity": "0.10",
            }
            started = time.perf_counter()
            order = (await client.post("/api/v1/trading/orders/", json=body)).json()
            while order["id"] not in fills:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 30)
            trips.append((fills[order["id"]] - started) * 1000)
        semaphore = asyncio.Semaphore(CONCURRENCY)
        ids: list[int] = []

        async def place(i):
            async with semaphore:
                body = {
                    "account": account_id,
                    "symbol": "EURUSD",
                    "side": "buy" if i % 2 else "sell",
                    "type": "market",
                    "quantity": "0.01",
                }
                ids.append((await client.post("/api/v1/trading/orders/", json=body)).json()["id"])

        started = time.perf_counter()
        await asyncio.gather(*(place(i) for i in range(BURST)))
        while not all(i in fills for i in ids):
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 60)
        burst_seconds = time.perf_counter() - started
        listener.cancel()
    return {"gets": gets, "trips": trips, "rate": BURST / burst_seconds}


def run() -> list[Figure]:
    from decimal import Decimal

    from django.db import connection

    from apps.accounts import services as accounts
    from apps.accounts.models import User
    from apps.marketdata import live
    from apps.trading import services as trading

    user = User.objects.filter(username="bench-trader").first() or accounts.user_create(
        username="bench-trader", password="Quick-brown-fox-4711", roles=["trader"]
    )
    account = trading.account_open(
        owner=user,
        name=f"bench-{int(time.time())}",
        deposit=Decimal("1000000"),
        leverage=Decimal("100"),
    )
    token = accounts.token_pair_for(user=user)["access"]
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": "1.10000",
            "ask": "1.10010",
            "time": "-",
            "ts": time.time_ns() // 1_000_000,
            "source": "bench",
            "simulated": True,
        }
    )
    connection.close()
    port = _free_port()
    daphne = _start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "fxsite.asgi:application"],
        url=f"http://127.0.0.1:{port}/healthz",
    )
    worker = _start(
        [
            str(BIN / "celery"),
            "-A",
            "fxsite",
            "worker",
            "-Q",
            "execution",
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"bench-exec-{os.getpid()}@%h",
        ]
    )
    time.sleep(4)
    try:
        result = asyncio.run(
            _measure(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", token, account.pk)
        )
    finally:
        _stop(worker)
        _stop(daphne)
    gets, trips = np.array(result["gets"]), np.array(result["trips"])
    print(
        f"  ({SEQUENTIAL} sequential orders, then {BURST} with {CONCURRENCY} in flight; "
        "one Daphne, one execution worker of 2 processes)",
        file=sys.stdout,
    )
    return [
        Figure(
            "round trip median",
            float(np.median(trips)),
            "ms",
            "GET /me median",
            float(np.median(gets)),
        ),
        Figure(
            "round trip p99",
            float(np.percentile(trips, 99)),
            "ms",
            "GET /me p99",
            float(np.percentile(gets, 99)),
            "< 5x GET p99",
        ),
        Figure("orders/s sustained", result["rate"], "o/s", target=">= 300"),
    ]

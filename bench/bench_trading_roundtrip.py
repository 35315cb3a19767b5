"""Order round trip on a paper account: REST place of a market order until its fill arrives on ``/ws/trading/``; orders per second sustained.

The servers are the ``web`` (``WEB_PROCESSES`` Daphnes, by default one per CPU
and at least 2) and ``execution`` (one Celery worker, prefork, 2 processes)
lines of the Procfile, as ``make run`` starts them. One client process drives
them, with async httpx for requests one at a time and for batches, the lean
keep-alive client of ``bench/tools/http_load.py`` for bursts (httpx costs
several milliseconds of CPU per request, taken from the same two cores as the
servers), and one WebSocket:

1. ``SEQUENTIAL`` authenticated trivial GETs (``/api/v1/me/``) one at a time:
   the baseline of the round trip's median and p99;
2. ``GET_BURST`` GETs with ``CONCURRENCY`` connections in flight: the most
   requests per second Django answers for a trivial authenticated view;
3. ``SEQUENTIAL`` market orders one at a time, each timed from its POST until
   its fill arrives on the WebSocket: round trip median and p99;
4. ``BURST`` market orders, one per POST, with ``CONCURRENCY`` connections in
   flight, from the first POST until the last fill arrives: orders per second
   sustained;
5. ``BATCH_ORDERS`` market orders in POSTs of ``BATCH_SIZE`` to
   ``/api/v1/trading/orders/batch/``, ``BATCHES_IN_FLIGHT`` at a time, from the
   first POST until the last fill arrives, each batch sent once one of those
   in flight is filled: orders per second sustained, and each order's time
   from its batch's POST until its fill arrived;
6. the database queries of the execution task for one order that opens a
   position and one that closes it (same code, in this process).

Targets: round trip p99 under 5x the GET's p99; at least 300 orders/s. Order
POSTs are taken by the order gateway (``apps/trading/api/gateway.py``) in
front of Django: it checks each as the view would and writes the orders that
arrive while it writes a round together, so one order per request costs far
less than a Django request (about 10 ms of CPU here even for the trivial
GET) and the rate grows with the orders in flight. The per-user API throttle
(1200/min by default) would refuse most of this load, so the servers run with
a limit the bench cannot reach; they still count.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import websockets

from bench.bench_marketdata_live import BIN, _env, _free_port
from bench.common import Figure
from bench.tools.http_load import Pool
from fxsite.webserver import default_processes

SEQUENTIAL = int(os.environ.get("BENCH_ORDERS", "300"))
BURST = int(os.environ.get("BENCH_ORDER_BURST", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_ORDER_CONCURRENCY", "256"))
GET_BURST = int(os.environ.get("BENCH_GET_BURST", "200"))
BATCH_SIZE = int(os.environ.get("BENCH_BATCH_SIZE", "100"))
BATCH_ORDERS = int(os.environ.get("BENCH_BATCH_ORDERS", "6000"))
BATCHES_IN_FLIGHT = int(os.environ.get("BENCH_BATCH_CONCURRENCY", "4"))
BASE_DIR = Path(__file__).resolve().parent.parent


def _procfile(name: str) -> str:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name} process in the Procfile")


class _Server:
    """A Procfile process, its output in a temporary file (shown if it dies)."""

    def __init__(self, name: str, command: str, env: dict) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log")
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def pids(self) -> list[int]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        ).stdout.split()
        return [self.proc.pid, *map(int, children)]

    def check(self) -> None:
        if self.proc.poll() is not None:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{tail}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))  # user, nice, system, irq, softirq
    return busy / os.sysconf("SC_CLK_TCK")


class _CpuMeter:
    """CPU time of each server, of this client and of the whole machine, from
    when it is made until ``per_order``."""

    def __init__(self, servers: dict) -> None:
        self.servers = servers
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        seconds = {name: _cpu_seconds(s.pids()) for name, s in self.servers.items()}
        seconds["client"] = time.process_time()
        seconds["machine"] = _machine_cpu_seconds()
        return seconds

    def per_order(self, orders: int, seconds: float) -> tuple[dict[str, float], float]:
        """CPU milliseconds per order of each, and the cores the machine kept
        busy over ``seconds``."""
        now = self._read()
        spent = {name: now[name] - self.start[name] for name in now}
        return {k: v / orders * 1000 for k, v in spent.items()}, spent["machine"] / seconds


async def _measure(base: str, ws_url: str, token: str, account_id: int, servers) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    fills: dict[int, float] = {}
    arrived = asyncio.Event()

    async def listen(ws):
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "fill":
                fills[message["order"]] = time.perf_counter()
                arrived.set()

    async def until_filled(ids, timeout):
        """Wait until every order's fill arrived; ``timeout`` seconds without
        any new fill is a failure."""
        while not all(i in fills for i in ids):
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), timeout)
            except TimeoutError:
                missing = sum(i not in fills for i in ids)
                raise RuntimeError(
                    f"{missing} of {len(ids)} fills did not arrive on /ws/trading/ "
                    f"({timeout} s without a new one)"
                ) from None

    def order(i: int, quantity: str) -> dict:
        side = "buy" if i % 2 else "sell"
        return {"account": account_id, "symbol": "EURUSD", "side": side, "quantity": quantity}

    async def post(client, body) -> int:
        response = await client.post("/api/v1/trading/orders/", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"order refused: {response.status_code} {response.text[:300]}")
        return response.json()["id"]

    limits = httpx.Limits(
        max_connections=BATCHES_IN_FLIGHT, max_keepalive_connections=BATCHES_IN_FLIGHT
    )
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client,
        websockets.connect(f"{ws_url}/ws/trading/?token={token}", max_queue=None) as ws,
    ):
        await ws.recv()  # welcome
        listener = asyncio.create_task(listen(ws))
        for _ in range(10):  # warm up both paths
            await client.get("/api/v1/me/")
        await until_filled([await post(client, order(1, "0.01"))], 30)
        out: dict = {}

        gets = []
        for _ in range(SEQUENTIAL):
            started = time.perf_counter()
            (await client.get("/api/v1/me/")).raise_for_status()
            gets.append((time.perf_counter() - started) * 1000)
        out["gets"] = gets

        async def get(pool):
            status, _headers, _content = await pool.request("GET", "/api/v1/me/")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/me/ answered {status}")

        async with Pool(base, CONCURRENCY, headers) as pool:
            started = time.perf_counter()
            await asyncio.gather(*(get(pool) for _ in range(GET_BURST)))
            out["get_rate"] = GET_BURST / (time.perf_counter() - started)

        trips, posts = [], []
        for i in range(SEQUENTIAL):
            started = time.perf_counter()
            order_id = await post(client, order(i, "0.10"))
            posts.append((time.perf_counter() - started) * 1000)
            await until_filled([order_id], 30)
            trips.append((fills[order_id] - started) * 1000)
        out["trips"], out["posts"] = trips, posts

        ids: list[int] = []

        async def place(pool, i):
            status, body = await pool.post_json("/api/v1/trading/orders/", order(i, "0.01"))
            if status != 201:
                raise RuntimeError(f"order refused: {status} {body}")
            ids.append(body["id"])

        async with Pool(base, CONCURRENCY, headers) as pool:
            cpu = _CpuMeter(servers)
            started = time.perf_counter()
            await asyncio.gather(*(place(pool, i) for i in range(BURST)))
            out["intake_rate"] = BURST / (time.perf_counter() - started)
        await until_filled(ids, 30)
        seconds = time.perf_counter() - started
        out["rate"] = BURST / seconds
        out["cpu_ms_per_order"], out["cores_busy"] = cpu.per_order(BURST, seconds)

        batch_ids: list[int] = []
        placed_at: dict[int, float] = {}
        batches = asyncio.Semaphore(BATCHES_IN_FLIGHT)

        async def place_batch(n):
            items = [order(n * BATCH_SIZE + i, "0.01") for i in range(BATCH_SIZE)]
            for item in items:
                del item["account"]  # the batch names it once
            body = {"account": account_id, "orders": items}
            async with batches:
                sent = time.perf_counter()
                response = await client.post("/api/v1/trading/orders/batch/", json=body)
                if response.status_code != 201:
                    raise RuntimeError(
                        f"batch refused: {response.status_code} {response.text[:300]}"
                    )
                mine = []
                for result in response.json()["results"]:
                    if result["status"] != 201:
                        raise RuntimeError(f"order refused in a batch: {result}")
                    mine.append(result["order"]["id"])
                    placed_at[result["order"]["id"]] = sent
                batch_ids.extend(mine)
                # closed loop: the next batch goes once this one is filled,
                # so the figures are the pipeline's, not a growing queue's
                await until_filled(mine, 30)

        cpu = _CpuMeter(servers)
        started = time.perf_counter()
        await asyncio.gather(*(place_batch(n) for n in range(BATCH_ORDERS // BATCH_SIZE)))
        seconds = time.perf_counter() - started
        out["batch_rate"] = len(batch_ids) / seconds
        out["batch_trips"] = [(fills[i] - placed_at[i]) * 1000 for i in batch_ids]
        out["batch_cpu_ms_per_order"], out["batch_cores_busy"] = cpu.per_order(
            len(batch_ids), seconds
        )
        listener.cancel()
    return out


def _queries_per_order(account, instrument) -> list[int]:
    """Queries of the execution task (in this process) for an order that opens
    a position and one that closes it."""
    from decimal import Decimal
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.trading import services as trading
    from apps.trading.tasks import execute_order

    counts = []
    for side in ("buy", "sell"):
        with mock.patch.object(execute_order, "apply_async"):  # run it here instead
            order, _ = trading.order_place(
                account=account,
                instrument=instrument,
                side=side,
                type="market",
                quantity=Decimal("1.00"),
            )
        with CaptureQueriesContext(connection) as queries:
            execute_order(order.pk)
        counts.append(len(queries))
    return counts


def run() -> list[Figure]:
    from decimal import Decimal

    from django.db import connection

    from apps.accounts import services as accounts
    from apps.accounts.models import User
    from apps.marketdata import live
    from apps.marketdata.models import Instrument
    from apps.trading import services as trading

    user = User.objects.filter(username="bench-trader").first() or accounts.user_create(
        username="bench-trader", password="Quick-brown-fox-4711", roles=["trader"]
    )

    def account_open(name: str):
        return trading.account_open(
            owner=user,
            name=f"{name}-{time.time_ns()}",
            deposit=Decimal("1000000"),
            leverage=Decimal("100"),
        )

    account = account_open("bench")
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
    queries = _queries_per_order(
        account_open("bench-queries"), Instrument.objects.get(symbol="EURUSD")
    )
    connection.close()
    port = _free_port()
    env = {
        **_env(),
        "FX_HTTP_HOST": "127.0.0.1",
        "FX_HTTP_PORT": str(port),
        "API_THROTTLE_PRINCIPAL": "100000000/min",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    worker = f"{_procfile('execution')} --hostname bench-execution-{os.getpid()}@%h"
    servers = {
        "daphne": _Server("web", _procfile("web"), env),
        "worker": _Server("execution", f"{worker} --without-gossip --without-mingle", env),
    }
    try:
        for _ in range(300):
            for server in servers.values():
                server.check()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        result = asyncio.run(
            _measure(
                f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", token, account.pk, servers
            )
        )
    finally:
        for server in servers.values():
            server.stop()
    gets, trips, posts, batch = (
        np.array(result[k]) for k in ("gets", "trips", "posts", "batch_trips")
    )
    cpu = result["cpu_ms_per_order"]
    print(
        f"  {SEQUENTIAL} GETs and {SEQUENTIAL} orders one at a time; bursts of {GET_BURST} GETs "
        f"and {BURST} orders with {CONCURRENCY} connections in flight; Procfile web (Daphne, {default_processes()} processes) and "
        "execution (Celery "
        f"prefork, 2 processes) on {os.cpu_count()} CPUs.\n"
        f"  During the order burst {result['cores_busy']:.2f} of {os.cpu_count()} cores were "
        f"busy; CPU per order: Daphne {cpu['daphne']:.1f} ms, worker {cpu['worker']:.1f} ms, "
        f"client {cpu['client']:.1f} ms, machine in all {cpu['machine']:.1f} ms "
        "(PostgreSQL and Redis in the rest).\n"
        f"  The burst's POSTs were all answered at {result['intake_rate']:.1f} orders/s; "
        f"its fills all arrived at {result['rate']:.1f} orders/s.",
        file=sys.stdout,
    )
    bcpu = result["batch_cpu_ms_per_order"]
    print(
        f"  Batches: {BATCH_ORDERS} market orders in POSTs of {BATCH_SIZE} to "
        f"/api/v1/trading/orders/batch/, {BATCHES_IN_FLIGHT} in flight until filled: all fills arrived at "
        f"{result['batch_rate']:.1f} orders/s; {result['batch_cores_busy']:.2f} cores busy; "
        f"CPU per order: Daphne {bcpu['daphne']:.2f} ms, worker {bcpu['worker']:.2f} ms, "
        f"client {bcpu['client']:.2f} ms, machine in all {bcpu['machine']:.2f} ms.",
        file=sys.stdout,
    )
    return [
        Figure("GET /me median", float(np.median(gets)), "ms"),
        Figure("GET /me p99", float(np.percentile(gets, 99)), "ms"),
        Figure(f"GET /me max rate ({CONCURRENCY} in flight)", result["get_rate"], "req/s"),
        Figure(
            "order POST median",
            float(np.median(posts)),
            "ms",
            "GET /me median",
            float(np.median(gets)),
        ),
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
        Figure(
            "orders/s sustained (one per POST)",
            result["rate"],
            "o/s",
            "GET /me max rate",
            result["get_rate"],
            ">= 300",
        ),
        Figure(
            f"orders/s sustained ({BATCH_SIZE} per POST)",
            result["batch_rate"],
            "o/s",
            "GET /me max rate",
            result["get_rate"],
            ">= 300",
        ),
        Figure(f"batch POST to fill median ({BATCH_SIZE} per POST)", float(np.median(batch)), "ms"),
        Figure(
            f"batch POST to fill p99 ({BATCH_SIZE} per POST)", float(np.percentile(batch, 99)), "ms"
        ),
        Figure("queries per order (opening)", queries[0], "queries"),
        Figure("queries per order (closing)", queries[1], "queries"),
    ]

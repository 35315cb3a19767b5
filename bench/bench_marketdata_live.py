"""Live latency: a tick accepted by the pipeline → its arrival at WebSocket clients.

200 clients subscribed to 7 symbols on ``/ws/prices/`` through Daphne while
the pipeline ingests 1,000 ticks/s (``ticks_ingest`` with publish), against a
minimal Redis pub/sub → WebSocket relay fed the same messages at the same
rate, in the same run. Reports median and p99 latency, messages delivered and
lost (a client whose last tick of a symbol is not the last published one lost
data; fewer messages than published is conflation). Target: p99 within 3x of
the relay, nothing lost except by conflation.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Figure

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "200"))
RATE = int(os.environ.get("BENCH_TICKS_PER_SECOND", "1000"))
SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "10"))
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD"]
STEP = 0.05  # publish every 50 ms
BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fxsite.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }


def _start(
    args: list[str], wait_for: str | None = None, url: str | None = None
) -> subprocess.Popen:
    proc = subprocess.Popen(
        args, cwd=BASE_DIR, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    if wait_for:
        line = proc.stdout.readline()
        if wait_for not in line:
            proc.kill()
            raise RuntimeError(f"{args[0]} did not start: {line!r}")
    if url:
        import httpx

        for _ in range(200):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _clients(url: str, subscribe: bool, out: str) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "bench.tools.ws_clients",
        url,
        "--clients",
        str(CLIENTS),
        "--symbols",
        ",".join(SYMBOLS),
        "--out",
        out,
    ]
    if subscribe:
        args.append("--subscribe")
    proc = subprocess.Popen(args, cwd=BASE_DIR, env=_env(), stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        raise RuntimeError(f"clients did not connect: {line!r}")
    return proc


def _publish_loop(send) -> dict[str, int]:
    """Call ``send(symbol, times_us, bids)`` every STEP for SECONDS at RATE ticks/s."""
    rng = np.random.default_rng(3)
    per_symbol = max(1, round(RATE * STEP / len(SYMBOLS)))
    prices = {s: (150.0 if "JPY" in s else 1.1) for s in SYMBOLS}
    last: dict[str, int] = {}
    deadline = time.monotonic() + SECONDS
    next_step = time.monotonic()
    while time.monotonic() < deadline:
        for symbol in SYMBOLS:
            now_us = time.time_ns() // 1000
            times = now_us - np.arange(per_symbol, 0, -1, dtype=np.int64)  # stamped now
            digits = 3 if "JPY" in symbol else 5
            steps = rng.normal(0, 10**-digits, per_symbol).cumsum()
            bids = np.round(prices[symbol] + steps, digits)
            prices[symbol] = float(bids[-1])
            send(symbol, times, bids, digits)
            last[symbol] = int(times[-1] // 1000)
        next_step += STEP
        time.sleep(max(0.0, next_step - time.monotonic()))
    return last


def _summary(path: str, last: dict[str, int], published: int) -> dict:
    data = json.loads(Path(path).read_text())
    latencies = np.array(data["latencies_ms"]) if data["latencies_ms"] else np.array([np.nan])
    lost = sum(
        1 for client in data["last"] for symbol, ts in last.items() if client.get(symbol) != ts
    )
    return {
        "p50": float(np.percentile(latencies, 50)),
        "p99": float(np.percentile(latencies, 99)),
        "delivered": data["received"] / max(1, published * CLIENTS),
        "lost": lost,
    }


def run() -> list[Figure]:
    import redis

    from apps.accounts import services as accounts
    from apps.accounts.models import User
    from apps.marketdata import live
    from apps.marketdata.batches import TickBatch
    from apps.marketdata.models import DataSource, Instrument
    from apps.marketdata.services.ingest import tick_message, ticks_ingest

    user = User.objects.filter(username="bench-live").first() or accounts.user_create(
        username="bench-live", password="Bench-live-pass-123", roles=["viewer"]
    )
    token = accounts.token_pair_for(user=user)["access"]
    source, _ = DataSource.objects.get_or_create(
        name="bench-live",
        defaults={"kind": DataSource.Kind.SYNTHETIC, "config": {"always_open": True}},
    )
    instruments = {i.symbol: i for i in Instrument.objects.filter(symbol__in=SYMBOLS)}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The platform: pipeline → Redis → Daphne (/ws/prices/) → clients.
        port = _free_port()
        daphne = _start(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "fxsite.asgi:application"],
            url=f"http://127.0.0.1:{port}/healthz",
        )
        out = os.path.join(tmp, "platform.json")
        clients = _clients(f"ws://127.0.0.1:{port}/ws/prices/?token={token}", True, out)
        count = 0

        def ingest(symbol, times, bids, digits):
            nonlocal count
            spread = 10 ** -(digits - 1)
            batch = TickBatch(time_us=times, bid=bids, ask=np.round(bids + spread, digits))
            count += ticks_ingest(
                instrument=instruments[symbol], source=source, batch=batch
            ).accepted

        last = _publish_loop(ingest)
        time.sleep(2)
        _stop(clients)
        clients.wait(10)
        _stop(daphne)
        results["platform"] = _summary(out, last, count)

        # 2. The baseline relay, fed the same kind of messages at the same rate.
        port = _free_port()
        relay = _start(
            [
                sys.executable,
                "-m",
                "bench.tools.relay",
                str(port),
                _env()["REDIS_URL"],
                f"{live.prefix()}:relay:*",
            ],
            wait_for="ready",
        )
        out = os.path.join(tmp, "relay.json")
        clients = _clients(f"ws://127.0.0.1:{port}/", False, out)
        r = redis.Redis.from_url(_env()["REDIS_URL"])
        sent = 0

        def publish(symbol, times, bids, digits):
            nonlocal sent
            pipe = r.pipeline(transaction=False)
            for t, b in zip(times, bids, strict=True):
                units = int(round(b * 1e8))
                message = tick_message(
                    instruments[symbol], source, int(t), units, units + 10 ** (9 - digits)
                )
                pipe.publish(f"{live.prefix()}:relay:{symbol}", json.dumps(message))
            pipe.execute()
            sent += len(times)

        last = _publish_loop(publish)
        time.sleep(2)
        _stop(clients)
        clients.wait(10)
        _stop(relay)
        results["relay"] = _summary(out, last, sent)

    platform, relay = results["platform"], results["relay"]
    print(
        f"  ({CLIENTS} clients, {len(SYMBOLS)} symbols, {RATE} ticks/s for {SECONDS:.0f}s; "
        f"delivered {platform['delivered']:.1%} of ticks×clients (rest conflated), relay {relay['delivered']:.1%})"
    )
    return [
        Figure("median latency", platform["p50"], "ms", "relay median", relay["p50"]),
        Figure("p99 latency", platform["p99"], "ms", "relay p99", relay["p99"], "<= 3x relay p99"),
        Figure("clients missing a last tick", platform["lost"], "", "relay", relay["lost"], "0"),
    ]

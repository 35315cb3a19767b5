"""N WebSocket clients measuring tick latency (run as a subprocess by a benchmark).

Usage: ws_clients.py URL --clients N --symbols A,B --out FILE [--subscribe]
Prints "ready" once every client is connected (and subscribed); on SIGTERM
writes {"latencies_ms": [...], "received": n, "last": [{symbol: ts}, ...]} to FILE.
"""

import argparse
import asyncio
import json
import signal
import time

import websockets


async def client(url, symbols, subscribe, latencies, last, ready):
    async with websockets.connect(url, max_queue=None, ping_interval=None) as ws:
        mine: dict[str, int] = {}
        last.append(mine)
        if subscribe:
            await ws.send(json.dumps({"action": "subscribe", "symbols": symbols, "timeframes": []}))
            while json.loads(await ws.recv()).get("type") != "snapshot":
                pass
        ready.append(1)
        async for raw in ws:
            now_ms = time.time() * 1000
            message = json.loads(raw)
            if message.get("type") != "tick":
                continue
            latencies.append(now_ms - message["ts"])
            mine[message["symbol"]] = message["ts"]


async def main(args) -> None:
    symbols = args.symbols.split(",")
    latencies: list[float] = []
    last: list[dict] = []
    ready: list[int] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    tasks = []
    for i in range(args.clients):
        tasks.append(
            asyncio.create_task(client(args.url, symbols, args.subscribe, latencies, last, ready))
        )
        if i % 20 == 19:
            await asyncio.sleep(0.05)
    while len(ready) < args.clients:
        await asyncio.sleep(0.05)
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
    print("ready", flush=True)
    await stop.wait()
    with open(args.out, "w") as handle:
        json.dump({"latencies_ms": latencies, "received": len(latencies), "last": last}, handle)
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--symbols", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--subscribe", action="store_true")
    asyncio.run(main(parser.parse_args()))

"""A minimal Redis pub/sub → WebSocket relay: the latency baseline.

Usage: relay.py PORT REDIS_URL PATTERN. Every message published on a channel
matching PATTERN is sent, as is, to every connected client. No auth, no
parsing, no conflation: the least any live price relay must do.
"""

import asyncio
import sys

import redis.asyncio as aioredis
import websockets

clients: set = set()


async def handler(ws):
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)


async def pump(url: str, pattern: str) -> None:
    connection = aioredis.from_url(url, socket_timeout=None)
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    await pubsub.psubscribe(pattern)
    async for message in pubsub.listen():
        if message.get("type") == "pmessage":
            data = message["data"].decode()
            websockets.broadcast(clients, data)


async def main() -> None:
    port, url, pattern = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None):
        print("ready", flush=True)
        await pump(url, pattern)


if __name__ == "__main__":
    asyncio.run(main())

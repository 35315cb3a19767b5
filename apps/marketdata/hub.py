"""Per-process fan-out of live prices to WebSocket clients.

Each Daphne process holds one ``PriceHub``: a single Redis pub/sub
subscription to every market data channel, dispatching each message once to
the local clients subscribed to its symbol. Every client has its own
``ClientQueue`` with conflation: while a message waits to be sent, a newer
tick of the same symbol (or a newer update of the same open bar) replaces it,
so a slow client gets the latest price rather than an ever-growing backlog.
Closed bars are never conflated away (each has its own key). A client may
also cap its rate (``throttle_ms``), which conflates within that window.

This is plumbing for consumers (they stay thin relays); the pipeline
publishes to Redis in ``apps.marketdata.live``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from django.conf import settings

from apps.marketdata import live

logger = logging.getLogger(__name__)


class ClientQueue:
    def __init__(self, send: Callable[[dict], Awaitable[None]], *, throttle_ms: int = 0):
        self.send = send
        self.throttle = throttle_ms / 1000
        self.timeframes: dict[str, set[str]] = {}
        self.pending: dict[tuple, dict] = {}
        self.wakeup = asyncio.Event()
        self.conflated = 0
        self.sent = 0
        self.task = asyncio.create_task(self._drain())

    def offer(self, kind: str, symbol: str, message: dict) -> None:
        if kind == "tick":
            key: tuple = ("tick", symbol)
        else:
            if message.get("timeframe") not in self.timeframes.get(symbol, ()):
                return
            key = ("bar", symbol, message["timeframe"], message["ts"])
            # A closed bar supersedes the pending open update of the same bar.
        if key in self.pending:
            self.conflated += 1
            if kind == "bar" and self.pending[key].get("closed") and not message.get("closed"):
                return
        self.pending[key] = message
        self.wakeup.set()

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            batch, self.pending = self.pending, {}
            started = loop.time()
            for message in batch.values():
                await self.send(message)
                self.sent += 1
            if self.throttle:
                await asyncio.sleep(max(0.0, self.throttle - (loop.time() - started)))

    def close(self) -> None:
        self.task.cancel()


class PriceHub:
    def __init__(self) -> None:
        self.clients: dict[str, set[ClientQueue]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()

    async def ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._ready = asyncio.Event()
            self.clients = defaultdict(set)
            self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    def subscribe(self, client: ClientQueue, symbols: list[str], timeframes: list[str]) -> None:
        for symbol in symbols:
            self.clients[symbol].add(client)
            client.timeframes.setdefault(symbol, set()).update(timeframes)

    def unsubscribe(self, client: ClientQueue, symbols: list[str] | None = None) -> None:
        for symbol in list(symbols if symbols is not None else client.timeframes):
            self.clients.get(symbol, set()).discard(client)
            client.timeframes.pop(symbol, None)

    async def _run(self) -> None:
        pattern = live.channel_pattern()
        while True:
            connection = aioredis.from_url(settings.REDIS_URL, socket_timeout=None)
            pubsub = connection.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern)
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("price hub lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(1)
            finally:
                try:
                    await pubsub.aclose()
                    await connection.aclose()
                except Exception:
                    pass

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        _, kind, symbol = channel.decode().rsplit(":", 2)
        clients = self.clients.get(symbol)
        if not clients:
            return
        message = json.loads(data)
        for client in list(clients):
            client.offer(kind, symbol, message)


hub = PriceHub()

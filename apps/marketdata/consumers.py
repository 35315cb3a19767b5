"""``/ws/prices/``: live ticks and bars for any authenticated user.

Client messages:
- ``{"action": "subscribe", "symbols": ["EURUSD"], "timeframes": ["M1"], "throttle_ms": 0}``
  → a ``snapshot`` (latest quotes and open bars), then ``tick`` and ``bar`` messages;
- ``{"action": "unsubscribe", "symbols": [...]}`` (all when omitted);
- ``{"action": "watch_import", "id": 12}`` → ``import`` progress messages;
- ``{"action": "ping"}`` → ``pong``. The server sends a ``heartbeat`` every 15 s.
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from django.utils import timezone

from apps.accounts.websocket import AuthenticatedJsonConsumer
from apps.marketdata import selectors
from apps.marketdata.calendar import TIMEFRAMES
from apps.marketdata.errors import UnknownSymbol
from apps.marketdata.hub import ClientQueue, hub
from apps.marketdata.services.bars import bar_message
from apps.marketdata.services.imports import import_group, progress_message

HEARTBEAT_SECONDS = 15
MAX_SYMBOLS = 50


@database_sync_to_async
def _snapshot(symbols: list[str], timeframes: list[str]) -> dict:
    instruments = selectors.instruments_by_symbols(symbols)
    bars = []
    for instrument in instruments:
        for bar in selectors.open_bars(instrument=instrument, timeframes=timeframes):
            row = (
                bar.timeframe,
                bar.time,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.spread,
                bar.volume,
            )
            bars.append(bar_message(instrument, bar.source, row, closed=False))
    return {
        "type": "snapshot",
        "quotes": selectors.quotes(instruments),
        "bars": bars,
        "instruments": [
            {"symbol": i.symbol, "digits": i.digits, "pip_size": str(i.pip_size)}
            for i in instruments
        ],
    }


@database_sync_to_async
def _import_state(user, run_id) -> dict | None:
    run = selectors.import_runs(user=user).filter(pk=run_id).first()
    return None if run is None else progress_message(run)


class PricesConsumer(AuthenticatedJsonConsumer):
    async def on_authenticated(self) -> None:
        self.queue: ClientQueue | None = None
        self.heartbeat_task = asyncio.create_task(self._heartbeat())
        await self.send_json({"type": "welcome", "user": self.user.username})

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.send_json({"type": "heartbeat", "time": timezone.now().isoformat()})

    async def handle_message(self, content: dict) -> None:
        action = content.get("action") or content.get("type")
        if action == "subscribe":
            await self._subscribe(content)
        elif action == "unsubscribe":
            symbols = content.get("symbols")
            if self.queue is not None:
                hub.unsubscribe(self.queue, [s.upper() for s in symbols] if symbols else None)
            await self.send_json({"type": "unsubscribed", "symbols": symbols or "all"})
        elif action == "watch_import":
            await self._watch_import(content.get("id"))
        elif action == "ping":
            await self.send_json({"type": "pong", "time": timezone.now().isoformat()})
        else:
            await self.send_error("unknown_action", f"Unknown action {action!r}.")

    async def _subscribe(self, content: dict) -> None:
        symbols = content.get("symbols")
        timeframes = content.get("timeframes") or []
        if not isinstance(symbols, list) or not symbols or len(symbols) > MAX_SYMBOLS:
            await self.send_error("invalid_subscription", f"Give 1 to {MAX_SYMBOLS} symbols.")
            return
        bad = [tf for tf in timeframes if tf not in TIMEFRAMES]
        if bad:
            await self.send_error(
                "invalid_subscription", f"Unknown timeframe(s): {', '.join(map(str, bad))}."
            )
            return
        symbols = [str(s).upper() for s in symbols]
        try:
            snapshot = await _snapshot(symbols, timeframes)
        except UnknownSymbol as exc:
            await self.send_error(exc.code, exc.message)
            return
        await hub.ensure_started()
        if self.queue is None:
            throttle = int(content.get("throttle_ms") or 0)
            self.queue = ClientQueue(self.send_json, throttle_ms=max(0, min(throttle, 5000)))
        hub.subscribe(self.queue, symbols, timeframes)
        await self.send_json({**snapshot, "symbols": symbols, "timeframes": timeframes})

    async def _watch_import(self, run_id) -> None:
        state = await _import_state(self.user, run_id)
        if state is None:
            await self.send_error("not_found", f"No import {run_id!r} of yours.")
            return
        await self.join(import_group(int(run_id)))
        await self.send_json(state)

    async def import_progress(self, event: dict) -> None:
        await self.send_json(event["data"])

    async def disconnect(self, code) -> None:
        if getattr(self, "queue", None) is not None:
            hub.unsubscribe(self.queue)
            self.queue.close()
        if getattr(self, "heartbeat_task", None) is not None:
            self.heartbeat_task.cancel()
        await super().disconnect(code)

"""MetaTrader 5 feed: incremental tick polling from stored cursors.

Runs in a Celery worker on the MetaTrader host (queue ``mt5``). Config:
``{"terminal_path", "login", "server", "password_env": "MT5_PASSWORD",
"symbol_map": {"EURUSD": "EURUSD.m"}, "backfill_minutes": 60,
"bar_backfill_days": 0}``. The password is read from the worker's
environment, never stored in the database. A reconnect resumes from the
cursor, so the ticks of a disconnect are fetched (gap backfill).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from apps.marketdata.batches import TickBatch
from apps.marketdata.feeds import Feed, FeedConfigError
from apps.marketdata.mt5.client import MT5Client

US = 1_000_000


class MT5Feed(Feed):
    interval = 0.2

    def __init__(self, source, instruments, checkpoint, *, module=None):
        super().__init__(source, instruments, checkpoint)
        config = source.config
        password_env = config.get("password_env")
        password = os.environ.get(password_env) if password_env else None
        if password_env and password is None:
            raise FeedConfigError(f"Environment variable {password_env} is not set on the worker.")
        self.client = MT5Client(
            terminal_path=config.get("terminal_path"),
            login=config.get("login"),
            password=password,
            server=config.get("server"),
            symbol_map=config.get("symbol_map") or {},
            module=module,
        )
        self.cursors: dict[str, int] = {
            symbol: int(value) for symbol, value in (checkpoint.get("cursors") or {}).items()
        }
        self.backfill_minutes = int(config.get("backfill_minutes", 60))
        self.bar_backfill_days = int(config.get("bar_backfill_days", 0))
        self._backfilled_bars = bool(checkpoint.get("bars_backfilled"))

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        self.client.ensure_connected()
        out = {}
        for symbol in self.by_symbol:
            if symbol not in self.cursors:
                self.cursors[symbol] = now_us // 1000 - self.backfill_minutes * 60_000
            batch, cursor = self.client.ticks_since(symbol, self.cursors[symbol])
            self.cursors[symbol] = cursor
            if len(batch):
                out[symbol] = batch
        return out

    def backfill_bars(self, ingest) -> None:
        """Ingest M1 bars for the period before tick history (once per source)."""
        if self._backfilled_bars or not self.bar_backfill_days:
            return
        end = datetime.now(UTC)
        start = end - timedelta(days=self.bar_backfill_days)
        for symbol, instrument in self.by_symbol.items():
            batch = self.client.rates_range(symbol, "M1", start, end)
            ingest(instrument, batch)
        self._backfilled_bars = True

    def checkpoint(self) -> dict:
        return {"cursors": self.cursors, "bars_backfilled": self._backfilled_bars}

    def close(self) -> None:
        self.client.close()

"""MetaTrader 5 feed: incremental tick polling from stored cursors.

Runs in a Celery worker on the MetaTrader host (queue ``mt5``). Config:
``{"terminal_path", "login", "server", "password_env": "MT5_PASSWORD",
"symbol_map": {"EURUSD": "EURUSD.m"}, "server_timezone": "UTC",
"backfill_minutes": 60, "bar_backfill_days": 0}``. The password is read from
the worker's environment, never stored in the database. A reconnect resumes
from the cursor, so the ticks of a disconnect are fetched (gap backfill).

MetaTrader stamps ticks and bars in the broker's server time (often
UTC+2/+3 with European DST): ``server_timezone`` (an IANA name such as
``Europe/Athens``, or ``UTC``) converts them to UTC; cursors stay in the
terminal's own clock.
"""

from __future__ import annotations

import os
import zoneinfo
from datetime import UTC, datetime, timedelta

import numpy as np

from apps.marketdata.batches import TickBatch
from apps.marketdata.calendar import wall_to_utc_us
from apps.marketdata.feeds import Feed, FeedConfigError
from apps.marketdata.mt5.client import MT5Client

US = 1_000_000


def spread_ties(time_us: np.ndarray) -> np.ndarray:
    """MetaTrader stamps ticks in milliseconds and several may share one; the
    k-th tick of a millisecond is stored at +k µs so none is lost to the
    (instrument, source, time) key. The client never splits a millisecond
    across polls, so the offsets are stable."""
    if len(time_us) < 2:
        return time_us
    index = np.arange(len(time_us))
    new_group = np.r_[True, time_us[1:] != time_us[:-1]]
    first = np.maximum.accumulate(np.where(new_group, index, 0))
    return time_us + (index - first)


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
        self.server_timezone = config.get("server_timezone", "UTC")
        try:
            zoneinfo.ZoneInfo(self.server_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise FeedConfigError(f"Unknown server_timezone {self.server_timezone!r}.") from exc
        self._backfilled_bars = bool(checkpoint.get("bars_backfilled"))

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        self.client.ensure_connected()
        out = {}
        for symbol in self.by_symbol:
            if symbol not in self.cursors:
                # Start from the terminal's clock (its last quote), not ours.
                last = self.client.last_tick(symbol)
                if last is None:
                    continue
                self.cursors[symbol] = last.time_msc - self.backfill_minutes * 60_000
            batch, cursor = self.client.ticks_since(symbol, self.cursors[symbol])
            self.cursors[symbol] = cursor
            if len(batch):
                batch.time_us = self._to_utc(spread_ties(batch.time_us))
                out[symbol] = batch
        return out

    def _to_utc(self, server_us):
        if self.server_timezone == "UTC":
            return server_us
        return wall_to_utc_us(server_us, self.server_timezone)

    def backfill_bars(self, ingest) -> None:
        """Ingest M1 bars for the period before tick history (once per source)."""
        if self._backfilled_bars or not self.bar_backfill_days:
            return
        end = datetime.now(UTC)
        start = end - timedelta(days=self.bar_backfill_days)
        for symbol, instrument in self.by_symbol.items():
            batch = self.client.rates_range(symbol, "M1", start, end)
            batch.time_us = self._to_utc(batch.time_us)
            ingest(instrument, batch)
        self._backfilled_bars = True

    def checkpoint(self) -> dict:
        return {
            "cursors": {symbol: int(cursor) for symbol, cursor in self.cursors.items()},
            "bars_backfilled": self._backfilled_bars,
        }

    def close(self) -> None:
        self.client.close()

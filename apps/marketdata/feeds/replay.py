"""Replay: stored history played as a live feed at a chosen speed.

Config: ``{"from_source": "history-import", "start": ISO, "end": ISO,
"speed": 1..10000, "loop": false}``. Ticks of the origin source are replayed
with their historical timestamps under the replay source, so its bars form
and close as they did live. Where the origin has only bars, each M1 bar is
played as four ticks (open, the nearer extreme, the other, close).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.utils.dateparse import parse_datetime

from apps.marketdata.batches import TickBatch
from apps.marketdata.calendar import datetime_to_us
from apps.marketdata.feeds import Feed, FeedConfigError
from apps.marketdata.models import Bar, DataSource
from apps.marketdata.selectors import ticks_rows

US = 1_000_000
MAX_SPEED = 10_000


def _time(value, name: str) -> int:
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime) or parsed.tzinfo is None:
        raise FeedConfigError(f"config.{name} must be an ISO 8601 time with a zone.")
    return datetime_to_us(parsed)


class ReplayFeed(Feed):
    interval = 0.1
    republish_duplicates = True

    def __init__(self, source, instruments, checkpoint):
        super().__init__(source, instruments, checkpoint)
        config = source.config
        try:
            self.origin = DataSource.objects.get(name=config.get("from_source", "history-import"))
        except DataSource.DoesNotExist as exc:
            raise FeedConfigError(f"Unknown from_source {config.get('from_source')!r}.") from exc
        self.start_us = _time(config.get("start"), "start")
        self.end_us = _time(config.get("end"), "end")
        if self.end_us <= self.start_us:
            raise FeedConfigError("config.end must be after config.start.")
        self.speed = float(config.get("speed", 1))
        if not 1 <= self.speed <= MAX_SPEED:
            raise FeedConfigError(f"config.speed must be between 1 and {MAX_SPEED}.")
        self.loop = bool(config.get("loop", False))
        self.cursor_us = int(checkpoint.get("cursor_us", self.start_us))
        self.last_wall_us: int | None = None

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        if self.last_wall_us is None:
            self.last_wall_us = now_us
            return {}
        elapsed = now_us - self.last_wall_us
        self.last_wall_us = now_us
        upper = min(self.end_us, self.cursor_us + int(elapsed * self.speed))
        out = {}
        for instrument in self.instruments:
            batch = self._history(instrument, self.cursor_us, upper)
            if len(batch):
                out[instrument.symbol] = batch
        self.cursor_us = upper
        if self.cursor_us >= self.end_us:
            if self.loop:
                self.cursor_us = self.start_us
            else:
                self.finished = True
        return out

    def _history(self, instrument, lower_us: int, upper_us: int) -> TickBatch:
        from apps.marketdata.services.ingest import to_datetime

        lower, upper = to_datetime(lower_us), to_datetime(upper_us)
        rows = ticks_rows(
            instrument=instrument, source=self.origin, start=lower, end=upper, limit=None
        )
        if rows:
            return TickBatch(
                time_us=np.array([datetime_to_us(r[0]) for r in rows], dtype=np.int64),
                bid=np.array([float(r[1]) for r in rows]),
                ask=np.array([float(r[2]) for r in rows]),
            )
        bars = Bar.objects.filter(
            instrument=instrument,
            source=self.origin,
            timeframe="M1",
            time__gte=lower,
            time__lt=upper,
        ).order_by("time")
        times, bids, spreads = [], [], []
        for bar in bars:
            t = datetime_to_us(bar.time)
            o, h, low, c = float(bar.open), float(bar.high), float(bar.low), float(bar.close)
            path = (o, low, h, c) if abs(o - low) < abs(h - o) else (o, h, low, c)
            spread = float(bar.spread) if bar.spread is not None else float(instrument.pip_size)
            for offset, price in zip((0, 15, 30, 59), path, strict=True):
                times.append(t + offset * US)
                bids.append(price)
                spreads.append(spread)
        bid = np.array(bids, dtype=float)
        return TickBatch(
            time_us=np.array(times, dtype=np.int64),
            bid=bid,
            ask=bid + np.array(spreads, dtype=float),
        )

    def checkpoint(self) -> dict:
        return {"cursor_us": self.cursor_us}

"""The synthetic feed: ``SyntheticMarket`` advanced to the wall clock.

Config: ``{"seed": 42, "ticks_per_second": 4.0, "always_open": false}``.
``always_open`` keeps the simulated market trading through the weekend (the
demo source has it on, so the dashboard is alive on a Saturday). Every tick
of this source is marked ``simulated`` in the API and on the WebSocket.
"""

from __future__ import annotations

import dataclasses

from apps.marketdata import live
from apps.marketdata.batches import TickBatch
from apps.marketdata.feeds import Feed, FeedConfigError
from apps.marketdata.simulation import DEFAULT_SPECS, SyntheticMarket

RESUME_WITHIN_US = 5 * 60 * 1_000_000


class SyntheticFeed(Feed):
    interval = 0.25

    def __init__(self, source, instruments, checkpoint):
        super().__init__(source, instruments, checkpoint)
        unknown = [i.symbol for i in instruments if i.symbol not in DEFAULT_SPECS]
        if unknown:
            raise FeedConfigError(f"No simulation model for {', '.join(unknown)}.")
        config = source.config
        self.seed = int(config.get("seed", 42))
        self.ticks_per_second = float(config.get("ticks_per_second", 4.0))
        self.always_open = bool(config.get("always_open", False))
        self.market: SyntheticMarket | None = None
        self._checkpoint = checkpoint

    def _start(self, now_us: int) -> SyntheticMarket:
        state = self._checkpoint.get("state")
        clock = self._checkpoint.get("clock_us")
        specs = {symbol: DEFAULT_SPECS[symbol] for symbol in self.by_symbol}
        options = {"ticks_per_second": self.ticks_per_second, "always_open": self.always_open}
        if state and clock and now_us - clock < RESUME_WITHIN_US:
            try:  # resume exactly where the last runner stopped
                return SyntheticMarket(specs, seed=int(state["seed"]), state=state, **options)
            except (ValueError, KeyError):
                pass  # made with other settings: start afresh
        # Start fresh at the wall clock, from the last prices if there are any.
        for quote in live.quotes_get(list(specs)):
            if quote and quote.get("bid"):
                specs[quote["symbol"]] = dataclasses.replace(
                    specs[quote["symbol"]], start_price=float(quote["bid"])
                )
        seed = (self.seed * 1_000_003 + now_us // 1_000_000) % (2**31)
        return SyntheticMarket(specs, seed=seed, start_us=now_us, **options)

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        if self.market is None:
            self.market = self._start(now_us)
        return self.market.advance(now_us)

    def checkpoint(self) -> dict:
        if self.market is None:
            return self._checkpoint
        state = self.market.state()
        return {"state": state, "clock_us": state["clock_us"]}

"""The synthetic feed: ``SyntheticMarket`` advanced to the wall clock."""

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
        self.seed = int(source.config.get("seed", 42))
        self.ticks_per_second = float(source.config.get("ticks_per_second", 4.0))
        self.market: SyntheticMarket | None = None
        self._checkpoint = checkpoint

    def _start(self, now_us: int) -> SyntheticMarket:
        state = self._checkpoint.get("state")
        clock = self._checkpoint.get("clock_us")
        specs = {symbol: DEFAULT_SPECS[symbol] for symbol in self.by_symbol}
        if state and clock and now_us - clock < RESUME_WITHIN_US:
            return SyntheticMarket(
                specs,
                seed=self.seed,
                start_us=clock,
                state=state,
                ticks_per_second=self.ticks_per_second,
            )
        # Start fresh at the wall clock, from the last prices if there are any.
        for quote in live.quotes_get(list(specs)):
            if quote and quote.get("bid"):
                specs[quote["symbol"]] = dataclasses.replace(
                    specs[quote["symbol"]], start_price=float(quote["bid"])
                )
        return SyntheticMarket(
            specs,
            seed=self.seed ^ (now_us // 1_000_000),
            start_us=now_us,
            ticks_per_second=self.ticks_per_second,
        )

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        if self.market is None:
            self.market = self._start(now_us)
        return self.market.advance(now_us)

    def checkpoint(self) -> dict:
        if self.market is None:
            return self._checkpoint
        state = self.market.state()
        return {"state": state, "clock_us": state.get("clock_us") or state.get("time_us")}

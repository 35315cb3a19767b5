"""Live feeds: one class per kind of ``DataSource``, behind one interface.

A feed is polled by the source runner (``services.sources.source_run``); each
poll returns the new ticks per symbol, which go through the same ingestion
pipeline as everything else. ``checkpoint()`` is saved on the source so a
restarted runner resumes where it stopped.
"""

from __future__ import annotations

from apps.marketdata.batches import TickBatch
from apps.marketdata.models import DataSource, Instrument


class FeedConfigError(Exception):
    """The source's configuration cannot work; the runner stops with an error."""


class Feed:
    interval: float = 0.25  # seconds between polls
    republish_duplicates = False  # replays re-send ticks already stored
    finished = False  # a replay that reached its end

    def __init__(self, source: DataSource, instruments: list[Instrument], checkpoint: dict):
        self.source = source
        self.instruments = instruments
        self.by_symbol = {i.symbol: i for i in instruments}

    def poll(self, now_us: int) -> dict[str, TickBatch]:
        raise NotImplementedError

    def checkpoint(self) -> dict:
        return {}

    def close(self) -> None:
        pass


def feed_for(source: DataSource, instruments: list[Instrument], checkpoint: dict) -> Feed:
    from apps.marketdata.feeds.mt5 import MT5Feed
    from apps.marketdata.feeds.replay import ReplayFeed
    from apps.marketdata.feeds.synthetic import SyntheticFeed

    kinds = {
        DataSource.Kind.SYNTHETIC: SyntheticFeed,
        DataSource.Kind.REPLAY: ReplayFeed,
        DataSource.Kind.MT5: MT5Feed,
    }
    if source.kind not in kinds:
        raise FeedConfigError(f"{source.get_kind_display()} sources are not run as feeds.")
    if not instruments:
        raise FeedConfigError("The source has no instruments.")
    return kinds[source.kind](source, instruments, checkpoint)

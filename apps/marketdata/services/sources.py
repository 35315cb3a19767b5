"""Starting, stopping and running live data sources.

``source_start`` marks a source as starting and queues its runner on the
``feeds`` queue (``mt5`` for MetaTrader, consumed on the MetaTrader host).
The runner (``source_run``) polls the source's feed, sends every batch
through the ingestion pipeline, heartbeats, saves a checkpoint, and stops
when an operator sets the source to stopping. A Redis lease makes sure only
one runner per source is alive; ``sources_supervise`` (beat) restarts a
runner whose heartbeat went silent.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.marketdata import live
from apps.marketdata.errors import SourceStateError
from apps.marketdata.feeds import FeedConfigError, feed_for
from apps.marketdata.models import DataSource, IngestionRun
from apps.marketdata.services.ingest import bars_ingest, now_us, ticks_ingest

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
CHECKPOINT_SECONDS = 10.0
LEASE_SECONDS = 30
STALE_AFTER = timedelta(seconds=45)
MAX_BACKOFF = 30.0
ACTIVE = (DataSource.State.STARTING, DataSource.State.RUNNING)


# Set when the worker is shutting down: runners save their checkpoint and
# hand the source back (state "starting") for the next worker to pick up.
worker_shutdown = threading.Event()


def source_queue(source: DataSource) -> str:
    return "mt5" if source.kind == DataSource.Kind.MT5 else "feeds"


def _enqueue(source: DataSource) -> None:
    from apps.marketdata.tasks import run_source

    queue = source_queue(source)
    transaction.on_commit(lambda: run_source.apply_async(args=[source.pk], queue=queue))


@transaction.atomic
def source_start(*, source: DataSource) -> DataSource:
    """Start a live source (idempotent; restarts a runner that went silent)."""
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    if not source.is_live:
        raise SourceStateError(f"{source.get_kind_display()} sources are not started.")
    if source.state in ACTIVE and not _stale(source):
        return source
    source.state = DataSource.State.STARTING
    source.started_at = timezone.now()
    source.last_error = ""
    source.save(update_fields=["state", "started_at", "last_error", "updated_at"])
    _enqueue(source)
    return source


@transaction.atomic
def source_stop(*, source: DataSource) -> DataSource:
    """Ask the runner to stop; a source without a live runner stops at once."""
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    if source.state in (DataSource.State.STOPPED, DataSource.State.ERROR):
        return source
    if _stale(source) and source.state != DataSource.State.STARTING:
        source.state = DataSource.State.STOPPED
        source.stopped_at = timezone.now()
    else:
        source.state = DataSource.State.STOPPING
    source.save(update_fields=["state", "stopped_at", "updated_at"])
    return source


def _stale(source: DataSource) -> bool:
    reference = source.last_heartbeat_at or source.started_at
    return reference is None or timezone.now() - reference > STALE_AFTER


def sources_supervise() -> list[int]:
    """Requeue runners of active sources whose heartbeat stopped."""
    restarted = []
    for source in DataSource.objects.filter(state__in=ACTIVE):
        if _stale(source):
            with transaction.atomic():
                _enqueue(source)
            restarted.append(source.pk)
    return restarted


class _Lease:
    """A Redis lease: one runner per source across all workers."""

    def __init__(self, source_id: int):
        self.key = f"{live.prefix()}:runner:{source_id}"
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(live.client().set(self.key, self.token, nx=True, ex=LEASE_SECONDS))

    def renew(self) -> bool:
        client = live.client()
        if client.get(self.key) not in (self.token.encode(), None):
            return False
        client.set(self.key, self.token, ex=LEASE_SECONDS)
        return True

    def release(self) -> None:
        client = live.client()
        if client.get(self.key) == self.token.encode():
            client.delete(self.key)


def source_run(source_id: int, *, max_seconds: float | None = None, feed_factory=feed_for) -> str:
    """Run a source's feed until it is stopped; returns the final state."""
    lease = _Lease(source_id)
    if not lease.acquire():
        logger.info("source %s already has a runner", source_id)
        return "duplicate"
    source = DataSource.objects.get(pk=source_id)
    instruments = list(source.instruments.filter(enabled=True))
    run = IngestionRun.objects.create(
        source=source,
        kind=IngestionRun.Kind.LIVE,
        status=IngestionRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    final_state, error = DataSource.State.STOPPED, ""
    feed = None
    try:
        feed = feed_factory(source, instruments, dict(source.config.get("checkpoint") or {}))
        DataSource.objects.filter(pk=source_id).update(
            state=DataSource.State.RUNNING, last_heartbeat_at=timezone.now(), last_error=""
        )
        if hasattr(feed, "backfill_bars"):
            feed.backfill_bars(
                lambda instrument, batch: bars_ingest(
                    instrument=instrument, source=source, timeframe="M1", batch=batch, run=run
                )
            )
        final_state, error = _loop(source, feed, run, lease, max_seconds)
    except FeedConfigError as exc:
        final_state, error = DataSource.State.ERROR, str(exc)
    except Exception as exc:  # the runner records why it died; the supervisor may restart it
        logger.exception("source %s runner failed", source_id)
        final_state, error = DataSource.State.ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        if feed is not None:
            _save_checkpoint(source_id, feed)
            feed.close()
        lease.release()
        final = {"state": final_state, "stopped_at": timezone.now()}
        if error:
            final["last_error"] = error
        DataSource.objects.filter(pk=source_id).update(**final)
        IngestionRun.objects.filter(pk=run.pk).update(
            status=IngestionRun.Status.FAILED if error else IngestionRun.Status.STOPPED,
            error=error,
            finished_at=timezone.now(),
        )
    return final_state


def _save_checkpoint(source_id: int, feed) -> None:
    with transaction.atomic():
        source = DataSource.objects.select_for_update().get(pk=source_id)
        source.config = {**source.config, "checkpoint": feed.checkpoint()}
        source.save(update_fields=["config"])


def _loop(source: DataSource, feed, run: IngestionRun, lease: _Lease, max_seconds):
    started = time.monotonic()
    next_heartbeat = next_checkpoint = 0.0
    failures = 0
    by_symbol = feed.by_symbol
    while True:
        tick_started = time.monotonic()
        if max_seconds is not None and tick_started - started > max_seconds:
            return DataSource.State.STOPPED, ""
        if worker_shutdown.is_set():
            return DataSource.State.STARTING, ""
        if tick_started >= next_heartbeat:
            if not lease.renew():
                return DataSource.State.STOPPED, "Another runner took over this source."
            state = DataSource.objects.filter(pk=source.pk).values_list("state", flat=True).first()
            if state in (DataSource.State.STOPPING, DataSource.State.STOPPED, None):
                return DataSource.State.STOPPED, ""
            DataSource.objects.filter(pk=source.pk).update(last_heartbeat_at=timezone.now())
            next_heartbeat = tick_started + HEARTBEAT_SECONDS
        if tick_started >= next_checkpoint:
            _save_checkpoint(source.pk, feed)
            next_checkpoint = tick_started + CHECKPOINT_SECONDS
        try:
            batches = feed.poll(now_us())
            for symbol, batch in batches.items():
                ticks_ingest(
                    instrument=by_symbol[symbol],
                    source=source,
                    batch=batch,
                    run=run,
                    publish=True,
                    republish_duplicates=feed.republish_duplicates,
                )
            failures = 0
        except FeedConfigError:
            raise
        except Exception as exc:
            failures += 1
            delay = min(MAX_BACKOFF, 2 ** min(failures, 5) / 2)
            logger.warning("source %s poll failed (%s); retrying in %.1fs", source.pk, exc, delay)
            DataSource.objects.filter(pk=source.pk).update(
                last_error=f"{type(exc).__name__}: {exc}"
            )
            time.sleep(min(delay, HEARTBEAT_SECONDS * 5))
            continue
        if feed.finished:
            return DataSource.State.STOPPED, ""
        time.sleep(max(0.0, feed.interval - (time.monotonic() - tick_started)))

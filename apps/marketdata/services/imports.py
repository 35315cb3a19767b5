"""History imports: a file uploaded (or given on the command line) becomes an
``IngestionRun`` that a Celery task streams through the parser and pipeline."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.marketdata import parsers
from apps.marketdata.errors import InvalidImport
from apps.marketdata.models import DataSource, IngestionRun, Instrument, Timeframe
from apps.marketdata.parsers.tz import resolve as resolve_tz
from apps.marketdata.services.ingest import IngestResult, bars_ingest, ticks_ingest

logger = logging.getLogger(__name__)
IMPORT_SOURCE = "history-import"
PROGRESS_INTERVAL = 0.5  # seconds between progress pushes
HEAD_BYTES = 64 * 1024


def import_group(run_id: int) -> str:
    return f"marketdata.import.{run_id}"


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8-sig", errors="replace")


def import_detect(head: bytes, *, format: str | None, kind: str | None) -> tuple[str, str]:
    try:
        detected_format, detected_kind = parsers.detect_format(_decode_head(head))
    except parsers.ParserError as exc:
        if format is None:
            raise InvalidImport(exc.message, fields={"file": [exc.message]}) from exc
        detected_format, detected_kind = format, kind or "bar"
    return format or detected_format, kind or detected_kind


def _validate_options(*, format: str | None, timeframe: str | None, tz: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if format is not None and format not in parsers.FORMATS:
        errors["format"] = [f"Unknown format; use one of {', '.join(parsers.FORMATS)}."]
    if timeframe and timeframe not in Timeframe.values:
        errors["timeframe"] = [f"Unknown timeframe; use one of {', '.join(Timeframe.values)}."]
    if tz:
        try:
            resolve_tz(tz)  # the parser's rules: IANA names, UTC±hh:mm, EST_NO_DST
        except parsers.ParserError as exc:
            errors["tz"] = [exc.message]
    if errors:
        raise InvalidImport("Invalid import options.", fields=errors)


def import_run_create(
    *,
    instrument: Instrument,
    file_name: str,
    file_size: int,
    head: bytes,
    user=None,
    timeframe: str | None = None,
    format: str | None = None,
    tz: str | None = None,
) -> IngestionRun:
    """Validate the options against the file's first bytes and create the run."""
    _validate_options(format=format, timeframe=timeframe, tz=tz)
    if not head.strip():
        raise InvalidImport("The file is empty.", fields={"file": ["The file is empty."]})
    format, kind = import_detect(head, format=format, kind=None)
    if kind == "bar" and not timeframe:
        raise InvalidImport(
            "This is a bar file: give its timeframe.",
            fields={"timeframe": ["Required for bar files (M1, M5, ..., W1)."]},
        )
    return IngestionRun.objects.create(
        source=DataSource.objects.get(name=IMPORT_SOURCE),
        kind=IngestionRun.Kind.IMPORT,
        instrument=instrument,
        created_by=user,
        file_name=file_name[:255],
        file_size=file_size,
        format=format,
        data_kind=kind,
        timeframe=timeframe or "",
        tz=tz or "",
    )


@transaction.atomic
def import_create(
    *,
    user,
    upload: UploadedFile,
    instrument: Instrument,
    timeframe: str | None = None,
    format: str | None = None,
    tz: str | None = None,
) -> IngestionRun:
    """Store the upload and queue its import; answers at once (the task does the work)."""
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    run = import_run_create(
        instrument=instrument,
        file_name=upload.name,
        file_size=upload.size or 0,
        head=head,
        user=user,
        timeframe=timeframe,
        format=format,
        tz=tz,
    )
    run.file.save(upload.name, upload, save=True)
    from apps.marketdata.tasks import import_process

    transaction.on_commit(lambda: import_process.delay(run.pk))
    return run


class _CountingReader(io.RawIOBase):
    """A binary reader that counts bytes read (for progress)."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def progress_message(run: IngestionRun) -> dict:
    return {
        "type": "import",
        "id": run.pk,
        "status": run.status,
        "progress": round(run.progress, 4),
        "accepted": run.accepted,
        "duplicates": run.duplicates,
        "rejected": run.rejected,
        "error": run.error,
    }


def _push(run: IngestionRun) -> None:
    layer = get_channel_layer()
    message = {"type": "import.progress", "data": progress_message(run)}
    try:
        async_to_sync(layer.group_send)(import_group(run.pk), message)
    except Exception:  # a progress push must never fail an import
        logger.warning("could not push import progress", exc_info=True)


def import_process(
    run_id: int,
    *,
    path: str | None = None,
    on_progress: Callable[[IngestionRun], None] | None = None,
) -> IngestionRun:
    """Stream a queued import through the parser and the pipeline.

    The file is the run's upload, or ``path`` (``manage.py import_history``).
    """
    with transaction.atomic():
        run = IngestionRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (IngestionRun.Status.QUEUED, IngestionRun.Status.RUNNING):
            return run
        run.status = IngestionRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    _push(run)
    instrument = run.instrument
    point = float(instrument.point)
    total = IngestResult()
    last_push = 0.0
    try:
        with open(path, "rb") if path else run.file.open("rb") as handle:
            reader = _CountingReader(handle)
            stream = io.BufferedReader(reader, buffer_size=1 << 20)
            batches = parsers.iter_batches(
                stream,
                format=run.format or None,
                kind=run.data_kind or None,
                tz=run.tz or None,
                point=point,
                batch_size=settings.MARKETDATA_IMPORT_BATCH_ROWS,
            )
            for batch in batches:
                if batch.kind == "tick":
                    result = ticks_ingest(
                        instrument=instrument,
                        source=run.source,
                        batch=batch,
                        run=run,
                        publish=False,
                    )
                else:
                    result = bars_ingest(
                        instrument=instrument,
                        source=run.source,
                        timeframe=run.timeframe or "M1",
                        batch=batch,
                        run=run,
                    )
                total.add(result)
                run.refresh_from_db(fields=["accepted", "duplicates", "rejected"])
                run.progress = min(0.999, reader.count / run.file_size) if run.file_size else 0.0
                IngestionRun.objects.filter(pk=run.pk).update(progress=run.progress)
                if on_progress:
                    on_progress(run)
                if time.monotonic() - last_push > PROGRESS_INTERVAL:
                    _push(run)
                    last_push = time.monotonic()
    except parsers.ParserError as exc:
        return _finish(run, IngestionRun.Status.FAILED, f"{exc.code}: {exc.message}")
    except Exception as exc:
        logger.exception("import %s failed", run.pk)
        _finish(run, IngestionRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return _finish(run, IngestionRun.Status.COMPLETED, "")


def _finish(run: IngestionRun, status: str, error: str) -> IngestionRun:
    run.refresh_from_db()
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    if status == IngestionRun.Status.COMPLETED:
        run.progress = 1.0
    run.save(update_fields=["status", "error", "finished_at", "progress"])
    if run.file:
        # The data is stored and bad rows are kept with their reasons.
        run.file.delete(save=False)
        IngestionRun.objects.filter(pk=run.pk).update(file="")
    _push(run)
    return run

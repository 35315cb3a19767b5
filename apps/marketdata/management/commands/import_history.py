"""``manage.py import_history FILE --symbol EURUSD [--format mt5] [--timeframe H1] [--tz ...]``."""

import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from apps.marketdata import parsers, selectors
from apps.marketdata.errors import MarketDataError
from apps.marketdata.models import RejectedRow, Timeframe
from apps.marketdata.services import imports


class Command(BaseCommand):
    help = "Import a history file (MT5 export, HistData, Dukascopy or generic CSV) with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--symbol", required=True)
        parser.add_argument("--format", choices=parsers.FORMATS)
        parser.add_argument("--timeframe", choices=Timeframe.values, help="Required for bar files.")
        parser.add_argument(
            "--tz", help="Time zone of the file's timestamps (default: the format's)."
        )

    def handle(self, *args, file, symbol, format, timeframe, tz, **options):
        if not os.path.isfile(file):
            raise CommandError(f"No such file: {file}")
        size = os.path.getsize(file)
        with open(file, "rb") as handle:
            head = handle.read(imports.HEAD_BYTES)
        try:
            run = imports.import_run_create(
                instrument=selectors.instrument_get(symbol),
                file_name=os.path.basename(file),
                file_size=size,
                head=head,
                timeframe=timeframe,
                format=format,
                tz=tz,
            )
        except MarketDataError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stderr.write(
            f"Importing {file} ({size / 1e6:.1f} MB) as {run.format} {run.data_kind}s, run #{run.pk}"
        )
        started = time.monotonic()
        show = self._progress(started)
        run = imports.import_process(run.pk, path=file, on_progress=show)
        show(run)
        sys.stderr.write("\n")
        if run.status != "completed":
            raise CommandError(f"Import failed: {run.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"accepted {run.accepted}, duplicates {run.duplicates}, rejected {run.rejected} "
                f"in {time.monotonic() - started:.1f}s"
            )
        )
        for row in RejectedRow.objects.filter(run=run)[:10]:
            self.stdout.write(f"  line {row.line}: {row.reason} — {row.message} {row.raw[:80]}")
        if run.rejected > 10:
            self.stdout.write(f"  ... {run.rejected - 10} more rejected rows (admin or API)")

    def _progress(self, started: float):
        def show(run) -> None:
            width = 40
            done = int(run.progress * width)
            rate = run.accepted / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(
                f"\r[{'#' * done}{'.' * (width - done)}] {run.progress * 100:5.1f}% "
                f"{run.accepted:,} ok {run.duplicates:,} dup {run.rejected:,} bad {rate:,.0f}/s"
            )
            sys.stderr.flush()

        return show

"""Tick ingestion end to end (parse, validate, deduplicate, COPY) vs a raw COPY and bulk_create.

Figures, all measured in this run on the same rows:
- pipeline: an MT5 tick export parsed and sent through ``ticks_ingest`` (ticks/s);
- baseline raw COPY: the same rows, pre-encoded, written with one binary COPY;
- baseline ORM: Django ``bulk_create`` of the same rows (a 100k-row sample).
Targets: pipeline ≥ 40% of raw COPY, ≥ 10x bulk_create.
"""

import os
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from bench.common import Figure

TICKS = int(os.environ.get("BENCH_TICKS", "1000000"))
ORM_SAMPLE = min(TICKS, 100_000)
START = datetime(2024, 1, 9, tzinfo=UTC)  # a Tuesday: all in an open market


def _ticks(n: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    t0 = int(START.timestamp() * 1_000_000)
    time_us = t0 + np.arange(n, dtype=np.int64) * 100_000  # 10 ticks/s
    bid = np.round(1.09 + np.cumsum(rng.normal(0, 0.00002, n)), 5)
    ask = np.round(bid + 0.00008 + rng.integers(0, 3, n) * 0.00001, 5)
    return time_us, bid, ask


def _write_mt5(path: str, time_us, bid, ask) -> None:
    import pandas as pd

    stamp = pd.to_datetime(time_us, unit="us")
    frame = pd.DataFrame(
        {
            "<DATE>": stamp.strftime("%Y.%m.%d"),
            "<TIME>": stamp.strftime("%H:%M:%S.%f").str[:-3],
            "<BID>": np.char.mod("%.5f", bid),
            "<ASK>": np.char.mod("%.5f", ask),
            "<LAST>": "",
            "<VOLUME>": "",
            "<FLAGS>": "6",
        }
    )
    frame.to_csv(path, sep="\t", index=False)


def _source(name: str):
    from apps.marketdata.models import DataSource

    source, _ = DataSource.objects.get_or_create(
        name=name, defaults={"kind": DataSource.Kind.IMPORT, "description": "benchmark"}
    )
    return source


def _clear(*sources) -> None:
    from django.db import connection

    from apps.marketdata.models import Bar

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM marketdata_tick WHERE source_id = ANY(%s)", [[s.pk for s in sources]]
        )
    Bar.objects.filter(source__in=sources).delete()


def run() -> list[Figure]:
    from django.db import connection, transaction

    from apps.marketdata import parsers, pgcopy
    from apps.marketdata.models import Instrument, Tick
    from apps.marketdata.services.ingest import ticks_ingest

    eurusd = Instrument.objects.get(symbol="EURUSD")
    pipe_src, raw_src, orm_src = (
        _source("bench-pipeline"),
        _source("bench-raw"),
        _source("bench-orm"),
    )
    _clear(pipe_src, raw_src, orm_src)
    time_us, bid, ask = _ticks(TICKS)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "EURUSD_ticks.csv")
        _write_mt5(path, time_us, bid, ask)
        size_mb = os.path.getsize(path) / 1e6

        # Pipeline: parse → validate → deduplicate → COPY (and live bars).
        started = time.perf_counter()
        accepted = 0
        with open(path, "rb") as handle:
            for batch in parsers.iter_batches(
                handle, format="mt5", kind="tick", batch_size=200_000
            ):
                result = ticks_ingest(
                    instrument=eurusd, source=pipe_src, batch=batch, publish=False
                )
                accepted += result.accepted
        pipeline_s = time.perf_counter() - started
    assert accepted == TICKS, f"pipeline accepted {accepted} of {TICKS}"

    # Baseline: one raw binary COPY of the same rows.
    payload = pgcopy.encode_ticks(
        instrument_id=eurusd.pk,
        source_id=raw_src.pk,
        time_us=time_us,
        bid_units=pgcopy.to_units(bid, 5),
        ask_units=pgcopy.to_units(ask, 5),
        volume_units=None,
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        pgcopy.copy_ticks(cursor, payload)
    raw_s = time.perf_counter() - started

    # Baseline: Django bulk_create on a sample.
    from apps.marketdata.services.ingest import to_datetime

    objects = [
        Tick(
            instrument=eurusd,
            source=orm_src,
            time=to_datetime(int(t)),
            bid=Decimal(f"{b:.5f}"),
            ask=Decimal(f"{a:.5f}"),
        )
        for t, b, a in zip(time_us[:ORM_SAMPLE], bid[:ORM_SAMPLE], ask[:ORM_SAMPLE], strict=True)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        Tick.objects.bulk_create(objects, batch_size=5000)
    orm_s = time.perf_counter() - started
    _clear(pipe_src, raw_src, orm_src)

    pipeline_rate, raw_rate, orm_rate = TICKS / pipeline_s, TICKS / raw_s, ORM_SAMPLE / orm_s
    print(f"  ({TICKS:,} ticks, MT5 export {size_mb:.0f} MB)")
    return [
        Figure("pipeline ticks/s", pipeline_rate, "t/s", "raw COPY", raw_rate, ">= 0.40x raw COPY"),
        Figure(
            "pipeline ticks/s", pipeline_rate, "t/s", "bulk_create", orm_rate, ">= 10x bulk_create"
        ),
        Figure("pipeline seconds", pipeline_s, "s"),
    ]

"""Import of 1M M1 bars from a MetaTrader 5 CSV: seconds and peak memory.

``manage.py import_history`` runs in a child process; its peak RSS is printed
next to the same process running ``manage.py check`` (Django and the app
loaded, no import) measured in this run, so the import's own memory shows.
"""

import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.common import Figure

BARS = int(os.environ.get("BENCH_BARS", "1000000"))
BASE_DIR = Path(__file__).resolve().parent.parent


def _open_minutes(count: int) -> np.ndarray:
    from apps.marketdata.calendar import MINUTE_US, WeeklySession

    start = int(datetime(2020, 1, 5, 22, 0, tzinfo=UTC).timestamp() * 1_000_000)  # Sunday 17:00 NY
    grid = start + np.arange(int(count * 1.5), dtype=np.int64) * MINUTE_US
    return grid[WeeklySession().is_open(grid)][:count]


def _write(path: str, count: int) -> None:
    import pandas as pd

    times = _open_minutes(count)
    rng = np.random.default_rng(11)
    close = np.round(1.1 + np.cumsum(rng.normal(0, 0.0002, count)), 5)
    open_ = np.r_[close[0], close[:-1]]
    high = np.round(np.maximum(open_, close) + rng.uniform(0, 0.0003, count), 5)
    low = np.round(np.minimum(open_, close) - rng.uniform(0, 0.0003, count), 5)
    stamp = pd.to_datetime(times, unit="us")
    frame = pd.DataFrame(
        {
            "<DATE>": stamp.strftime("%Y.%m.%d"),
            "<TIME>": stamp.strftime("%H:%M:%S"),
            "<OPEN>": np.char.mod("%.5f", open_),
            "<HIGH>": np.char.mod("%.5f", high),
            "<LOW>": np.char.mod("%.5f", low),
            "<CLOSE>": np.char.mod("%.5f", close),
            "<TICKVOL>": rng.integers(1, 200, count),
            "<VOL>": 0,
            "<SPREAD>": rng.integers(1, 20, count),
        }
    )
    frame.to_csv(path, sep="\t", index=False)


def _measure(*command: str) -> tuple[float, float, str]:
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fxsite.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.tools.measure", *command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    found = re.search(r"MEASURE seconds=([\d.]+) peak_mb=([\d.]+)", result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return float(found.group(1)), float(found.group(2)), result.stdout


def run() -> list[Figure]:
    from apps.marketdata.models import Bar, DataSource, IngestionRun

    source = DataSource.objects.get(name="history-import")
    Bar.objects.filter(source=source, instrument__symbol="EURUSD").delete()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "EURUSD_M1.csv")
        _write(path, BARS)
        size_mb = os.path.getsize(path) / 1e6
        small = os.path.join(tmp, "EURUSD_M1_small.csv")
        _write(small, BARS // 5)
        _, baseline_mb, _ = _measure("check")
        _, small_peak_mb, _ = _measure(
            "import_history", small, "--symbol", "EURUSD", "--timeframe", "M1"
        )
        Bar.objects.filter(source=source, instrument__symbol="EURUSD").delete()
        seconds, peak_mb, output = _measure(
            "import_history", path, "--symbol", "EURUSD", "--timeframe", "M1"
        )
    run = IngestionRun.objects.filter(kind="import").order_by("-id").first()
    assert run.accepted == BARS, f"imported {run.accepted} of {BARS}: {output[-500:]}"
    Bar.objects.filter(source=source, instrument__symbol="EURUSD").delete()
    print(f"  ({BARS:,} M1 bars, MT5 export {size_mb:.0f} MB, rolled up to M5..W1)")
    return [
        Figure("import seconds", seconds, "s"),
        Figure("import bars/s", BARS / seconds, "b/s"),
        Figure("import peak RSS", peak_mb, "MB", "manage.py check RSS", baseline_mb),
        Figure(
            "import peak RSS",
            peak_mb,
            "MB",
            f"peak importing {BARS // 5:,} bars",
            small_peak_mb,
            "flat: ~1.0x (memory does not grow with the file)",
        ),
    ]

"""Backtest speed: SMA(10/20) crossover on 250,000 H1 bars of one instrument.

Each path runs in a fresh process (``bench/tools/backtest_once.py``): the
time covers indicators, the simulation with commission and swap through the
trading accounting, the equity curve and every metric (not Python start-up
nor loading bars). Both paths book their fills all at once (``ledger``).
Baselines, same run, also in fresh processes: a bare Python loop over the
closes (one comparison per bar: the floor of any bar-by-bar engine in
Python), two moving averages with their crosses in numpy (the floor of a
vectorised one), and the bar path booking every fill as it happens (what
runs whose account feeds back into their orders cost).
Each path's figure is the median of three fresh processes.
Targets: vectorised > 5M bars/s; bar by bar > 500k bars/s.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import Figure

BARS = 250_000
SCRIPT = Path(__file__).resolve().parent / "tools" / "backtest_once.py"


def _once(path: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fxsite.settings.test"}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), path, str(BARS)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_of(path: str, runs: int = 3) -> dict:
    """The run with the median time of ``runs`` fresh processes (this VM's
    timings vary by about a third from run to run)."""
    results = sorted((_once(path) for _ in range(runs)), key=lambda r: r["seconds"])
    return results[runs // 2]


def run() -> list[Figure]:
    loop = _once("baseline-loop")
    numpy_floor = _once("baseline-numpy")
    vector = _median_of("vectorised")
    bar = _median_of("bar")
    one_by_one = _once("bar-fill-by-fill")
    assert vector["trades"] == bar["trades"] == one_by_one["trades"]
    assert vector["final_equity"] == bar["final_equity"] == one_by_one["final_equity"]
    print(
        f"  ({BARS:,} bars, {vector['trades']:,} trades on both paths, final equity "
        f"{vector['final_equity']:,.2f} on both)"
    )
    rate = lambda r: r["bars"] / r["seconds"] / 1e6  # noqa: E731
    return [
        Figure(
            "vectorised seconds", vector["seconds"], "s", "numpy SMA cross", numpy_floor["seconds"]
        ),
        Figure(
            "vectorised bars/s",
            rate(vector),
            "M/s",
            "numpy SMA cross",
            rate(numpy_floor),
            "> 5 M/s",
        ),
        Figure("bar-by-bar seconds", bar["seconds"], "s", "bare Python loop", loop["seconds"]),
        Figure("bar-by-bar bars/s", rate(bar), "M/s", "bare Python loop", rate(loop), "> 0.5 M/s"),
        Figure(
            "bar-by-bar bars/s, booked at once vs fill by fill",
            rate(bar),
            "M/s",
            "fill by fill",
            rate(one_by_one),
        ),
    ]

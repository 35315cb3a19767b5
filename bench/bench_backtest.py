"""Backtest speed: SMA(10/20) crossover on 250,000 H1 bars of one instrument.

Each path runs in a fresh process (``bench/tools/backtest_once.py``): the
time covers indicators, the simulation with commission and swap through the
trading accounting, the equity curve and every metric (not Python start-up
nor loading bars). Baselines, same run, also in fresh processes: a bare
Python loop over the closes (one comparison per bar: the floor of any
bar-by-bar engine in Python) and two moving averages with their crosses in
numpy (the floor of a vectorised one).
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


def run() -> list[Figure]:
    loop = _once("baseline-loop")
    numpy_floor = _once("baseline-numpy")
    vector = _once("vectorised")
    bar = _once("bar")
    assert vector["trades"] == bar["trades"] and vector["final_equity"] == bar["final_equity"]
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
    ]

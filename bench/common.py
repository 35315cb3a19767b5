"""Helpers for benchmarks: timing and a uniform report."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    target: str = ""

    @property
    def ratio(self) -> str:
        if not self.baseline_value:
            return ""
        return f"{self.value / self.baseline_value:.2f}x baseline"


def time_calls(fn: Callable[[], object], repeat: int, warmup: int = 20) -> dict[str, float]:
    """Per-call wall times in milliseconds: mean, p50, p95."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "mean": statistics.fmean(samples),
        "p50": samples[len(samples) // 2],
        "p95": samples[int(len(samples) * 0.95) - 1],
    }


def print_figures(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    for f in figures:
        line = f"  {f.name:<{width}}  {f.value:10.3f} {f.unit:<6}"
        if f.baseline:
            line += f"  baseline {f.baseline} = {f.baseline_value:.3f} {f.unit} ({f.ratio})"
        if f.target:
            line += f"  target: {f.target}"
        print(line)

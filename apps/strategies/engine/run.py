"""The backtest engine: a strategy over bars, bar by bar or vectorised.

``run`` picks the path: the vectorised one when the strategy declares it
(``vectorised``, and no stop-loss, take-profit or trailing stop is set) and
the run has one instrument; else bar by bar. Both drive the simulator's
methods in the same order (see ``simulator``): the vectorised path only
skips the bars on which the bar-by-bar path does nothing (no order, no
signal, no rollover with a position, no stop-out check needed), found with
numpy. ``test_engine`` checks both give identical trades and equity.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from apps.marketdata import calendar
from apps.strategies.engine import metrics as metrics_mod
from apps.strategies.engine.data import Series
from apps.strategies.engine.simulator import Book, Settings, Simulator
from apps.strategies.errors import BacktestCancelled
from apps.strategies.framework import Context, Strategy

PROGRESS_EVERY = 4_096  # bars between progress reports and cancel checks


@dataclass
class Result:
    path: str  # "vectorised" | "bar"
    bars: int
    seconds: float
    metrics: dict
    time_us: np.ndarray
    equity: np.ndarray
    exposed: np.ndarray
    trades: list[dict]
    monthly: list[dict]
    settings: Settings
    symbols: list[str]
    warmup: int = 0
    notes: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    fills: list[tuple] = field(default_factory=list)

    @property
    def drawdown(self) -> np.ndarray:
        return metrics_mod.drawdown(self.equity)


def rollover_dates(time_us: np.ndarray) -> dict[int, list[date]]:
    """Bars preceded by 17:00 New York rollovers: bar index → the New York
    dates of the weekday rollovers between the previous bar's open and its
    own (usually one; several across a gap in the data)."""
    if len(time_us) < 2:
        return {}
    trade = calendar.trade_dates(time_us)
    changed = np.flatnonzero(trade[1:] != trade[:-1]) + 1
    firsts = trade[changed - 1].astype(date).tolist()
    lasts = trade[changed].astype(date).tolist()
    out: dict[int, list[date]] = {}
    for j, first, last in zip(changed.tolist(), firsts, lasts, strict=True):
        days = []
        day = first
        while day < last:
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        if days:
            out[j] = days
    return out


class BacktestContext(Context):
    """The ``Context`` of one instrument in a backtest."""

    def __init__(self, sim: Simulator, book: Book, indicators: dict[str, list]) -> None:
        self.sim = sim
        self.book = book
        self.k = book.k
        self.i = 0
        self.open, self.high, self.low, self.close = book.open, book.high, book.low, book.close
        self.time_us = book.time_us
        self.spread = book.spread
        self.ind = indicators
        self.pip = book.pip
        self.symbol = book.spec.symbol
        self._j_of = {book.k: 0}

    def _j(self) -> dict[int, int]:
        self._j_of[self.k] = self.i
        return self._j_of

    @property
    def position(self) -> float:
        return self.book.lots

    @property
    def equity(self) -> float:
        return self.sim.equity(self._j())

    def target(self, direction: int, *, stop=None, take=None, trail=None) -> None:
        self.sim.target(self.book, self._j(), direction, stop, take, trail)

    def buy(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        self.sim.order(self.book, self._j(), 1, lots, type, price, stop, take, trail)

    def sell(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        self.sim.order(self.book, self._j(), -1, lots, type, price, stop, take, trail)

    def close_position(self) -> None:
        self.sim.close_position(self.book)

    def cancel_all(self) -> None:
        self.book.pending = [o for o in self.book.pending if o.kind == "market"]


def choose_path(strategy: Strategy, series: list[Series], requested: str = "auto") -> str:
    can = strategy.vectorised and len(series) == 1 and strategy.can_vectorise()
    if requested == "vectorised" and not can:
        return "bar"
    if requested == "bar":
        return "bar"
    return "vectorised" if can else "bar"


def run(
    strategy_factory: Callable[[], Strategy],
    series: list[Series],
    settings: Settings,
    *,
    path: str = "auto",
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Result:
    """Backtest one strategy instance per instrument over ``series``."""
    started = _time.perf_counter()
    strategies = [strategy_factory() for _ in series]
    chosen = choose_path(strategies[0], series, path)
    sim = Simulator(series, settings)
    contexts = []
    batch = []
    for b, strategy, se in zip(sim.books, strategies, series, strict=True):
        ind = strategy.compute_indicators(se.arrays())
        batch.append(ind)
        contexts.append(BacktestContext(sim, b, {k: v.tolist() for k, v in ind.items()}))
    for strategy, ctx in zip(strategies, contexts, strict=True):
        strategy.start(ctx)
    if chosen == "vectorised":
        _vectorised(sim, strategies[0], series[0], batch[0], contexts[0], progress, cancelled)
    elif len(series) == 1:
        _bars_one(sim, strategies[0], series[0], contexts[0], progress, cancelled)
    else:
        _bars_many(sim, strategies, series, contexts, progress, cancelled)
    result = _result(sim, series, settings, chosen, started)
    result.warmup = strategies[0].warmup()
    if path == "vectorised" and chosen != "vectorised":
        result.notes.append(
            "The vectorised path needs a vectorised strategy, one instrument and no "
            "stop-loss, take-profit or trailing stop; this run went bar by bar."
        )
    return result


def _check(j: int, n: int, progress, cancelled) -> None:
    if cancelled is not None and cancelled():
        raise BacktestCancelled()
    if progress is not None:
        progress(j / n)


def _bars_one(sim, strategy, se, ctx, progress, cancelled) -> None:
    b = sim.books[0]
    n = len(se)
    roll = rollover_dates(se.time_us)
    on_bar = strategy.on_bar
    close, spread = b.close, b.spread
    glo, ghi = sim.guard_lo, sim.guard_hi
    j_of = {0: 0}
    count = sim.fill_count
    for j in range(n):
        if j % PROGRESS_EVERY == 0 and j:
            _check(j, n, progress, cancelled)
        if b.lots and j in roll:
            sim.rollover(b, j, j, roll[j])
        if b.pending or b.sl is not None or b.tp is not None:
            sim.on_open(b, j, j)
        ctx.i = j
        on_bar(ctx, j)
        if b.lots:
            if b.trail is not None:
                sim.on_close(b, j)
            if sim.fill_count != count or close[j] < glo[0] or close[j] + spread[j] > ghi[0]:
                j_of[0] = j
                sim.stop_out(j, j_of)
        elif sim.fill_count != count:
            j_of[0] = j
            sim.set_guards(j_of)
        count = sim.fill_count
    sim.finish({0: n - 1}, {0: n - 1})


def _vectorised(sim, strategy, se, ind, ctx, progress, cancelled) -> None:
    """The bar-by-bar loop run only on the bars where something happens."""
    b = sim.books[0]
    n = len(se)
    signals = np.asarray(strategy.signals(se.arrays(), ind), dtype=np.float64)
    at = np.flatnonzero(~np.isnan(signals))
    sig_bars = at.tolist()
    sig_values = signals[at].astype(np.int64).tolist()
    roll = rollover_dates(se.time_us)
    roll_bars = sorted(roll)
    close_np = np.asarray(b.close)
    ask_close_np = close_np + np.asarray(b.spread)
    close_list, ask_close_list = b.close, ask_close_np.tolist()
    glo, ghi = sim.guard_lo, sim.guard_hi
    j_of = {0: 0}
    si = ri = 0
    j = 0
    next_report = PROGRESS_EVERY
    while j < n:
        if j >= next_report:
            _check(j, n, progress, cancelled)
            next_report = j + PROGRESS_EVERY
        candidate = sig_bars[si] if si < len(sig_bars) else n
        if b.pending:
            candidate = j
        if b.lots and candidate > j:
            while ri < len(roll_bars) and roll_bars[ri] < j:
                ri += 1
            if ri < len(roll_bars) and roll_bars[ri] < candidate:
                candidate = roll_bars[ri]
            if candidate > j:
                # The first bar whose close crosses a stop-out guard (short
                # stretches: plain Python beats numpy's per-call cost).
                if glo[0] > -math.inf and min(close_list[j:candidate]) < glo[0]:
                    candidate = j + next(
                        x for x, c in enumerate(close_list[j:candidate]) if c < glo[0]
                    )
                if ghi[0] < math.inf and max(ask_close_list[j:candidate]) > ghi[0]:
                    candidate = j + next(
                        x for x, c in enumerate(ask_close_list[j:candidate]) if c > ghi[0]
                    )
        if candidate >= n:
            break
        j = candidate
        count = sim.fill_count
        # The same steps as _bars_one, on bar j.
        if b.lots and j in roll:
            sim.rollover(b, j, j, roll[j])
        if b.pending or b.sl is not None or b.tp is not None:
            sim.on_open(b, j, j)
        ctx.i = j
        if si < len(sig_bars) and sig_bars[si] == j:
            j_of[0] = j
            sim.target(b, j_of, sig_values[si])
            si += 1
        if b.lots:
            if b.trail is not None:
                sim.on_close(b, j)
            if sim.fill_count != count or close_list[j] < glo[0] or ask_close_list[j] > ghi[0]:
                j_of[0] = j
                sim.stop_out(j, j_of)
        elif sim.fill_count != count:
            j_of[0] = j
            sim.set_guards(j_of)
        j += 1
    sim.finish({0: n - 1}, {0: n - 1})


def _bars_many(sim, strategies, series, contexts, progress, cancelled) -> None:
    """Several instruments on one timeline: each step is one instrument's bar,
    in time order (instruments in the order given at equal times)."""
    times = np.concatenate([s.time_us for s in series])
    owner = np.concatenate([np.full(len(s), k, dtype=np.int64) for k, s in enumerate(series)])
    local = np.concatenate([np.arange(len(s), dtype=np.int64) for s in series])
    order = np.lexsort((owner, times))
    steps = list(zip(owner[order].tolist(), local[order].tolist(), strict=True))
    rolls = [rollover_dates(s.time_us) for s in series]
    j_of = {k: 0 for k in range(len(series))}
    total = len(steps)
    for g, (k, j) in enumerate(steps):
        if g % PROGRESS_EVERY == 0 and g:
            _check(g, total, progress, cancelled)
        b = sim.books[k]
        j_of[k] = j
        count = sim.fill_count
        if b.lots and j in rolls[k]:
            sim.rollover(b, g, j, rolls[k][j])
        if b.pending or b.sl is not None or b.tp is not None:
            sim.on_open(b, g, j)
        ctx = contexts[k]
        ctx.i = j
        ctx._j_of = j_of
        strategies[k].on_bar(ctx, j)
        if b.trail is not None and b.lots:
            sim.on_close(b, j)
        if any(x.lots for x in sim.books):
            if (
                sim.fill_count != count
                or b.close[j] < sim.guard_lo[k]
                or b.close[j] + b.spread[j] > sim.guard_hi[k]
            ):
                sim.stop_out(g, j_of)
        elif sim.fill_count != count:
            sim.set_guards(j_of)
    last_step = {k: 0 for k in range(len(series))}
    for g, (k, _) in enumerate(steps):
        last_step[k] = g
    sim.finish(last_step, {k: len(s) - 1 for k, s in enumerate(series)})
    sim.timeline = (times[order], owner[order], local[order])


def _result(sim: Simulator, series: list[Series], settings: Settings, path: str, started) -> Result:
    initial = float(settings.initial_balance)
    log = sim.log
    if len(series) == 1:
        se, b = series[0], sim.books[0]
        n = len(se)
        time_us = se.time_us
        if log:
            steps = np.array([e[0] for e in log], dtype=np.int64)
            idx = np.searchsorted(steps, np.arange(n), side="right") - 1
            lots_log = np.array([e[2] for e in log])
            avg_log = np.array([e[3] for e in log])
            bal_log = np.array([e[4] for e in log])
            known = idx >= 0
            safe = np.clip(idx, 0, None)
            lots = np.where(known, lots_log[safe], 0.0)
            avg = np.where(known, avg_log[safe], 0.0)
            balance = np.where(known, bal_log[safe], initial)
        else:
            lots = avg = np.zeros(n)
            balance = np.full(n, initial)
        mark = np.where(lots > 0, se.close, se.close + np.asarray(b.spread))
        rate = se.quote_rate_close
        open_pnl = lots * se.spec.contract_size * (mark - avg) * rate
        equity = balance + np.where(lots != 0, open_pnl, 0.0)
        exposed = lots != 0
    else:
        times, owner, local = sim.timeline
        total = len(times)
        balance = np.full(total, initial)
        equity_open = np.zeros(total)
        exposed = np.zeros(total, dtype=bool)
        steps = np.array([e[0] for e in log], dtype=np.int64) if log else np.zeros(0, np.int64)
        if log:
            idx = np.searchsorted(steps, np.arange(total), side="right") - 1
            bal_log = np.array([e[4] for e in log])
            balance = np.where(idx >= 0, bal_log[np.clip(idx, 0, None)], initial)
        for k, se in enumerate(series):
            rows = [e for e in log if e[1] == k]
            if not rows:
                continue
            k_steps = np.array([e[0] for e in rows], dtype=np.int64)
            k_idx = np.searchsorted(k_steps, np.arange(total), side="right") - 1
            lots = np.where(k_idx >= 0, np.array([e[2] for e in rows])[np.clip(k_idx, 0, None)], 0)
            avg = np.where(k_idx >= 0, np.array([e[3] for e in rows])[np.clip(k_idx, 0, None)], 0)
            # This instrument's last bar at or before each step.
            jb = np.searchsorted(se.time_us, times, side="right") - 1
            jb = np.clip(jb, 0, None)
            spread = np.asarray(sim.books[k].spread)
            mark = np.where(lots > 0, se.close[jb], se.close[jb] + spread[jb])
            rate = se.quote_rate_close
            rate = rate[jb] if isinstance(rate, np.ndarray) else rate
            equity_open += np.where(
                lots != 0, lots * se.spec.contract_size * (mark - avg) * rate, 0
            )
            exposed |= lots != 0
        # One point per time: the state after the last step at that time.
        last = np.r_[times[1:] != times[:-1], True]
        time_us = times[last]
        equity = (balance + equity_open)[last]
        exposed = exposed[last]
    trades = sim.trades
    result_metrics = metrics_mod.compute(
        time_us=time_us, equity=equity, exposed=exposed, trades=trades, initial=initial
    )
    return Result(
        path=path,
        bars=int(sum(len(s) for s in series)),
        seconds=_time.perf_counter() - started,
        metrics=result_metrics,
        time_us=time_us,
        equity=equity,
        exposed=exposed,
        trades=trades,
        monthly=metrics_mod.monthly_returns(time_us, equity, initial),
        settings=settings,
        symbols=[s.spec.symbol for s in series],
        rejected=sim.rejected,
        fills=sim.fills,
    )

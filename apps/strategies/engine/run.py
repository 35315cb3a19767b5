"""The backtest engine: a strategy over bars, bar by bar or vectorised.

``run`` picks the path: the vectorised one when the strategy declares it
(``vectorised``, and no stop-loss, take-profit or trailing stop is set) and
the run has one instrument; else bar by bar.

The vectorised path first turns the signals into the run's fills with numpy
and books them all at once (``ledger``) when sizing does not depend on the
equity; ``ledger`` refuses runs where the account would feed back into the
fills (an order refused for margin, a stop-out), and those go through the
simulator like the bar-by-bar path, only skipping the bars on which nothing
happens (no order, no signal, no rollover with a position, no stop-out check
needed). ``test_engine`` checks every way gives identical trades and equity.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from apps.marketdata import calendar
from apps.strategies.engine import ledger
from apps.strategies.engine import metrics as metrics_mod
from apps.strategies.engine.data import Series
from apps.strategies.engine.simulator import Book, NeedsAccount, Settings, Simulator, fixed_lots
from apps.strategies.errors import BacktestCancelled
from apps.strategies.framework import Context, Strategy, Tick
from apps.trading import accounting as acc

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
    # Whether the fills were booked all at once (``ledger``), not one by one.
    booked_at_once: bool = False

    @property
    def drawdown(self) -> np.ndarray:
        return metrics_mod.drawdown(self.equity)


def rollover_dates(time_us: np.ndarray) -> dict[int, list[date]]:
    """Bars preceded by 17:00 New York rollovers: bar index → the New York
    dates of the weekday rollovers between the previous bar's open and its
    own (usually one; several across a gap in the data)."""
    return ledger.rollovers(time_us).by_bar()


class BacktestContext(Context):
    """The ``Context`` of one instrument in a backtest."""

    def __init__(self, sim: Simulator, book: Book, indicators: dict[str, list]) -> None:
        self.sim = sim
        self.book = book
        self.k = book.k
        self.i = -1  # no bar closed yet (what ``on_tick`` sees before the first close)
        self.tick: Tick | None = None
        self.open, self.high, self.low, self.close = book.open, book.high, book.low, book.close
        self.time_us = book.time_us
        self.spread = book.spread
        self.ind = indicators
        self.pip = book.pip
        self.symbol = book.spec.symbol
        self._j_of = {book.k: 0}

    def _j(self) -> dict[int, int]:
        self._j_of[self.k] = max(self.i, 0)
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
    ticks = any(s.ticks is not None and len(s.ticks) for s in series)
    can = strategy.vectorised and len(series) == 1 and strategy.can_vectorise() and not ticks
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
    at_once: bool = True,
) -> Result:
    """Backtest one strategy instance per instrument over ``series``.
    ``at_once``: book the fills all at once where the run allows it (the
    default; ``False`` books every fill as it happens, which tests compare)."""
    started = _time.perf_counter()
    strategies = [strategy_factory() for _ in series]
    chosen = choose_path(strategies[0], series, path)
    if chosen == "vectorised" and at_once:
        if cancelled is not None and cancelled():
            raise BacktestCancelled()
        result = _vectorised_batch(strategies[0], series[0], settings, started)
        if result is not None:
            result.warmup = strategies[0].warmup()
            return result
    if (
        at_once
        and chosen == "bar"
        and len(series) == 1
        and fixed_lots(settings, series[0].spec, series[0].instrument) is not None
    ):
        result = _bars_deferred(strategies, series[0], settings, started, progress, cancelled)
        if result is not None:
            return _with_notes(result, path, chosen)
        strategies = [strategy_factory() for _ in series]  # fresh state for the rerun
    sim = Simulator(series, settings)
    contexts = _contexts(sim, strategies, series)
    if chosen == "vectorised":
        ind = contexts[0].batch
        _vectorised(sim, strategies[0], series[0], ind, contexts[0], progress, cancelled)
    elif len(series) == 1:
        _bars_one(sim, strategies[0], series[0], contexts[0], progress, cancelled)
    else:
        _bars_many(sim, strategies, series, contexts, progress, cancelled)
    result = _result(sim, series, settings, chosen, started)
    result.warmup = strategies[0].warmup()
    return _with_notes(result, path, chosen)


def _with_notes(result: Result, requested: str, chosen: str) -> Result:
    if requested == "vectorised" and chosen != "vectorised":
        result.notes.append(
            "The vectorised path needs a vectorised strategy, one instrument, no "
            "stop-loss, take-profit or trailing stop, and fills from bars (not ticks); "
            "this run went bar by bar."
        )
    return result


def _contexts(sim: Simulator, strategies: list[Strategy], series: list[Series]) -> list:
    """Each strategy's context (indicators computed in batch), started."""
    contexts = []
    for b, strategy, se in zip(sim.books, strategies, series, strict=True):
        ind = strategy.compute_indicators(se.arrays())
        ctx = BacktestContext(sim, b, {k: v.tolist() for k, v in ind.items()})
        ctx.batch = ind
        contexts.append(ctx)
        if b.tick_lo is not None and strategy.wants_ticks():
            b.every_bar = True
            sim.on_tick[b.k] = _tick_caller(strategy, ctx, b)
    for strategy, ctx in zip(strategies, contexts, strict=True):
        strategy.start(ctx)
    return contexts


def _tick_caller(strategy: Strategy, ctx: BacktestContext, b: Book) -> Callable[[int], None]:
    """What the simulator calls on each stored tick: the strategy's
    ``on_tick`` (``ctx.i`` is then the last closed bar)."""
    on_tick, times, bids, asks = strategy.on_tick, b.tick_time, b.tick_bid, b.tick_ask

    def call(t: int) -> None:
        ctx.tick = Tick(times[t], bids[t], asks[t])
        on_tick(ctx, ctx.tick)

    return call


def _bars_deferred(strategies, se, settings, started, progress, cancelled) -> Result | None:
    """Bar by bar with the fills recorded and booked at once afterwards
    (``ledger``). ``None`` when the run needs its account as it goes: the
    strategy reads the equity, a fill adds to or partly closes a position,
    or ``ledger.book`` refuses the fills (a refusal for margin, a stop-out)."""
    sim = Simulator([se], settings)
    sim.deferred = True
    try:
        ctx = _contexts(sim, strategies, [se])[0]
        b = sim.books[0]
        on_bar, on_open, on_close = strategies[0].on_bar, sim.on_open, sim.on_close
        n = len(se)
        for start in range(0, n, PROGRESS_EVERY):
            if start:
                _check(start, n, progress, cancelled)
            for j in range(start, min(start + PROGRESS_EVERY, n)):
                if b.pending or b.sl is not None or b.tp is not None or b.every_bar:
                    on_open(b, j, j)
                ctx.i = j
                on_bar(ctx, j)
                if b.trail is not None and b.lots:
                    on_close(b, j)
        sim.finish({0: n - 1}, {0: n - 1})
    except NeedsAccount:
        return None
    spread = np.asarray(b.spread, dtype=np.float64)
    if sim.fills:
        _, bar, lots, price, reasons = (list(x) for x in zip(*sim.fills, strict=True))
    else:
        bar, lots, price, reasons = [], [], [], []
    fills = ledger.Fills(
        np.array(bar, dtype=np.int64),
        np.array(lots, dtype=np.float64),
        np.array(price, dtype=np.float64),
        np.array(sim.fill_at_open, dtype=bool),
        reasons,
    )
    result = _booked_result(se, spread, fills, settings, "bar", started, fill_log=sim.fills)
    if result is not None:
        result.warmup = strategies[0].warmup()
    return result


def _booked_result(
    se, spread, fills: ledger.Fills, settings: Settings, path: str, started, fill_log=None
) -> Result | None:
    """Book a one-series run's fills all at once (the ledger) and finish its
    result; None where the account feeds back, so the run goes fill by fill.
    ``fill_log`` is the fills as the run recorded them (default: the book's)."""
    trade_days = calendar.trade_dates(se.time_us)
    book = ledger.book(
        se,
        spread,
        fills,
        ledger.rollovers(se.time_us, trade_days),
        initial_balance=float(settings.initial_balance),
        account_ccy=settings.account_ccy,
        leverage=settings.leverage,
        per_lot=settings.commission_value if settings.commission_mode == "per_lot" else 0.0,
        per_million=settings.commission_value if settings.commission_mode == "notional" else 0.0,
        swap_on=settings.swap,
        stop_out_level=settings.stop_out_level,
    )
    if book is None:
        return None
    result = _finish_result(
        se.time_us,
        book.equity,
        book.lots != 0,
        book.trades,
        [se],
        settings,
        path,
        started,
        book.fills if fill_log is None else fill_log,
        [],
        trade_days,
    )
    result.booked_at_once = True
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
        if b.pending or b.sl is not None or b.tp is not None or b.every_bar:
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
        if b.pending or b.sl is not None or b.tp is not None or b.every_bar:
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
        if b.pending or b.sl is not None or b.tp is not None or b.every_bar:
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


def _vectorised_batch(strategy: Strategy, se: Series, settings: Settings, started) -> Result | None:
    """The vectorised path with every fill known up front and booked at once
    (``ledger``). ``None`` when the run needs the simulator bar by bar:
    sizing by equity, a signal other than -1/0/+1, or what ``ledger.book``
    refuses (a refusal for margin, a stop-out, adding to a position)."""
    lots = fixed_lots(settings, se.spec, se.instrument)
    if lots is None:
        return None
    data = se.arrays()
    signals = np.asarray(strategy.signals(data, strategy.compute_indicators(data)), np.float64)
    at = np.flatnonzero(~np.isnan(signals))
    values = signals[at]
    if not np.isin(values, (-1.0, 0.0, 1.0)).all():
        return None
    n = len(se)
    pip = float(se.instrument.pip_size)
    digits = se.instrument.digits
    spread = (
        np.full(n, settings.spread_pips * pip)
        if settings.spread_pips is not None
        else np.nan_to_num(se.spread)
    )
    # A signal moves the position when it differs from the one before (each
    # is acted on, so the one before is the position's direction); its order
    # fills at the next bar's open, if there is one.
    changes = values != np.r_[0.0, values[:-1]] if lots else np.zeros(len(values), bool)
    bar = at[changes] + 1
    keep = bar < n
    bar = bar[keep]
    target = values[changes][keep] * lots
    delta = acc.round_places(target - np.r_[0.0, target[:-1]], 8)
    if not (np.cumsum(delta) == target).all():
        return None
    moves = delta != 0
    bar, delta = bar[moves], delta[moves]
    slip = settings.slippage_pips * pip
    price = acc.round_places(
        np.where(delta > 0, se.open[bar] + spread[bar] + slip, se.open[bar] - slip), digits
    )
    at_open = np.ones(len(bar), dtype=bool)
    reasons = ["signal"] * len(bar)
    final = float(target[-1]) if len(target) else 0.0  # the position at the end
    if final:
        last = n - 1
        end = se.close[last] if final > 0 else se.close[last] + spread[last]
        bar = np.r_[bar, last]
        delta = np.r_[delta, -final]
        price = np.r_[price, round(float(end), digits)]
        at_open = np.r_[at_open, False]
        reasons.append("end_of_data")
    fills = ledger.Fills(bar, delta, price, at_open, reasons)
    return _booked_result(se, spread, fills, settings, "vectorised", started)


def _result_one(
    se: Series,
    spread: np.ndarray,
    settings: Settings,
    path: str,
    started: float,
    log: tuple,
    trades,
    fills: list,
    rejected: list,
) -> Result:
    """The result of one instrument from its log of (bar, lots, average,
    balance) after every change."""
    steps, lots_log, avg_log, bal_log = log
    n = len(se)
    lots = ledger.state_per_bar(steps, lots_log, n, 0.0)
    avg = ledger.state_per_bar(steps, avg_log, n, 0.0)
    balance = ledger.state_per_bar(steps, bal_log, n, float(settings.initial_balance))
    equity = ledger.equity_curve(se, spread, lots, avg, balance)
    return _finish_result(
        se.time_us, equity, lots != 0, trades, [se], settings, path, started, fills, rejected
    )


def _finish_result(
    time_us,
    equity,
    exposed,
    trades,
    series,
    settings,
    path,
    started,
    fills,
    rejected,
    trade_days=None,
) -> Result:
    initial = float(settings.initial_balance)
    result_metrics = metrics_mod.compute(
        time_us=time_us,
        equity=equity,
        exposed=exposed,
        trades=trades,
        initial=initial,
        trade_days=trade_days,
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
        rejected=rejected,
        fills=fills,
    )


def _result(sim: Simulator, series: list[Series], settings: Settings, path: str, started) -> Result:
    initial = float(settings.initial_balance)
    log = sim.log
    if len(series) == 1:
        columns = (
            np.array([e[0] for e in log], dtype=np.int64),
            np.array([e[2] for e in log], dtype=np.float64),
            np.array([e[3] for e in log], dtype=np.float64),
            np.array([e[4] for e in log], dtype=np.float64),
        )
        spread = np.asarray(sim.books[0].spread, dtype=np.float64)
        return _result_one(
            series[0],
            spread,
            settings,
            path,
            started,
            columns,
            sim.trades,
            sim.fills,
            sim.rejected,
        )
    times, owner, local = sim.timeline
    total = len(times)
    balance = np.full(total, initial)
    equity_open = np.zeros(total)
    exposed = np.zeros(total, dtype=bool)
    if log:
        steps = np.array([e[0] for e in log], dtype=np.int64)
        balance = ledger.state_per_bar(steps, np.array([e[4] for e in log]), total, initial)
    for k, se in enumerate(series):
        rows = [e for e in log if e[1] == k]
        if not rows:
            continue
        k_steps = np.array([e[0] for e in rows], dtype=np.int64)
        lots = ledger.state_per_bar(k_steps, np.array([e[2] for e in rows]), total, 0.0)
        avg = ledger.state_per_bar(k_steps, np.array([e[3] for e in rows]), total, 0.0)
        # This instrument's last bar at or before each step.
        jb = np.searchsorted(se.time_us, times, side="right") - 1
        jb = np.clip(jb, 0, None)
        spread = np.asarray(sim.books[k].spread)
        mark = np.where(lots > 0, se.close[jb], se.close[jb] + spread[jb])
        rate = se.quote_rate_close
        rate = rate[jb] if isinstance(rate, np.ndarray) else rate
        equity_open += np.where(lots != 0, lots * se.spec.contract_size * (mark - avg) * rate, 0)
        exposed |= lots != 0
    # One point per time: the state after the last step at that time.
    last = np.r_[times[1:] != times[:-1], True]
    return _finish_result(
        times[last],
        (balance + equity_open)[last],
        exposed[last],
        sim.trades,
        series,
        settings,
        path,
        started,
        sim.fills,
        sim.rejected,
    )

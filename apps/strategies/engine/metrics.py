"""Performance figures of a backtest from its equity curve and trade list."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from apps.marketdata import calendar
from apps.strategies.engine.ledger import column

YEAR_US = 365.25 * 86_400 * 1_000_000
TRADING_DAYS = 252


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def drawdown(equity: np.ndarray, peak: np.ndarray | None = None) -> np.ndarray:
    """Fall below the running peak, as a fraction of the peak (≤ 0)."""
    if peak is None:
        peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, equity / peak - 1.0, 0.0)
    return dd


def _max_drawdown_duration(
    time_us: np.ndarray, equity: np.ndarray, peak: np.ndarray
) -> tuple[float, int]:
    """Longest time (days) and bars spent below a previous peak."""
    under = equity < peak
    if not under.any():
        return 0.0, 0
    # Runs of consecutive bars under water: each starts after a peak bar.
    edges = np.diff(np.r_[0, under.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # first bar back at a peak (or len)
    bars = ends - starts
    peak_time = time_us[np.maximum(starts - 1, 0)]
    end_time = time_us[np.minimum(ends, len(time_us) - 1)]
    days = (end_time - peak_time) / 86_400_000_000
    longest = int(np.argmax(days))
    return float(days[longest]), int(bars[longest])


def daily_returns(
    time_us: np.ndarray, equity: np.ndarray, trade_days: np.ndarray | None = None
) -> np.ndarray:
    """Returns between the last equity of each FX trade date (``trade_days``:
    the trade dates of ``time_us`` when already known)."""
    if len(equity) < 2:
        return np.zeros(0)
    dates = calendar.trade_dates(time_us) if trade_days is None else trade_days
    last = np.r_[dates[1:] != dates[:-1], True]
    closes = equity[last]
    if len(closes) < 2:
        return np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diff(closes) / closes[:-1]


def monthly_returns(time_us: np.ndarray, equity: np.ndarray, initial: float) -> list[dict]:
    if not len(time_us):
        return []
    # Months change only where UTC days do: convert those few instants.
    days = time_us // 86_400_000_000
    day_ends = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    months = time_us[day_ends].astype("datetime64[us]").astype("datetime64[M]")
    last = day_ends[np.r_[months[1:] != months[:-1], True]]
    out = []
    previous = initial
    for month, value in zip(
        time_us[last].astype("datetime64[us]").astype("datetime64[M]"), equity[last], strict=True
    ):
        out.append({"month": str(month), "return": _num(value / previous - 1 if previous else 0)})
        previous = value
    return out


def compute(
    *,
    time_us: np.ndarray,
    equity: np.ndarray,
    exposed: np.ndarray,
    trades: Sequence[dict],
    initial: float,
    trade_days: np.ndarray | None = None,
) -> dict:
    final = float(equity[-1]) if len(equity) else initial
    total = final / initial - 1 if initial else 0.0
    years = (time_us[-1] - time_us[0]) / YEAR_US if len(time_us) > 1 else 0.0
    annual = None
    if years > 0 and final > 0:
        annual = (final / initial) ** (1 / years) - 1
    peak = np.maximum.accumulate(equity) if len(equity) else np.zeros(0)
    dd = drawdown(equity, peak) if len(equity) else np.zeros(0)
    max_dd = float(-dd.min()) if len(dd) else 0.0
    dd_days, dd_bars = _max_drawdown_duration(time_us, equity, peak) if len(equity) else (0.0, 0)
    daily = daily_returns(time_us, equity, trade_days)
    sharpe = sortino = None
    if len(daily) > 1:
        std = daily.std(ddof=1)
        if std > 0:
            sharpe = daily.mean() / std * math.sqrt(TRADING_DAYS)
        downside = math.sqrt(np.mean(np.minimum(daily, 0.0) ** 2))
        if downside > 0:
            sortino = daily.mean() / downside * math.sqrt(TRADING_DAYS)
    calmar = annual / max_dd if annual is not None and max_dd > 0 else None
    net = np.array(column(trades, "net_pnl"), dtype=float)
    wins, losses = net[net > 0], net[net <= 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    avg_win = float(wins.mean()) if len(wins) else None
    avg_loss = float(losses.mean()) if len(losses) else None
    expectancy = float(net.mean()) if len(net) else None
    return {
        "initial_balance": initial,
        "final_equity": final,
        "net_profit": final - initial,
        "total_return": _num(total),
        "annual_return": _num(annual),
        "sharpe": _num(sharpe),
        "sortino": _num(sortino),
        "calmar": _num(calmar),
        "max_drawdown": _num(max_dd),
        "max_drawdown_days": _num(dd_days),
        "max_drawdown_bars": dd_bars,
        "trades": len(trades),
        "win_rate": _num(len(wins) / len(net)) if len(net) else None,
        "profit_factor": _num(gross_win / gross_loss) if gross_loss > 0 else None,
        "expectancy": _num(expectancy),
        "expectancy_r": _num(expectancy / -avg_loss)
        if expectancy is not None and avg_loss
        else None,
        "average_trade": _num(expectancy),
        "average_win": _num(avg_win),
        "average_loss": _num(avg_loss),
        "average_bars_held": _num(np.mean(column(trades, "bars"))) if len(trades) else None,
        "exposure_time": _num(exposed.mean()) if len(exposed) else 0.0,
        "commission": _num(np.sum(np.asarray(column(trades, "commission"), dtype=float))),
        "swap": _num(np.sum(np.asarray(column(trades, "swap"), dtype=float))),
        "years": _num(years),
    }


def downsample(time_us: np.ndarray, values: np.ndarray, points: int = 2000) -> np.ndarray:
    """Indices to draw: first, last, and each bucket's lowest and highest
    point (drawdowns stay visible)."""
    n = len(values)
    if n <= points:
        return np.arange(n)
    buckets = max(points // 2, 1)
    size = math.ceil(n / buckets)
    pad = buckets * size - n
    padded = np.r_[values, np.full(pad, values[-1])].reshape(buckets, size)
    base = np.arange(buckets) * size
    lo = np.minimum(base + padded.argmin(axis=1), n - 1)
    hi = np.minimum(base + padded.argmax(axis=1), n - 1)
    return np.unique(np.r_[0, lo, hi, n - 1])

"""Validation of ticks and bars, vectorised.

Each function returns one reason code per row (``""`` = valid). The codes are
what rejected rows are stored with:

- ``non_positive_price``: a price ≤ 0 (or not a number);
- ``crossed_quote``: ask < bid;
- ``spread_too_wide``: ask − bid above the instrument's limit;
- ``outside_session``: the market was closed (weekend, holiday);
- ``future_timestamp``: later than now plus the allowed clock skew;
- ``spike``: a jump of more than N rolling standard deviations of returns
  that reverts on the next tick (a bad print, not a move);
- ``inconsistent_ohlc``: high/low do not contain open/close (bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from apps.marketdata.batches import BarBatch, TickBatch
from apps.marketdata.calendar import WeeklySession

OK = ""


@dataclass(frozen=True)
class Rules:
    max_spread: float  # in price units
    session: WeeklySession = field(default_factory=WeeklySession)
    holidays: frozenset[date] = frozenset()
    max_future_us: int = 120_000_000
    spike_sigmas: float = 8.0
    spike_window: int = 100
    min_move: float = 0.0  # floor for the rolling deviation (a point, in log terms)
    check_session: bool = True  # off for a simulated source that trades 24/7


def _first_reason(reasons: np.ndarray, mask: np.ndarray, code: str) -> None:
    reasons[(reasons == OK) & mask] = code


def validate_ticks(
    batch: TickBatch,
    rules: Rules,
    *,
    now_us: int,
    context_mid: np.ndarray | None = None,
) -> np.ndarray:
    """Reason codes for a batch sorted by time. ``context_mid`` are the mids of
    the ticks stored just before the batch (for the spike filter)."""
    n = len(batch)
    reasons = np.full(n, OK, dtype="<U24")
    bid, ask = batch.bid, batch.ask
    with np.errstate(invalid="ignore"):
        _first_reason(reasons, ~(bid > 0) | ~(ask > 0), "non_positive_price")
        _first_reason(reasons, ask < bid, "crossed_quote")
        _first_reason(reasons, (ask - bid) > rules.max_spread * (1 + 1e-9), "spread_too_wide")
    _first_reason(reasons, batch.time_us > now_us + rules.max_future_us, "future_timestamp")
    if rules.check_session:
        open_ = rules.session.is_open(batch.time_us, rules.holidays)
        _first_reason(reasons, ~open_, "outside_session")
    candidates = reasons == OK
    if candidates.sum() >= 3:
        spikes = _spikes((bid + ask)[candidates] / 2, rules, context_mid)
        index = np.flatnonzero(candidates)[spikes]
        reasons[index] = "spike"
    return reasons


def _spikes(mid: np.ndarray, rules: Rules, context_mid: np.ndarray | None) -> np.ndarray:
    """Indices into ``mid`` of one-tick jumps beyond N sigma that revert."""
    context = np.asarray(context_mid if context_mid is not None else [], dtype=float)
    context = context[-rules.spike_window :]
    series = np.concatenate([context, mid])
    offset = len(context)
    log_mid = np.log(series)
    returns = np.diff(log_mid)  # returns[i] is the move into series[i + 1]
    if len(returns) < 3:
        return np.empty(0, dtype=np.int64)
    # Rolling deviation of the *previous* returns (no look at the candidate).
    window = rules.spike_window
    sq = np.concatenate([[0.0], np.cumsum(returns**2)])
    idx = np.arange(len(returns))
    start = np.maximum(0, idx - window)
    count = idx - start
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt((sq[idx] - sq[start]) / np.maximum(count, 1))
    floor = max(rules.min_move, 1e-12)
    sigma = np.maximum(np.nan_to_num(sigma, nan=floor), floor)
    jump = np.abs(returns[:-1])
    next_move = returns[1:]
    # Revert: the next move goes back by at least half of the jump.
    reverts = np.sign(next_move) == -np.sign(returns[:-1])
    reverts &= np.abs(returns[:-1] + next_move) <= 0.5 * jump
    enough_history = count[:-1] >= 20
    is_spike = (jump > rules.spike_sigmas * sigma[:-1]) & reverts & enough_history
    # returns[i] moves into series[i + 1]; map back to positions in ``mid``.
    positions = np.flatnonzero(is_spike) + 1 - offset
    return positions[positions >= 0]


def validate_bars(batch: BarBatch, rules: Rules, *, now_us: int) -> np.ndarray:
    n = len(batch)
    reasons = np.full(n, OK, dtype="<U24")
    o, h, low, c = batch.open, batch.high, batch.low, batch.close
    with np.errstate(invalid="ignore"):
        _first_reason(reasons, ~((o > 0) & (h > 0) & (low > 0) & (c > 0)), "non_positive_price")
        bad = (h < np.maximum(o, c)) | (low > np.minimum(o, c)) | (low > h)
        _first_reason(reasons, bad, "inconsistent_ohlc")
        if batch.spread is not None:
            _first_reason(reasons, batch.spread < 0, "crossed_quote")
            _first_reason(reasons, batch.spread > rules.max_spread * (1 + 1e-9), "spread_too_wide")
    _first_reason(reasons, batch.time_us > now_us + rules.max_future_us, "future_timestamp")
    if rules.check_session:
        open_ = rules.session.is_open(batch.time_us, rules.holidays)
        _first_reason(reasons, ~open_, "outside_session")
    return reasons


REASON_MESSAGES = {
    "non_positive_price": "A price is zero, negative or missing.",
    "crossed_quote": "Ask is below bid.",
    "spread_too_wide": "The spread is wider than the instrument allows.",
    "future_timestamp": "The timestamp is in the future.",
    "outside_session": "The market is closed at this time (weekend or holiday).",
    "spike": "A jump far beyond recent volatility that immediately reverts.",
    "inconsistent_ohlc": "High/low do not contain open/close.",
}

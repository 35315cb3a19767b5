"""A seeded synthetic FX feed with realistic behaviour, in pure numpy.

``SyntheticMarket`` produces ``TickBatch`` objects for a set of symbols, the same
way a broker feed would, for demos, development and tests. It has no Django
dependency.

Example::

    market = SyntheticMarket(["EURUSD", "USDJPY"], seed=7, start_us=now_us)
    batches = market.advance(now_us + 60 * US_PER_SECOND)   # {symbol: TickBatch}
    saved = market.state()                                   # JSON-serialisable
    resumed = SyntheticMarket(["EURUSD", "USDJPY"], seed=7, state=saved)

The model
=========

Currencies, not pairs
    Each currency in ``CURRENCIES`` (USD, EUR, GBP, JPY, CHF, AUD, CAD, NZD and
    XAU, gold treated as a currency) has a log-value against an abstract
    numeraire. Each step the nine log-values receive jointly normal shocks with
    the fixed correlation matrix ``CURRENCY_CORRELATION`` (EUR/CHF/GBP move
    together, AUD/NZD strongly and CAD with them, JPY and CHF are safe havens
    correlated with each other and with gold, AUD/NZD lean against JPY) and the
    per-currency volatilities ``CURRENCY_VOL``. A pair's log mid is
    ``log(base) - log(quote)``. Crosses are therefore consistent by construction
    (EURJPY == EURUSD * USDJPY before rounding), and pair correlations emerge
    from the shared legs: EURUSD/GBPUSD about +0.8, EURUSD/USDCHF about -0.8,
    AUDUSD/NZDUSD about +0.94, EURUSD/USDJPY about -0.45, XAUUSD/EURUSD about
    +0.33. The volatilities and correlations were fitted, then rounded, so that
    the implied pair volatilities match the ``annual_vol`` of ``DEFAULT_SPECS``
    within 4% and these correlations land near their 2024 values.
    The currency model is fixed: a symbol's path never depends on which other
    symbols a market simulates. Starting levels come from the specs' start
    prices, USD pairs first; a cross whose legs are also simulated starts at
    the price they imply (see ``SyntheticMarket._initial_log_values``). A
    currency outside ``CURRENCIES`` (say SEK in a custom ``EURSEK`` spec) gets an
    extra independent factor whose volatility is chosen so that the first spec
    using it (by symbol name) gets its ``annual_vol``. For pairs of built-in
    currencies ``annual_vol`` documents the target and is not used.

Volatility clustering
    Every currency factor has a GARCH(1,1) variance multiplier ``g`` with
    unconditional mean 1, updated once a minute of trading time from that
    minute's standardised shock Z (sum of the 240 step shocks / sqrt(240)):
    ``g' = (1 - a - b) + (a * Z**2 + b) * g`` with ``a = GARCH_ALPHA = 0.02`` and
    ``b = GARCH_BETA = 0.978``: persistence 0.998 a minute (a shock's half-life is
    about six hours), a finite fourth moment, and a lag-1 autocorrelation of
    squared minute returns of about 0.1. The correlation of the shocks is
    constant (Bollerslev's CCC-GARCH). Annualised volatilities are per trading
    year of 260 days of 24 hours; the intraday profile below has mean 1 over a
    trading week, so realised volatility matches the spec on average.

Sessions, activity and spreads (DST-aware, via zoneinfo)
    An activity level per minute comes from the local time of the four FX
    centres: Sydney 07-16, Tokyo 09-18, London 08-17 and New York 08-17 local
    time on local weekdays (with one-hour ramps), weighted 0.35, 0.6, 1.0 and
    0.85 over a floor of 0.12, plus short bursts at the 09:55 Tokyo fix, the
    08:30 New York data releases and the 16:00 London fix, and a dip around the
    17:00 New York rollover. Normalised to mean 1 over a trading week it ranges
    from about 0.1 (the rollover) through about 0.9 (Tokyo) to 1.7-2.2 (the
    London/New York overlap). Quote updates arrive as a Poisson process with rate
    ``ticks_per_second * activity`` (about 7% of them change nothing and are
    not sent, see Quotes); the variance rate of every currency is
    scaled by the activity too (trading-time volatility: Asia is quieter,
    London and the overlap busiest). Spreads are ``typical_spread_pips`` times
    ``activity ** -0.5`` (clipped to 0.75..2), times a rollover bump (up to 3x,
    standard deviation 8 minutes around 17:00 New York), times a Sunday-open
    widening (2x decaying over 20 minutes), times a per-quote jitter of about
    20% (a logistic variable in log space): EURUSD quotes 0.6-0.8 pips in
    London, about 1 pip in Asia and 3-5 pips at the rollover.

Weekend
    The market is closed from Friday 17:00 to Sunday 17:00 America/New_York
    (the UTC times move with US daylight saving time). No ticks are generated
    then and nothing evolves: ``advance`` across a weekend produces a gap. At
    the Sunday open the first minute carries an extra variance of
    ``WEEKEND_GAP_MINUTES`` (120) average minutes, the weekend's news: prices
    open with a gap. Holidays are not modelled.

Quotes
    Within a 250 ms step a pair's log mid is interpolated linearly between the
    step's end points (each step's shock is drawn at its end). A quote is
    ``bid = round(mid - spread / 2)``, ``ask = bid + spread`` in points of
    ``10 ** -digits``, with a spread of at least 1 point and a bid of at least
    1 point, so ``ask > bid > 0`` and both are rounded to the symbol's digits.
    As real feeds do, a quote is only sent when its bid or ask differs from the
    previous one sent for that symbol. Timestamps are whole microseconds,
    strictly increasing per symbol (two arrivals in the same microsecond are
    merged). ``volume`` is an indicative size at the top of the book, in lots
    (2 lots typical, larger in busy hours), rounded to 0.01.

Determinism, split invariance and resuming
    Time is cut into a fixed grid of 250 ms steps aligned to the Unix epoch,
    240 to a UTC minute. All randomness comes from counter-based Philox4x64
    streams keyed by ``sha256(seed, stream name)``: one stream for the nine
    currency factors (10 words a step), one per extra currency (2 words a step)
    and one per symbol (2 words a step: the Poisson count of the step's arrivals
    and a seed from which splitmix64 derives each arrival's time offset, spread
    jitter and size). The words of step ``k`` are at a fixed counter
    position, so any step can be drawn without drawing the ones before it:
    closed hours cost nothing, and how ``advance`` calls split time cannot
    change what is drawn. The simulation always runs whole minutes from a
    state committed at a minute boundary; log-values are integers in units of
    2**-48 and the GARCH input is summed in integers, so they are exact however
    the minutes are batched. ``advance(t)`` emits the ticks in ``(clock, t]``;
    the minute containing ``t`` is simulated in full but only committed once a
    later call passes its end: until then it is kept and reused (a restored
    market recomputes it, identically). Hence the
    same seed and calls give identical output, several ``advance`` calls give
    exactly the ticks of one, and ``SyntheticMarket(..., state=s)`` continues
    exactly where the market that produced ``s`` stopped. ``state()`` holds the
    clock, the committed minute boundary (``anchor_us``), the currency
    log-values and GARCH variances there, each symbol's last quote, and the
    RNG position (implied by the anchor, recorded for clarity).

Cost: one hour of the seven majors at 4 ticks/s each takes about 50 ms on
one core; a live feed polling the seven majors every 250 ms about 0.5 ms a poll;
a trading week of five symbols at 1 tick/s about 1.5 s (mostly the factor
normals, which do not depend on the number of symbols).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from .batches import US_PER_SECOND, TickBatch

__all__ = [
    "CURRENCIES",
    "CURRENCY_CORRELATION",
    "CURRENCY_VOL",
    "DEFAULT_SPECS",
    "GARCH_ALPHA",
    "GARCH_BETA",
    "MAJORS",
    "STEP_US",
    "SymbolSpec",
    "SyntheticMarket",
    "TRADING_MINUTES_PER_YEAR",
    "WEEKEND_GAP_MINUTES",
    "activity_profile",
    "is_market_open",
]


@dataclass(frozen=True)
class SymbolSpec:
    """What the simulator needs to know about one symbol.

    ``digits`` is the quote precision (a point is ``10 ** -digits``);
    ``pip_size`` the conventional pip in price units; ``typical_spread_pips`` the
    spread at average activity; ``annual_vol`` the target annualised volatility
    of log returns (per trading year of 260 days).
    """

    symbol: str
    base: str
    quote: str
    start_price: float
    digits: int
    pip_size: float
    typical_spread_pips: float
    annual_vol: float

    def __post_init__(self):
        if not (self.start_price > 0 and math.isfinite(self.start_price)):
            raise ValueError(f"{self.symbol}: start_price must be positive")
        if not 0 <= self.digits <= 10:
            raise ValueError(f"{self.symbol}: digits must be in 0..10")
        if not self.pip_size > 0 or not self.typical_spread_pips > 0:
            raise ValueError(f"{self.symbol}: pip_size and typical_spread_pips must be positive")
        if not 0 < self.annual_vol < 5:
            raise ValueError(f"{self.symbol}: annual_vol must be in (0, 5)")
        if self.base == self.quote:
            raise ValueError(f"{self.symbol}: base and quote must differ")

    @property
    def point(self) -> float:
        return 10.0**-self.digits


def _spec(symbol, price, digits, pip, spread, vol) -> SymbolSpec:
    return SymbolSpec(symbol, symbol[:3], symbol[3:], price, digits, pip, spread, vol)


# Mid-2024 levels; crosses are the products of their legs. Pips: 0.0001 for
# 5-digit pairs, 0.01 for JPY quotes (3 digits), 0.1 USD for gold (2 digits,
# so a gold pip is 10 points, like the others). Spreads are retail-ECN-like,
# in pips at average activity. Vols are annualised, per trading year.
DEFAULT_SPECS: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _spec("EURUSD", 1.08500, 5, 0.0001, 0.8, 0.070),
        _spec("GBPUSD", 1.27000, 5, 0.0001, 1.0, 0.078),
        _spec("USDJPY", 151.000, 3, 0.01, 1.0, 0.105),
        _spec("USDCHF", 0.90000, 5, 0.0001, 1.3, 0.075),
        _spec("AUDUSD", 0.66000, 5, 0.0001, 1.0, 0.100),
        _spec("USDCAD", 1.36000, 5, 0.0001, 1.4, 0.055),
        _spec("NZDUSD", 0.60500, 5, 0.0001, 1.5, 0.105),
        _spec("EURJPY", 163.835, 3, 0.01, 1.6, 0.095),
        _spec("EURGBP", 0.85433, 5, 0.0001, 1.2, 0.045),
        _spec("GBPJPY", 191.770, 3, 0.01, 2.5, 0.105),
        _spec("XAUUSD", 2300.00, 2, 0.1, 3.0, 0.150),
    )
}
MAJORS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD")

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "NZD", "XAU")
# Annualised volatility of each currency's log-value against the numeraire.
CURRENCY_VOL = {
    "USD": 0.050,
    "EUR": 0.043,
    "GBP": 0.056,
    "JPY": 0.090,
    "CHF": 0.057,
    "AUD": 0.086,
    "CAD": 0.030,
    "NZD": 0.087,
    "XAU": 0.141,
}
# Correlation of the currency shocks, in CURRENCIES order.
_CORR = np.array(
    [
        # USD    EUR    GBP    JPY    CHF    AUD    CAD    NZD    XAU
        [1.00, -0.12, 0.00, 0.00, 0.00, 0.00, 0.12, -0.11, 0.00],  # USD
        [-0.12, 1.00, 0.62, 0.12, 0.63, 0.14, -0.09, 0.00, 0.11],  # EUR
        [0.00, 0.62, 1.00, 0.00, 0.32, 0.00, 0.00, 0.00, 0.00],  # GBP
        [0.00, 0.12, 0.00, 1.00, 0.41, -0.18, 0.00, -0.22, 0.20],  # JPY
        [0.00, 0.63, 0.32, 0.41, 1.00, -0.06, 0.00, 0.00, 0.30],  # CHF
        [0.00, 0.14, 0.00, -0.18, -0.06, 1.00, 0.44, 0.92, 0.00],  # AUD
        [0.12, -0.09, 0.00, 0.00, 0.00, 0.44, 1.00, 0.39, 0.00],  # CAD
        [-0.11, 0.00, 0.00, -0.22, 0.00, 0.92, 0.39, 1.00, 0.00],  # NZD
        [0.00, 0.11, 0.00, 0.20, 0.30, 0.00, 0.00, 0.00, 1.00],  # XAU
    ]
)
_CORR.flags.writeable = False
CURRENCY_CORRELATION = _CORR
_CHOL = np.linalg.cholesky(_CORR)  # fails at import if the matrix is not positive definite

GARCH_ALPHA = 0.02  # per minute of trading time
GARCH_BETA = 0.978
WEEKEND_GAP_MINUTES = 120.0

STEP_US = 250_000
MINUTE_US = 60 * US_PER_SECOND
STEPS_PER_MINUTE = MINUTE_US // STEP_US  # 240
TRADING_MINUTES_PER_YEAR = 260 * 24 * 60
_X_UNIT = 2.0**-48  # fixed-point unit of the log-values
_Z_SCALE = 2.0**32  # fixed-point scale of the standardised shocks
_FACTOR_WORDS = 10  # Philox words per step for the nine core currencies (5 Box-Muller pairs)
_EXTRA_WORDS = 2  # per step for an extra currency
_SYMBOL_WORDS = 2  # per step for a symbol
_CHUNK_MINUTES = 60
_STATE_VERSION = 1
_MAX_TICKS_PER_SECOND = 200.0

_NY = "America/New_York"
_ROLLOVER_MIN = 17 * 60  # 17:00 New York, in minutes of the day
_SESSIONS = (  # zone, local open hour, local close hour, weight
    ("Australia/Sydney", 7.0, 16.0, 0.35),
    ("Asia/Tokyo", 9.0, 18.0, 0.6),
    ("Europe/London", 8.0, 17.0, 1.0),
    (_NY, 8.0, 17.0, 0.85),
)
_EVENTS = (  # zone, local minute of the day, extra activity, width (minutes, s.d.)
    ("Asia/Tokyo", 9 * 60 + 55, 0.3, 6.0),  # Tokyo fix
    (_NY, 8 * 60 + 30, 0.6, 10.0),  # US data releases
    ("Europe/London", 16 * 60, 0.5, 8.0),  # WM/Reuters fix
)
_ACTIVITY_FLOOR = 0.12


# ---------------------------------------------------------------- calendar


@lru_cache(maxsize=1 << 16)
def _utc_offset_minutes(zone: str, hour: int) -> int:
    """UTC offset of ``zone`` during the UTC hour ``hour`` (hours since the epoch).

    Offsets of the zones used here only change on whole UTC hours.
    """
    offset = datetime.fromtimestamp(hour * 3600, tz=ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) // 60


def _local_minutes(zone: str, minutes: np.ndarray) -> np.ndarray:
    """Local wall-clock minutes since the epoch for UTC minutes since the epoch."""
    if minutes.size == 0:
        return minutes.copy()
    hours = minutes // 60
    first = int(hours.min())
    last = int(hours.max())
    offsets = np.array(
        [_utc_offset_minutes(zone, h) for h in range(first, last + 1)], dtype=np.int64
    )
    return minutes + offsets[hours - first]


def _weekday_and_minute(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # 1970-01-01 was a Thursday: Monday = 0.
    return (local // 1440 + 3) % 7, local % 1440


def _open_minutes(minutes: np.ndarray) -> np.ndarray:
    """True for UTC minutes (since the epoch) in which the market is open."""
    weekday, minute = _weekday_and_minute(_local_minutes(_NY, minutes))
    closed = (
        (weekday == 5)
        | ((weekday == 4) & (minute >= _ROLLOVER_MIN))
        | ((weekday == 6) & (minute < _ROLLOVER_MIN))
    )
    return ~closed


def is_market_open(time_us: int | np.ndarray) -> bool | np.ndarray:
    """Whether the simulated market is open at ``time_us`` (UTC microseconds).

    Closed from Friday 17:00 to Sunday 17:00 America/New_York.
    """
    times = np.asarray(time_us, dtype=np.int64)
    result = _open_minutes(np.atleast_1d(times // MINUTE_US)).reshape(times.shape)
    return bool(result) if result.ndim == 0 else result


def _raw_activity(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unnormalised activity and the signed distance (minutes) to 17:00 New York."""
    activity = np.full(minutes.shape, _ACTIVITY_FLOOR)
    for zone, open_h, close_h, weight in _SESSIONS:
        local = _local_minutes(zone, minutes)
        weekday, minute = _weekday_and_minute(local)
        hour = (minute + 0.5) / 60.0
        up = np.clip(hour - (open_h - 0.5), 0.0, 1.0)
        down = np.clip((close_h + 0.5) - hour, 0.0, 1.0)
        activity += weight * np.minimum(up, down) * (weekday < 5)
    for zone, centre, weight, width in _EVENTS:
        weekday, minute = _weekday_and_minute(_local_minutes(zone, minutes))
        distance = minute + 0.5 - centre
        activity += weight * np.exp(-0.5 * (distance / width) ** 2) * (weekday < 5)
    _, ny_minute = _weekday_and_minute(_local_minutes(_NY, minutes))
    to_rollover = (ny_minute + 0.5 - _ROLLOVER_MIN + 720.0) % 1440.0 - 720.0
    activity *= 1.0 - 0.7 * np.exp(-0.5 * (to_rollover / 15.0) ** 2)
    return activity, to_rollover


def _reference_week_mean() -> float:
    # A winter trading week, Sunday 2024-01-07 22:00 UTC to Friday 2024-01-12 22:00 UTC.
    start = 1704664800 // 60
    minutes = np.arange(start, start + 5 * 1440, dtype=np.int64)
    activity, _ = _raw_activity(minutes)
    return float(activity.mean())


_ACTIVITY_MEAN = _reference_week_mean()


def activity_profile(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Activity (mean 1 over a trading week) and spread multiplier for UTC minutes.

    ``minutes`` are whole minutes since the epoch; values describe the minute's
    middle. Closed minutes are not special-cased here (see ``is_market_open``).
    """
    minutes = np.asarray(minutes, dtype=np.int64)
    raw, to_rollover = _raw_activity(minutes)
    activity = raw / _ACTIVITY_MEAN
    spread = np.clip(activity**-0.5, 0.75, 2.0)
    spread = spread * (1.0 + 2.0 * np.exp(-0.5 * (to_rollover / 8.0) ** 2))
    weekday, _ = _weekday_and_minute(_local_minutes(_NY, minutes))
    since_open = np.where((weekday == 6) & (to_rollover >= 0), to_rollover, np.inf)
    spread = spread * (1.0 + np.exp(-since_open / 20.0))
    return activity, spread


# ---------------------------------------------------------------- randomness

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _stream_key(seed: int, name: str) -> np.ndarray:
    digest = hashlib.sha256(f"fx-synthetic/1/{seed}/{name}".encode()).digest()
    return np.frombuffer(digest[:16], dtype="<u8").astype(np.uint64)


def _words(key: np.ndarray, first_minute: int, minutes: int, per_step: int) -> np.ndarray:
    """The raw 64-bit words of ``minutes`` whole minutes of a stream.

    Returns shape ``(per_step, minutes * 240)``: row ``j`` holds word ``j`` of
    every step. A minute's ``240 * per_step`` words are laid out word-major
    (all steps' word 0, then word 1, ...). Philox yields 4 words per counter
    value, so minute ``m`` starts at counter ``m * 60 * per_step``.
    """
    bits = np.random.Philox(key=key, counter=first_minute * 60 * per_step)
    raw = bits.random_raw(minutes * STEPS_PER_MINUTE * per_step)
    raw = raw.reshape(minutes, per_step, STEPS_PER_MINUTE).transpose(1, 0, 2)
    return np.ascontiguousarray(raw).reshape(per_step, minutes * STEPS_PER_MINUTE)


def _bits_uniform(words: np.ndarray, shift: int, width: int) -> np.ndarray:
    """Doubles in (0, 1) from ``width`` bits of ``words`` starting at bit ``shift``."""
    field = (words >> np.uint64(shift)) & np.uint64((1 << width) - 1)
    return (field.astype(np.float64) + 0.5) * 2.0**-width


def _box_muller(words: np.ndarray) -> np.ndarray:
    """Standard normals from word rows, pairwise: 2n rows -> 2n rows of normals."""
    half = words.shape[0] // 2
    # (k + 1) / 2**53 is in (0, 1], so the log is finite
    u1 = ((words[:half] >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * 2.0**-53
    angle = (words[half:] >> np.uint64(11)).astype(np.float64) * (2.0 * np.pi * 2.0**-53)
    radius = np.sqrt(-2.0 * np.log(u1))
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])


def _poisson_thresholds(mean: np.ndarray) -> np.ndarray:
    """Integer CDF thresholds of Poisson(mean) for each entry of ``mean``.

    Row ``i`` holds ``floor(F_i(k) * 2**53)`` for k = 0..K (non-decreasing,
    capped at 2**53 - 1), where ``F_i`` is the Poisson CDF and K is large
    enough that ``F_i(K)`` is 1 to double precision.
    """
    cap = 2**53 - 1
    top = float(mean.max(initial=0.0))
    k_max = int(top + 12.0 * math.sqrt(top) + 40.0)
    p = np.exp(-mean)
    cdf = p.copy()
    rows = [cdf]
    for k in range(1, k_max + 1):
        p = p * mean / k
        cdf = cdf + p
        rows.append(cdf)
    table = np.floor(np.stack(rows, axis=1) * 2.0**53)
    return np.minimum(table, cap).astype(np.int64)


def _poisson_counts(words: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Poisson counts by CDF inversion in integers: exact and order-independent.

    ``words`` has ``240`` entries per row of ``thresholds`` (one row a minute).
    With ``u = k / 2**53`` the count is ``#{j : u > F(j)}`` = the number of
    thresholds of the step's minute below ``k``.
    """
    minutes, width = thresholds.shape
    base = np.arange(minutes, dtype=np.int64) << np.int64(53)
    flat = (thresholds + base[:, None]).ravel()
    keys = (words >> np.uint64(11)).astype(np.int64) + np.repeat(base, STEPS_PER_MINUTE)
    found = np.searchsorted(flat, keys, side="left")
    return found - np.repeat(np.arange(minutes, dtype=np.int64) * width, STEPS_PER_MINUTE)


# ---------------------------------------------------------------- market


@dataclass
class _Symbol:
    spec: SymbolSpec
    base: int
    quote: int
    scale: float  # 10 ** digits
    typical_points: float
    key: np.ndarray


@dataclass
class _Chunk:
    """The outcome of simulating consecutive minutes from a committed state."""

    first: int  # first minute
    x_end: np.ndarray
    g_end: np.ndarray
    quotes: dict = field(default_factory=dict)  # symbol -> (time_us, bid, ask, size, changed)
    last: dict = field(default_factory=dict)  # symbol -> last (bid, ask) points


def _resolve_specs(specs) -> dict[str, SymbolSpec]:
    if isinstance(specs, Mapping):
        items = list(specs.values())
    elif isinstance(specs, str):
        items = [specs]
    else:
        items = list(specs)
    resolved: dict[str, SymbolSpec] = {}
    for item in items:
        if isinstance(item, str):
            name = item.upper()
            if name not in DEFAULT_SPECS:
                raise ValueError(f"unknown symbol {item!r}; pass a SymbolSpec for it")
            item = DEFAULT_SPECS[name]
        if not isinstance(item, SymbolSpec):
            raise TypeError(f"expected a symbol name or SymbolSpec, got {item!r}")
        if item.symbol in resolved:
            raise ValueError(f"duplicate symbol {item.symbol}")
        resolved[item.symbol] = item
    if not resolved:
        raise ValueError("no symbols")
    return resolved


def _default_log_values() -> dict[str, float]:
    d = DEFAULT_SPECS
    values = {"USD": 0.0}
    for symbol in ("EURUSD", "GBPUSD", "AUDUSD", "NZDUSD", "XAUUSD"):
        values[symbol[:3]] = math.log(d[symbol].start_price)
    for symbol in ("USDJPY", "USDCHF", "USDCAD"):
        values[symbol[3:]] = -math.log(d[symbol].start_price)
    return values


class SyntheticMarket:
    """A simulated multi-symbol FX feed; see the module docstring for the model.

    ``specs`` is a mapping of symbol to ``SymbolSpec`` or an iterable of symbol
    names (from ``DEFAULT_SPECS``) and/or specs. ``start_us`` (UTC microseconds)
    is the initial clock; it may be omitted when ``state`` is given, whose
    clock wins. ``ticks_per_second`` is each symbol's average quote arrival rate
    over a trading week (before unchanged quotes are dropped); seed and rate
    must match the state's when resuming.
    """

    def __init__(
        self,
        specs: Mapping[str, SymbolSpec] | Iterable[str | SymbolSpec] = DEFAULT_SPECS,
        *,
        seed: int = 0,
        start_us: int | None = None,
        state: dict | None = None,
        ticks_per_second: float = 4.0,
        always_open: bool = False,
    ):
        # ``always_open``: a demo mode that trades through the weekend, with
        # weekend hours behaving like the same hours two days earlier.
        self._always_open = bool(always_open)
        self._specs = _resolve_specs(specs)
        self._seed = int(seed)
        tps = float(ticks_per_second)
        if not 0 < tps <= _MAX_TICKS_PER_SECOND:
            raise ValueError(f"ticks_per_second must be in (0, {_MAX_TICKS_PER_SECOND:g}]")
        self._tps = tps

        extras = sorted(
            {c for s in self._specs.values() for c in (s.base, s.quote)} - set(CURRENCIES)
        )
        self._currencies = CURRENCIES + tuple(extras)
        index = {c: i for i, c in enumerate(self._currencies)}
        self._vol = np.array(
            [CURRENCY_VOL[c] for c in CURRENCIES] + [self._extra_vol(c) for c in extras]
        )
        self._factor_key = _stream_key(self._seed, "currencies")
        self._extra_keys = [_stream_key(self._seed, f"currency:{c}") for c in extras]
        self._symbols = {
            name: _Symbol(
                spec=spec,
                base=index[spec.base],
                quote=index[spec.quote],
                scale=10.0**spec.digits,
                typical_points=spec.typical_spread_pips * spec.pip_size * 10.0**spec.digits,
                key=_stream_key(self._seed, f"symbol:{name}"),
            )
            for name, spec in self._specs.items()
        }

        self._cache: _Chunk | None = None  # the minute at the anchor, if simulated
        if state is not None:
            self._load_state(state)
        else:
            if start_us is None:
                raise ValueError("start_us is required without a state")
            self._clock = int(start_us)
            self._anchor = self._clock // MINUTE_US * MINUTE_US
            self._x = np.rint(self._initial_log_values() / _X_UNIT).astype(np.int64)
            self._g = np.ones(len(self._currencies))
            self._last = {name: None for name in self._symbols}

    # -- set-up

    def _extra_vol(self, currency: str) -> float:
        for spec in sorted(self._specs.values(), key=lambda s: s.symbol):
            if currency in (spec.base, spec.quote):
                other = spec.quote if currency == spec.base else spec.base
                other_vol = CURRENCY_VOL.get(other, 0.0)
                if other not in CURRENCY_VOL:  # both legs unknown: split evenly
                    return spec.annual_vol / math.sqrt(2.0)
                return math.sqrt(
                    max(spec.annual_vol**2 - other_vol**2, (0.25 * spec.annual_vol) ** 2)
                )
        raise AssertionError(currency)

    def _initial_log_values(self) -> np.ndarray:
        """Starting log-values of the currencies, from the specs' start prices.

        USD is 0. Specs are walked in a fixed order, pairs against USD first,
        then by symbol name; each sets the one currency of its pair not set yet.
        A spec whose two currencies are already set (a cross after its legs)
        gets the implied price and its ``start_price`` is not used. Currencies no
        spec reaches take the reference levels of ``DEFAULT_SPECS``. So a
        symbol's start, like its path, does not depend on unrelated symbols.
        """
        reference = _default_log_values()
        known = {"USD": 0.0}
        pending = sorted(
            self._specs.values(), key=lambda s: ("USD" not in (s.base, s.quote), s.symbol)
        )
        while pending:
            for spec in pending:
                has_base, has_quote = spec.base in known, spec.quote in known
                if has_base or has_quote:
                    if not has_quote:
                        known[spec.quote] = known[spec.base] - math.log(spec.start_price)
                    elif not has_base:
                        known[spec.base] = known[spec.quote] + math.log(spec.start_price)
                    pending.remove(spec)
                    break
            else:  # nothing connects to a known currency: anchor one on the reference
                spec = pending[0]
                anchor = (
                    spec.quote
                    if spec.quote in reference or spec.base not in reference
                    else spec.base
                )
                known[anchor] = reference.get(anchor, 0.0)
        return np.array([known.get(c, reference.get(c, 0.0)) for c in self._currencies])

    # -- public API

    @property
    def clock_us(self) -> int:
        return self._clock

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def ticks_per_second(self) -> float:
        return self._tps

    @property
    def specs(self) -> dict[str, SymbolSpec]:
        return dict(self._specs)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def advance(self, until_us: int) -> dict[str, TickBatch]:
        """Generate every tick in ``(clock, until_us]`` and move the clock to ``until_us``.

        Returns one ``TickBatch`` per symbol (possibly empty), times strictly
        increasing.
        """
        until = int(until_us)
        if until < self._clock:
            raise ValueError(f"cannot go back in time: {until} < clock {self._clock}")
        parts = {name: [] for name in self._symbols}
        if until > self._clock:
            first = self._anchor // MINUTE_US
            partial = until // MINUTE_US  # the minute containing `until`, never committed
            minutes = np.arange(first - 1, partial + 1, dtype=np.int64)
            is_open = (
                np.ones(len(minutes), dtype=bool) if self._always_open else _open_minutes(minutes)
            )
            reopen = is_open[1:] & ~is_open[:-1]
            is_open = is_open[1:]
            minutes = minutes[1:]
            segments = [(a, b, True) for a, b in _open_runs(is_open[:-1], _CHUNK_MINUTES)]
            if is_open[-1]:
                segments.append((len(minutes) - 1, len(minutes), False))
            cached = self._cache if self._cache is not None and self._cache.first == first else None
            if cached is not None and segments and segments[0][0] == 0 and segments[0][1] > 1:
                segments[0:1] = [(0, 1, segments[0][2]), (1, segments[0][1], segments[0][2])]
            for start, stop, commit in segments:
                if cached is not None and start == 0 and stop == 1:
                    chunk = cached  # the minute at the anchor, simulated by the last call
                else:
                    chunk = self._simulate(minutes[start:stop], reopen[start:stop])
                self._emit(chunk, until, parts)
                if commit:
                    self._x, self._g = chunk.x_end, chunk.g_end
                    self._last.update(chunk.last)
                else:
                    self._cache = chunk
            self._clock = until
            self._anchor = partial * MINUTE_US
        return {name: _concat(chunks) for name, chunks in parts.items()}

    def state(self) -> dict:
        """A JSON-serialisable snapshot from which an equal market can be rebuilt."""
        currencies = {
            c: {"log_value": int(self._x[i]), "garch_variance": float(self._g[i])}
            for i, c in enumerate(self._currencies)
        }
        symbols = {}
        for name, sym in self._symbols.items():
            log_mid = float(self._x[sym.base] - self._x[sym.quote]) * _X_UNIT
            last = self._last[name]
            symbols[name] = {
                "mid": math.exp(log_mid),  # model mid at anchor_us, informational
                "last_bid_points": None if last is None else int(last[0]),
                "last_ask_points": None if last is None else int(last[1]),
            }
        return {
            "version": _STATE_VERSION,
            "seed": self._seed,
            "ticks_per_second": self._tps,
            "clock_us": self._clock,
            "anchor_us": self._anchor,
            "log_value_unit": _X_UNIT,
            "currencies": currencies,
            "symbols": symbols,
            "rng": {
                "generator": "Philox4x64, counter-based, keyed by sha256(seed, stream)",
                "next_minute": self._anchor // MINUTE_US,
            },
        }

    # -- internals

    def _load_state(self, state: dict) -> None:
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported state version {state.get('version')!r}")
        if int(state["seed"]) != self._seed:
            raise ValueError(f"state was made with seed {state['seed']}, not {self._seed}")
        if float(state["ticks_per_second"]) != self._tps:
            raise ValueError(
                f"state was made with ticks_per_second={state['ticks_per_second']}, not {self._tps}"
            )
        self._clock = int(state["clock_us"])
        self._anchor = int(state["anchor_us"])
        if self._anchor % MINUTE_US or not 0 <= self._clock - self._anchor < MINUTE_US:
            raise ValueError("inconsistent clock_us / anchor_us in state")
        saved = state["currencies"]
        fresh = None
        x = np.empty(len(self._currencies), dtype=np.int64)
        g = np.empty(len(self._currencies))
        for i, c in enumerate(self._currencies):
            if c in saved:
                x[i] = int(saved[c]["log_value"])
                g[i] = float(saved[c]["garch_variance"])
            else:  # a currency new to this market (a new custom symbol)
                if fresh is None:
                    fresh = np.rint(self._initial_log_values() / _X_UNIT).astype(np.int64)
                x[i], g[i] = fresh[i], 1.0
        self._x, self._g = x, g
        symbols = state.get("symbols", {})
        self._last = {}
        for name in self._symbols:
            entry = symbols.get(name) or {}
            bid, ask = entry.get("last_bid_points"), entry.get("last_ask_points")
            self._last[name] = None if bid is None or ask is None else (int(bid), int(ask))

    def _factor_shocks(self, first: int, count: int) -> np.ndarray:
        """Correlated standard normal shocks, fixed-point, shape (currencies, steps)."""
        independent = _box_muller(_words(self._factor_key, first, count, _FACTOR_WORDS))
        shocks = np.empty((len(self._currencies), independent.shape[1]))
        for i in range(len(CURRENCIES)):  # elementwise Cholesky product, fixed order
            acc = _CHOL[i, 0] * independent[0]
            for j in range(1, i + 1):
                acc += _CHOL[i, j] * independent[j]
            shocks[i] = acc
        for n, key in enumerate(self._extra_keys):
            shocks[len(CURRENCIES) + n] = _box_muller(_words(key, first, count, _EXTRA_WORDS))[0]
        shocks *= _Z_SCALE
        return np.rint(shocks, out=shocks).astype(np.int64)

    def _simulate(self, minutes: np.ndarray, reopen: np.ndarray) -> _Chunk:
        """Simulate whole consecutive open ``minutes`` from the committed state.

        Pure: the committed state is not changed; the result holds every
        candidate quote of the minutes and the state at their end.
        """
        first, count = int(minutes[0]), len(minutes)
        steps = count * STEPS_PER_MINUTE
        n_cur = len(self._currencies)
        profile_minutes = (
            np.where(_open_minutes(minutes), minutes, minutes - 2 * 1440)
            if self._always_open
            else minutes
        )
        activity, spread_mult = activity_profile(profile_minutes)
        variance_mult = activity + WEEKEND_GAP_MINUTES * reopen

        # Currency factors: shocks, per-minute GARCH, integer log-value paths.
        zq = self._factor_shocks(first, count).reshape(n_cur, count, STEPS_PER_MINUTE)
        minute_z = zq.sum(axis=2)  # integers: exact whatever the batching
        minute_z2 = (minute_z / _Z_SCALE) ** 2 / STEPS_PER_MINUTE  # (currencies, minutes)
        garch = np.empty((n_cur, count))
        g = self._g
        omega = 1.0 - GARCH_ALPHA - GARCH_BETA
        for i in range(count):
            garch[:, i] = g
            g = omega + (GARCH_ALPHA * minute_z2[:, i] + GARCH_BETA) * g
        step_var = (self._vol[:, None] ** 2 / (TRADING_MINUTES_PER_YEAR * STEPS_PER_MINUTE)) * (
            garch * variance_mult[None, :]
        )
        scale = np.sqrt(step_var) / (_X_UNIT * _Z_SCALE)  # (currencies, minutes)
        dx = np.rint(zq * scale[:, :, None]).astype(np.int64).reshape(n_cur, steps)
        path = np.cumsum(dx, axis=1)
        path += self._x[:, None]

        # Quotes, one symbol at a time.
        step0 = first * STEPS_PER_MINUTE
        thresholds = _poisson_thresholds(activity * (self._tps * STEP_US / US_PER_SECOND))
        size_level = np.log(2.0) + 0.5 * np.log(activity)
        chunk = _Chunk(first=first, x_end=path[:, -1].copy(), g_end=g)
        for name, sym in self._symbols.items():
            words = _words(sym.key, first, count, _SYMBOL_WORDS)
            arrivals = _poisson_counts(words[0], thresholds)
            total = int(arrivals.sum())
            if total == 0:
                continue
            step = np.repeat(np.arange(steps), arrivals)
            slot = np.arange(total) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
            w = _splitmix(words[1, step] + (slot.astype(np.uint64) + np.uint64(1)) * _GOLDEN)
            w2 = _splitmix(w ^ _GOLDEN)
            offset = ((w >> np.uint64(32)) * np.uint64(STEP_US)) >> np.uint64(32)  # [0, STEP)
            offset = offset.astype(np.int64)
            time_us = (step0 + step) * STEP_US + offset

            y_end = path[sym.base] - path[sym.quote]
            y_start = np.empty_like(y_end)
            y_start[0] = self._x[sym.base] - self._x[sym.quote]
            y_start[1:] = y_end[:-1]
            ys = y_start[step]
            move = (y_end[step] - ys).astype(np.float64)
            log_mid = (ys.astype(np.float64) + (offset / STEP_US) * move) * _X_UNIT
            minute = step // STEPS_PER_MINUTE
            u_spread = _bits_uniform(w, 0, 32)
            jitter = (u_spread / (1.0 - u_spread)) ** 0.12  # logistic in log, s.d. ~0.2
            spread = np.maximum(1.0, np.rint(sym.typical_points * spread_mult[minute] * jitter))
            bid = np.maximum(1.0, np.rint(np.exp(log_mid) * sym.scale - 0.5 * spread))
            ask = bid + spread
            u_size = _bits_uniform(w2, 0, 32)
            size = np.exp(size_level[minute] + 0.5 * np.log(u_size / (1.0 - u_size)))
            size = np.clip(np.round(size, 2), 0.01, 100.0)

            order = np.argsort(time_us, kind="stable")
            time_us, bid, ask, size = time_us[order], bid[order], ask[order], size[order]
            keep = np.empty(total, dtype=bool)
            keep[0] = True
            np.not_equal(time_us[1:], time_us[:-1], out=keep[1:])  # merge same-microsecond
            if not keep.all():
                time_us, bid, ask, size = time_us[keep], bid[keep], ask[keep], size[keep]
            prev = self._last[name]
            changed = np.empty(len(time_us), dtype=bool)
            changed[0] = prev is None or bid[0] != prev[0] or ask[0] != prev[1]
            changed[1:] = (bid[1:] != bid[:-1]) | (ask[1:] != ask[:-1])
            chunk.last[name] = (int(bid[-1]), int(ask[-1]))
            chunk.quotes[name] = (time_us, bid, ask, size, changed)
        return chunk

    def _emit(self, chunk: _Chunk, until: int, parts: dict[str, list]) -> None:
        """Append the chunk's sent quotes in ``(clock, until]`` to ``parts``."""
        for name, (time_us, bid, ask, size, changed) in chunk.quotes.items():
            emit = changed & (time_us > self._clock) & (time_us <= until)
            if emit.any():
                scale = self._symbols[name].scale
                parts[name].append(
                    TickBatch(
                        time_us=time_us[emit],
                        bid=bid[emit] / scale,
                        ask=ask[emit] / scale,
                        volume=size[emit],
                    )
                )


def _open_runs(is_open: np.ndarray, limit: int):
    """(start, stop) index ranges of consecutive True values, at most ``limit`` long."""
    padded = np.concatenate([[False], is_open, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    for start, stop in zip(edges[0::2], edges[1::2], strict=True):
        for s in range(int(start), int(stop), limit):
            yield s, min(s + limit, int(stop))


def _concat(batches: list[TickBatch]) -> TickBatch:
    if not batches:
        batch = TickBatch.empty()
        batch.volume = np.empty(0)
        return batch
    if len(batches) == 1:
        return batches[0]
    return TickBatch(
        time_us=np.concatenate([b.time_us for b in batches]),
        bid=np.concatenate([b.bid for b in batches]),
        ask=np.concatenate([b.ask for b in batches]),
        volume=np.concatenate([b.volume for b in batches]),
    )

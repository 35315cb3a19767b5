"""A faithful in-process fake of the ``MetaTrader5`` Python package.

The real package is a Windows-only C extension that talks to a running
MetaTrader 5 terminal over IPC. Our adapters import it lazily; on Linux the
tests put a :class:`FakeMetaTrader5` instance in ``sys.modules`` (see
:func:`install`) and run the same code against it.

What is emulated, and where the behaviour was checked (see the MT5 client's
report for sources):

* module-level functions and constants with the real values (``TIMEFRAME_*``,
  ``COPY_TICKS_*``, ``TICK_FLAG_*``, ``RES_*``), read from a copy of the
  package's ``__init__.py`` constant block and its published stubs;
* failures return ``None`` (``False`` for the boolean functions) and set
  :meth:`last_error` to ``(code, message)``; the messages are the ones
  reported from live terminals: ``(1, 'Success')``,
  ``(-10004, 'No IPC connection')`` for any call without an attached
  terminal, ``(-10005, 'IPC timeout')`` for a terminal that does not answer
  ``initialize``, ``(-6, 'Terminal: Authorization failed')``,
  ``(-2, 'Invalid params')`` (``initialize`` with a password but no login),
  ``(-2, 'Terminal: Invalid params')`` (``copy_rates_*`` asking for a span of
  ``maxbars`` bars or more, or a non-int login), ``(-4, 'Terminal: Not
  found')`` (``symbol_info`` of an unknown symbol), ``(-1, 'Terminal: Call
  failed')`` (bars beyond the available history);
* ``copy_ticks_*`` / ``copy_rates_*`` return numpy structured arrays with the
  exact dtypes of the real module (:data:`TICK_DTYPE`, :data:`RATES_DTYPE`);
  dates are a ``datetime`` (aware, or naive taken as UTC) or int seconds
  since the epoch, so request times have **whole-second** resolution while
  ticks carry ``time_msc``; ``copy_ticks_from`` returns ticks with
  ``time_msc >= date_from * 1000``, ``copy_ticks_range`` those with
  ``date_from * 1000 <= time_msc <= date_to * 1000`` (MQL5's
  ``CopyTicksRange`` semantics), ``copy_rates_range`` the bars whose open
  time is in ``[date_from, date_to]``, ``copy_rates_from`` the ``count`` bars
  opened at or before ``date_from``, ``copy_rates_from_pos`` counts back from
  the current (forming) bar at position 0;
* ``symbol_info`` / ``symbols_get`` return ``SymbolInfo`` named tuples with
  the full 96 fields of the real one, ``symbol_info_tick`` a ``Tick``,
  ``account_info`` / ``terminal_info`` ``AccountInfo`` / ``TerminalInfo``.

The broker is deterministic: each symbol's quotes are a seeded random walk
generated lazily by UTC hour (a Brownian bridge between deterministic hourly
anchors, so any hour can be generated on its own), with random spreads, ticks
that move only one side (the other side carries the previous value, flags say
which side changed, as in the real feed), millisecond timestamps with ties,
and nothing outside the FX week (Sunday 22:00 to Friday 22:00 UTC; DST is
ignored). Bars are aggregated from those ticks (bid prices, tick volume =
number of ticks, spread = the bar's lowest spread in points), so bars and
ticks always agree.

Test controls (not part of the real API): :meth:`~FakeMetaTrader5.disconnect`,
:meth:`~FakeMetaTrader5.fail_next_initialize`,
:meth:`~FakeMetaTrader5.advance` / :meth:`~FakeMetaTrader5.set_time` (the
terminal's clock: only ticks at or before it exist),
:meth:`~FakeMetaTrader5.add_ticks` (late ticks, e.g. one more at an already
polled millisecond) and :attr:`~FakeMetaTrader5.calls`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import sys
import zlib
from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

__all__ = [
    "RATES_DTYPE",
    "TICK_DTYPE",
    "AccountInfo",
    "FakeBroker",
    "FakeMetaTrader5",
    "FakeSymbol",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "install",
]

# --------------------------------------------------------------------------
# Constants: the values of the real package.

TIMEFRAME_M1 = 1
TIMEFRAME_M2 = 2
TIMEFRAME_M3 = 3
TIMEFRAME_M4 = 4
TIMEFRAME_M5 = 5
TIMEFRAME_M6 = 6
TIMEFRAME_M10 = 10
TIMEFRAME_M12 = 12
TIMEFRAME_M15 = 15
TIMEFRAME_M20 = 20
TIMEFRAME_M30 = 30
TIMEFRAME_H1 = 1 | 0x4000
TIMEFRAME_H2 = 2 | 0x4000
TIMEFRAME_H3 = 3 | 0x4000
TIMEFRAME_H4 = 4 | 0x4000
TIMEFRAME_H6 = 6 | 0x4000
TIMEFRAME_H8 = 8 | 0x4000
TIMEFRAME_H12 = 12 | 0x4000
TIMEFRAME_D1 = 24 | 0x4000
TIMEFRAME_W1 = 1 | 0x8000
TIMEFRAME_MN1 = 1 | 0xC000

COPY_TICKS_ALL = -1
COPY_TICKS_INFO = 1
COPY_TICKS_TRADE = 2

TICK_FLAG_BID = 0x02
TICK_FLAG_ASK = 0x04
TICK_FLAG_LAST = 0x08
TICK_FLAG_VOLUME = 0x10
TICK_FLAG_BUY = 0x20
TICK_FLAG_SELL = 0x40

SYMBOL_CALC_MODE_FOREX = 0
SYMBOL_TRADE_MODE_FULL = 4
SYMBOL_TRADE_EXECUTION_MARKET = 2
SYMBOL_SWAP_MODE_POINTS = 1
SYMBOL_CHART_MODE_BID = 0
ACCOUNT_TRADE_MODE_DEMO = 0
ACCOUNT_MARGIN_MODE_RETAIL_HEDGING = 2
ACCOUNT_STOPOUT_MODE_PERCENT = 0

RES_S_OK = 1
RES_E_FAIL = -1
RES_E_INVALID_PARAMS = -2
RES_E_NO_MEMORY = -3
RES_E_NOT_FOUND = -4
RES_E_INVALID_VERSION = -5
RES_E_AUTH_FAILED = -6
RES_E_UNSUPPORTED = -7
RES_E_AUTO_TRADING_DISABLED = -8
RES_E_INTERNAL_FAIL = -10000
RES_E_INTERNAL_FAIL_SEND = -10001
RES_E_INTERNAL_FAIL_RECEIVE = -10002
RES_E_INTERNAL_FAIL_INIT = -10003
RES_E_INTERNAL_FAIL_CONNECT = -10004
RES_E_INTERNAL_FAIL_TIMEOUT = -10005

CONSTANTS: dict[str, int] = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper()
    and isinstance(value, int)
    and name.startswith(("TIMEFRAME_", "COPY_TICKS_", "TICK_FLAG_", "SYMBOL_", "ACCOUNT_", "RES_"))
}

SUCCESS = (RES_S_OK, "Success")
NO_IPC = (RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
IPC_TIMEOUT = (RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
IPC_INIT_FAILED = (RES_E_INTERNAL_FAIL_INIT, "IPC initialize failed, Process create failed")
AUTH_FAILED = (RES_E_AUTH_FAILED, "Terminal: Authorization failed")
INVALID_PARAMS = (RES_E_INVALID_PARAMS, "Invalid params")
TERMINAL_INVALID_PARAMS = (RES_E_INVALID_PARAMS, "Terminal: Invalid params")
INVALID_ARGUMENTS = (RES_E_INVALID_PARAMS, "Invalid arguments")
NOT_FOUND = (RES_E_NOT_FOUND, "Terminal: Not found")
CALL_FAILED = (RES_E_FAIL, "Terminal: Call failed")

# --------------------------------------------------------------------------
# Structured array dtypes and named tuples, as returned by the real module.

TICK_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("last", "<f8"),
        ("volume", "<u8"),
        ("time_msc", "<i8"),
        ("flags", "<u4"),
        ("volume_real", "<f8"),
    ]
)
RATES_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]
)

Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")

SYMBOL_INFO_FIELDS = (
    "custom chart_mode select visible session_deals session_buy_orders session_sell_orders "
    "volume volumehigh volumelow time digits spread spread_float ticks_bookdepth "
    "trade_calc_mode trade_mode start_time expiration_time trade_stops_level "
    "trade_freeze_level trade_exemode swap_mode swap_rollover3days margin_hedged_use_leg "
    "expiration_mode filling_mode order_mode order_gtc_mode option_mode option_right "
    "bid bidhigh bidlow ask askhigh asklow last lasthigh lastlow volume_real "
    "volumehigh_real volumelow_real option_strike point trade_tick_value "
    "trade_tick_value_profit trade_tick_value_loss trade_tick_size trade_contract_size "
    "trade_accrued_interest trade_face_value trade_liquidity_rate volume_min volume_max "
    "volume_step volume_limit swap_long swap_short margin_initial margin_maintenance "
    "session_volume session_turnover session_interest session_buy_orders_volume "
    "session_sell_orders_volume session_open session_close session_aw "
    "session_price_settlement session_price_limit_min session_price_limit_max "
    "margin_hedged price_change price_volatility price_theoretical price_greeks_delta "
    "price_greeks_theta price_greeks_gamma price_greeks_vega price_greeks_rho "
    "price_greeks_omega price_sensitivity basis category currency_base currency_profit "
    "currency_margin bank description exchange formula isin name page path"
).split()
SymbolInfo = namedtuple("SymbolInfo", SYMBOL_INFO_FIELDS)

ACCOUNT_INFO_FIELDS = (
    "login trade_mode leverage limit_orders margin_so_mode trade_allowed trade_expert "
    "margin_mode currency_digits fifo_close balance credit profit equity margin "
    "margin_free margin_level margin_so_call margin_so_so margin_initial "
    "margin_maintenance assets liabilities commission_blocked name server currency company"
).split()
AccountInfo = namedtuple("AccountInfo", ACCOUNT_INFO_FIELDS)

TERMINAL_INFO_FIELDS = (
    "community_account community_connection connected dlls_allowed trade_allowed "
    "tradeapi_disabled email_enabled ftp_enabled notifications_enabled mqid build maxbars "
    "codepage ping_last community_balance retransmission company name language path "
    "data_path commondata_path"
).split()
TerminalInfo = namedtuple("TerminalInfo", TERMINAL_INFO_FIELDS)

# --------------------------------------------------------------------------
# The simulated broker.

MS_PER_HOUR = 3_600_000
SECONDS_PER_WEEK = 7 * 86_400
SUNDAY_OFFSET_S = 3 * 86_400  # 1970-01-04, the first Sunday after the epoch
_TIMEFRAME_SECONDS = {
    TIMEFRAME_M1: 60,
    TIMEFRAME_M2: 120,
    TIMEFRAME_M3: 180,
    TIMEFRAME_M4: 240,
    TIMEFRAME_M5: 300,
    TIMEFRAME_M6: 360,
    TIMEFRAME_M10: 600,
    TIMEFRAME_M12: 720,
    TIMEFRAME_M15: 900,
    TIMEFRAME_M20: 1200,
    TIMEFRAME_M30: 1800,
    TIMEFRAME_H1: 3600,
    TIMEFRAME_H2: 7200,
    TIMEFRAME_H3: 10800,
    TIMEFRAME_H4: 14400,
    TIMEFRAME_H6: 21600,
    TIMEFRAME_H8: 28800,
    TIMEFRAME_H12: 43200,
    TIMEFRAME_D1: 86400,
    TIMEFRAME_W1: SECONDS_PER_WEEK,
    TIMEFRAME_MN1: 31 * 86400,  # upper bound; MN1 bars are calendar months
}


@dataclass
class FakeSymbol:
    """One broker symbol and its quote process."""

    name: str
    currency_base: str
    currency_profit: str
    digits: int
    price: float  # mid price around which the walk moves
    spread_points: tuple[int, int] = (2, 15)
    visible: bool = True
    volatility: float = 0.0006  # relative stdev of the price over one hour
    trade_contract_size: float = 100_000.0
    volume_min: float = 0.01
    volume_step: float = 0.01
    volume_max: float = 200.0
    swap_long: float = -6.5
    swap_short: float = 1.2
    description: str = ""
    path: str = ""

    @property
    def point(self) -> float:
        return 10.0**-self.digits


def default_symbols() -> list[FakeSymbol]:
    """A small ECN-style account whose symbols carry the ``.m`` suffix."""
    return [
        FakeSymbol("EURUSD.m", "EUR", "USD", 5, 1.08500, (1, 12), swap_long=-6.9, swap_short=1.6),
        FakeSymbol("GBPUSD.m", "GBP", "USD", 5, 1.27000, (3, 18), swap_long=-4.2, swap_short=-0.8),
        FakeSymbol("USDJPY.m", "USD", "JPY", 3, 150.000, (2, 14), swap_long=14.1, swap_short=-28.3),
        FakeSymbol("AUDUSD.m", "AUD", "USD", 5, 0.65500, (3, 16), visible=False),
        FakeSymbol(
            "GOLD.m", "XAU", "USD", 2, 2030.00, (12, 40), visible=False,
            volatility=0.0015, trade_contract_size=100.0, swap_long=-45.0, swap_short=12.0,
        ),
    ]  # fmt: skip


@dataclass
class FakeBroker:
    """Configuration of the simulated broker, account and terminal."""

    symbols: list[FakeSymbol] = field(default_factory=default_symbols)
    seed: int = 20240306
    tick_rate: float = 0.5  # mean ticks per second while the market is open
    tie_probability: float = 0.08  # chance that a tick shares the previous one's millisecond
    one_sided_probability: float = 0.3  # chance that a tick moves only its bid or its ask
    zero_unchanged_side: bool = False  # report 0.0 for the side a tick did not change
    history_start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    maxbars: int = 100_000
    login: int = 51234567
    password: str = "demo-password"
    server: str = "FakeBroker-Demo"
    company: str = "Fake Broker Ltd"
    terminal_path: str = r"C:\Program Files\FakeBroker MetaTrader 5\terminal64.exe"
    build: int = 4755
    build_date: str = "24 Jan 2025"
    balance: float = 10_000.0
    currency: str = "USD"
    leverage: int = 100


def _market_open_hour(hour_index: int) -> bool:
    """Whether the UTC hour starting at ``hour_index`` hours after the epoch trades."""
    start = datetime.fromtimestamp(hour_index * 3600, UTC)
    weekday, hour = start.weekday(), start.hour  # Monday = 0
    return weekday <= 3 or (weekday == 4 and hour < 22) or (weekday == 6 and hour >= 22)


def _to_seconds(value: Any) -> int | None:
    """A date argument as the real module takes it: datetime or seconds since the epoch."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return math.floor(value.timestamp())
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return math.floor(value)
    return None


def _ffill_index(keep: np.ndarray) -> np.ndarray:
    """For each position, the index of the last position at or before it where keep is true."""
    index = np.where(keep, np.arange(len(keep)), 0)
    return np.maximum.accumulate(index) if len(index) else index


class FakeMetaTrader5:
    """The ``MetaTrader5`` module API over a simulated broker.

    An instance stands in for the module: ``install(fake)`` makes
    ``import MetaTrader5`` return it.
    """

    __author__ = "MetaQuotes Ltd."
    __version__ = "5.0.45"

    def __init__(
        self,
        broker: FakeBroker | None = None,
        *,
        now: datetime = datetime(2024, 3, 6, 12, 0, tzinfo=UTC),
    ) -> None:
        self.broker = broker or FakeBroker()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._now_msc = int(now.timestamp() * 1000)
        self._connected = False
        self._ipc_up = True
        self._fail_initialize: list[tuple[int, str]] = []
        self._last_error: tuple[int, str] = SUCCESS
        self._symbols = {s.name: s for s in self.broker.symbols}
        self._selected = {s.name: s.visible for s in self.broker.symbols}
        self._symbol_index = {s.name: i for i, s in enumerate(self.broker.symbols)}
        self._chunks: dict[tuple[str, int], np.ndarray] = {}
        self._extra: dict[str, np.ndarray] = {}
        self._history_start_msc = int(self.broker.history_start.timestamp() * 1000)

    # ------------------------------------------------------------------ controls

    @property
    def now(self) -> datetime:
        """The terminal's clock (UTC)."""
        return datetime.fromtimestamp(self._now_msc / 1000, UTC)

    @property
    def now_msc(self) -> int:
        return self._now_msc

    def advance(self, seconds: float) -> None:
        """Move the clock forward; the ticks in between come into existence."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now_msc += round(seconds * 1000)

    def set_time(self, when: datetime) -> None:
        self._now_msc = int(when.timestamp() * 1000)

    def disconnect(self) -> None:
        """Drop the IPC link: calls fail with ``-10004`` until ``initialize`` succeeds."""
        self._connected = False

    def fail_next_initialize(self, n: int = 1, error: tuple[int, str] = IPC_TIMEOUT) -> None:
        """Make the next ``n`` calls of ``initialize`` fail with ``error``."""
        self._fail_initialize.extend([error] * n)

    @property
    def connected(self) -> bool:
        return self._connected

    def add_ticks(self, symbol: str, ticks: Sequence[tuple[int, float, float]]) -> None:
        """Add ticks ``(time_msc, bid, ask)`` to a symbol's history.

        They are stored after any existing tick of the same millisecond, as a
        tick arriving later would be. Ticks in the future appear when the clock
        reaches them.
        """
        rows = np.zeros(len(ticks), TICK_DTYPE)
        for i, (time_msc, bid, ask) in enumerate(ticks):
            rows[i] = (
                time_msc // 1000,
                bid,
                ask,
                0.0,
                0,
                time_msc,
                TICK_FLAG_BID | TICK_FLAG_ASK,
                0.0,
            )
        merged = np.concatenate([self._extra.get(symbol, np.zeros(0, TICK_DTYPE)), rows])
        self._extra[symbol] = merged[np.argsort(merged["time_msc"], kind="stable")]

    def reset_calls(self) -> None:
        self.calls.clear()

    def call_names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    # ------------------------------------------------------------------ plumbing

    def _log(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.calls.append((name, args, kwargs))

    def _fail(self, error: tuple[int, str], value: Any = None) -> Any:
        self._last_error = error
        return value

    def _ok(self, value: Any) -> Any:
        self._last_error = SUCCESS
        return value

    def _attached(self) -> bool:
        if not self._connected:
            self._last_error = NO_IPC
            return False
        return True

    def _tradable(self, symbol: Any) -> FakeSymbol | None:
        """The symbol if it exists and is selected; otherwise sets the error."""
        if not isinstance(symbol, str):
            return self._fail(INVALID_ARGUMENTS)
        spec = self._symbols.get(symbol)
        if spec is None or not self._selected[symbol]:
            # The terminal refuses history requests for symbols outside Market Watch.
            return self._fail(TERMINAL_INVALID_PARAMS)
        return spec

    # ------------------------------------------------------------------ tick generation

    def _anchor(self, spec: FakeSymbol, hour_index: int) -> float:
        """The deterministic mid price at the start of an hour."""
        phase = (zlib.crc32(spec.name.encode()) % 1000) / 1000 * 2 * math.pi
        slow = math.sin(2 * math.pi * hour_index / 500 + phase)
        fast = math.sin(2 * math.pi * hour_index / 37 + 2 * phase)
        rng = np.random.default_rng(
            [self.broker.seed, self._symbol_index[spec.name], hour_index, 7]
        )
        noise = rng.standard_normal()
        relative = (
            12 * spec.volatility * slow + 3 * spec.volatility * fast + spec.volatility * noise
        )
        return spec.price * math.exp(relative)

    def _hour_ticks(self, spec: FakeSymbol, hour_index: int) -> np.ndarray:
        key = (spec.name, hour_index)
        cached = self._chunks.get(key)
        if cached is not None:
            return cached
        ticks = self._generate_hour(spec, hour_index)
        self._chunks[key] = ticks
        return ticks

    def _generate_hour(self, spec: FakeSymbol, hour_index: int) -> np.ndarray:
        if not _market_open_hour(hour_index) or (hour_index + 1) * MS_PER_HOUR <= (
            self._history_start_msc
        ):
            return np.zeros(0, TICK_DTYPE)
        broker = self.broker
        rng = np.random.default_rng([broker.seed, self._symbol_index[spec.name], hour_index])
        n = int(rng.poisson(broker.tick_rate * 3600))
        if n == 0:
            return np.zeros(0, TICK_DTYPE)
        offsets = np.sort(rng.integers(0, MS_PER_HOUR, n))
        tie = rng.random(n) < broker.tie_probability
        tie[0] = False
        offsets = offsets[_ffill_index(~tie)]

        start, end = self._anchor(spec, hour_index), self._anchor(spec, hour_index + 1)
        fraction = offsets / MS_PER_HOUR
        step = spec.volatility * spec.price / math.sqrt(n)
        walk = np.cumsum(rng.standard_normal(n)) * step
        mid = start + (end - start) * fraction + (walk - fraction * walk[-1])

        point = spec.point
        low, high = spec.spread_points
        spread = rng.integers(low, high + 1, n)
        bid = np.round(mid - spread * point / 2, spec.digits)
        ask = np.round(bid + spread * point, spec.digits)
        side = rng.random(n)
        ask_only = side < broker.one_sided_probability / 2
        bid_only = (side >= broker.one_sided_probability / 2) & (
            side < broker.one_sided_probability
        )
        ask_only[0] = bid_only[0] = False
        bid = bid[_ffill_index(~ask_only)]
        ask = ask[_ffill_index(~bid_only)]
        ask = np.maximum(ask, np.round(bid + low * point, spec.digits))

        flags = np.full(n, TICK_FLAG_BID | TICK_FLAG_ASK, np.uint32)
        changed_bid = np.ones(n, bool)
        changed_ask = np.ones(n, bool)
        changed_bid[1:] = bid[1:] != bid[:-1]
        changed_ask[1:] = ask[1:] != ask[:-1]
        flags = (changed_bid * TICK_FLAG_BID + changed_ask * TICK_FLAG_ASK).astype(np.uint32)
        keep = flags != 0  # a quote that changes nothing is not a tick

        time_msc = hour_index * MS_PER_HOUR + offsets
        ticks = np.zeros(int(keep.sum()), TICK_DTYPE)
        ticks["time_msc"] = time_msc[keep]
        ticks["time"] = ticks["time_msc"] // 1000
        ticks["bid"] = bid[keep]
        ticks["ask"] = ask[keep]
        ticks["flags"] = flags[keep]
        if broker.zero_unchanged_side:
            ticks["bid"][(ticks["flags"] & TICK_FLAG_BID) == 0] = 0.0
            ticks["ask"][(ticks["flags"] & TICK_FLAG_ASK) == 0] = 0.0
        ticks = ticks[ticks["time_msc"] >= self._history_start_msc]
        return ticks

    def _ticks_between(self, spec: FakeSymbol, from_msc: int, to_msc: int) -> np.ndarray:
        """Every tick with ``from_msc <= time_msc <= to_msc`` that exists by now."""
        to_msc = min(to_msc, self._now_msc)
        from_msc = max(from_msc, self._history_start_msc)
        if to_msc < from_msc:
            return np.zeros(0, TICK_DTYPE)
        parts = [
            self._hour_ticks(spec, h)
            for h in range(from_msc // MS_PER_HOUR, to_msc // MS_PER_HOUR + 1)
        ]
        ticks = np.concatenate(parts) if parts else np.zeros(0, TICK_DTYPE)
        extra = self._extra.get(spec.name)
        if extra is not None and len(extra):
            ticks = np.concatenate([ticks, extra])
            ticks = ticks[np.argsort(ticks["time_msc"], kind="stable")]
        lo = np.searchsorted(ticks["time_msc"], from_msc, "left")
        hi = np.searchsorted(ticks["time_msc"], to_msc, "right")
        return ticks[lo:hi]

    def _ticks_from(
        self, spec: FakeSymbol, from_msc: int, count: int, flags: int = COPY_TICKS_ALL
    ) -> np.ndarray:
        """The first ``count`` ticks of kind ``flags`` with ``time_msc >= from_msc``."""
        collected: list[np.ndarray] = []
        total = 0
        start = max(from_msc, self._history_start_msc)
        while total < count and start <= self._now_msc:
            stop = min(self._now_msc, (start // MS_PER_HOUR + 24) * MS_PER_HOUR - 1)
            part = self._filter_flags(self._ticks_between(spec, start, stop), flags)
            collected.append(part)
            total += len(part)
            start = stop + 1
        ticks = np.concatenate(collected) if collected else np.zeros(0, TICK_DTYPE)
        return ticks[:count]

    def _last_tick(self, spec: FakeSymbol) -> np.void | None:
        hour = self._now_msc // MS_PER_HOUR
        lowest = max(self._history_start_msc // MS_PER_HOUR, hour - 24 * 14)
        while hour >= lowest:
            ticks = self._ticks_between(spec, hour * MS_PER_HOUR, (hour + 1) * MS_PER_HOUR - 1)
            if len(ticks):
                return ticks[-1]
            hour -= 1
        return None

    # ------------------------------------------------------------------ bars

    @staticmethod
    def _bar_open(times: np.ndarray, timeframe: int) -> np.ndarray:
        if timeframe == TIMEFRAME_MN1:
            months = times.astype("datetime64[s]").astype("datetime64[M]")
            return months.astype("datetime64[s]").astype(np.int64)
        if timeframe == TIMEFRAME_W1:
            return (times - SUNDAY_OFFSET_S) // SECONDS_PER_WEEK * SECONDS_PER_WEEK + (
                SUNDAY_OFFSET_S
            )
        seconds = _TIMEFRAME_SECONDS[timeframe]
        return times // seconds * seconds

    def _bars(self, spec: FakeSymbol, timeframe: int, from_s: int, to_s: int) -> np.ndarray:
        """Bars opened in ``[from_s, to_s]``, aggregated from the ticks (bid prices)."""
        if timeframe == TIMEFRAME_MN1:
            span_end = to_s + 32 * 86_400
        else:
            span_end = to_s + _TIMEFRAME_SECONDS[timeframe]
        ticks = self._ticks_between(spec, from_s * 1000, span_end * 1000 - 1)
        # Aggregate bid-changing quotes; every tick counts in the tick volume.
        bid = ticks["bid"].copy()
        if self.broker.zero_unchanged_side and len(bid):
            bid = bid[_ffill_index(bid > 0)]
        opens = self._bar_open(ticks["time"], timeframe)
        keep = (opens >= from_s) & (opens <= to_s)
        ticks, bid, opens = ticks[keep], bid[keep], opens[keep]
        if not len(ticks):
            return np.zeros(0, RATES_DTYPE)
        spread = np.round((ticks["ask"] - ticks["bid"]) / spec.point).astype(np.int64)
        if self.broker.zero_unchanged_side:
            ask = ticks["ask"][_ffill_index(ticks["ask"] > 0)]
            spread = np.round((ask - bid) / spec.point).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
        ends = np.r_[starts[1:], len(ticks)] - 1
        bars = np.zeros(len(starts), RATES_DTYPE)
        bars["time"] = opens[starts]
        bars["open"] = bid[starts]
        bars["high"] = np.maximum.reduceat(bid, starts)
        bars["low"] = np.minimum.reduceat(bid, starts)
        bars["close"] = bid[ends]
        bars["tick_volume"] = ends - starts + 1
        bars["spread"] = np.minimum.reduceat(spread, starts)
        return bars

    def _bars_back(self, spec: FakeSymbol, timeframe: int, until_s: int, count: int) -> np.ndarray:
        """The last ``count`` bars opened at or before ``until_s``."""
        history_start_s = self._history_start_msc // 1000
        tf_seconds = _TIMEFRAME_SECONDS[timeframe]
        window = max(count, 1) * tf_seconds + 3 * 86_400
        while True:
            from_s = max(history_start_s, until_s - window)
            bars = self._bars(spec, timeframe, from_s, until_s)
            if len(bars) >= count or from_s <= history_start_s:
                return bars[-count:] if count else bars[:0]
            window *= 2

    # ------------------------------------------------------------------ connection API

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool:
        kwargs = {"login": login, "password": password, "server": server, "timeout": timeout}
        self._log("initialize", (path,), {k: v for k, v in kwargs.items() if v is not None})
        if self._fail_initialize:
            self._connected = False
            return self._fail(self._fail_initialize.pop(0), False)
        if login is not None and (isinstance(login, bool) or not isinstance(login, int)):
            return self._fail(TERMINAL_INVALID_PARAMS, False)
        if login is None and (password is not None or server is not None):
            return self._fail(INVALID_PARAMS, False)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
            return self._fail(INVALID_PARAMS, False)
        if path is not None and path != self.broker.terminal_path:
            return self._fail(IPC_INIT_FAILED, False)
        if login is not None and (
            login != self.broker.login
            or (password is not None and password != self.broker.password)
            or (server is not None and server != self.broker.server)
        ):
            self._connected = False
            return self._fail(AUTH_FAILED, False)
        self._connected = True
        return self._ok(True)

    def login(
        self,
        login: int,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        self._log("login", (login,), {"server": server, "timeout": timeout})
        if not self._attached():
            return False
        if isinstance(login, bool) or not isinstance(login, int):
            return self._fail(TERMINAL_INVALID_PARAMS, False)
        if login != self.broker.login or (
            password is not None and password != self.broker.password
        ):
            return self._fail(AUTH_FAILED, False)
        return self._ok(True)

    def shutdown(self) -> None:
        self._log("shutdown", (), {})
        self._connected = False
        return None

    def last_error(self) -> tuple[int, str]:
        return self._last_error

    def version(self) -> tuple[int, int, str] | None:
        self._log("version", (), {})
        if not self._attached():
            return None
        return self._ok((500, self.broker.build, self.broker.build_date))

    def terminal_info(self) -> Any:
        self._log("terminal_info", (), {})
        if not self._attached():
            return None
        b = self.broker
        folder = b.terminal_path.rsplit("\\", 1)[0]
        return self._ok(
            TerminalInfo(
                community_account=False, community_connection=False, connected=True,
                dlls_allowed=False, trade_allowed=True, tradeapi_disabled=False,
                email_enabled=False, ftp_enabled=False, notifications_enabled=False, mqid=False,
                build=b.build, maxbars=b.maxbars, codepage=0, ping_last=41_250,
                community_balance=0.0, retransmission=0.0, company=b.company,
                name="MetaTrader 5", language="English", path=folder, data_path=folder,
                commondata_path=r"C:\Users\trader\AppData\Roaming\MetaQuotes\Terminal\Common",
            )
        )  # fmt: skip

    def account_info(self) -> Any:
        self._log("account_info", (), {})
        if not self._attached():
            return None
        b = self.broker
        return self._ok(
            AccountInfo(
                login=b.login, trade_mode=ACCOUNT_TRADE_MODE_DEMO, leverage=b.leverage,
                limit_orders=200, margin_so_mode=ACCOUNT_STOPOUT_MODE_PERCENT,
                trade_allowed=True, trade_expert=True,
                margin_mode=ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, currency_digits=2,
                fifo_close=False, balance=b.balance, credit=0.0, profit=0.0, equity=b.balance,
                margin=0.0, margin_free=b.balance, margin_level=0.0, margin_so_call=50.0,
                margin_so_so=30.0, margin_initial=0.0, margin_maintenance=0.0, assets=0.0,
                liabilities=0.0, commission_blocked=0.0, name="Fake Trader", server=b.server,
                currency=b.currency, company=b.company,
            )
        )  # fmt: skip

    # ------------------------------------------------------------------ symbols API

    def _symbol_info(self, spec: FakeSymbol) -> Any:
        last = self._last_tick(spec) if self._selected[spec.name] else None
        bid = float(last["bid"]) if last is not None else 0.0
        ask = float(last["ask"]) if last is not None else 0.0
        point = spec.point
        values: dict[str, Any] = dict.fromkeys(SYMBOL_INFO_FIELDS, 0)
        for name in SYMBOL_INFO_FIELDS:
            if name.startswith(("price_", "session_", "margin_", "trade_", "option_strike")):
                values[name] = 0.0
        for name in ("basis", "category", "bank", "exchange", "formula", "isin", "page"):
            values[name] = ""
        values.update(
            custom=False, chart_mode=SYMBOL_CHART_MODE_BID, select=self._selected[spec.name],
            visible=self._selected[spec.name], time=int(last["time"]) if last is not None else 0,
            digits=spec.digits, spread=round((ask - bid) / point) if last is not None else 0,
            spread_float=True, ticks_bookdepth=10, trade_calc_mode=SYMBOL_CALC_MODE_FOREX,
            trade_mode=SYMBOL_TRADE_MODE_FULL, trade_exemode=SYMBOL_TRADE_EXECUTION_MARKET,
            swap_mode=SYMBOL_SWAP_MODE_POINTS, swap_rollover3days=3, margin_hedged_use_leg=False,
            expiration_mode=15, filling_mode=2, order_mode=127, bid=bid, bidhigh=bid, bidlow=bid,
            ask=ask, askhigh=ask, asklow=ask, last=0.0, lasthigh=0.0, lastlow=0.0,
            volume_real=0.0, volumehigh_real=0.0, volumelow_real=0.0, option_strike=0.0,
            point=point, trade_tick_value=1.0, trade_tick_value_profit=1.0,
            trade_tick_value_loss=1.0, trade_tick_size=point,
            trade_contract_size=spec.trade_contract_size, volume_min=spec.volume_min,
            volume_max=spec.volume_max, volume_step=spec.volume_step, volume_limit=0.0,
            swap_long=spec.swap_long, swap_short=spec.swap_short,
            margin_hedged=spec.trade_contract_size / 2, currency_base=spec.currency_base,
            currency_profit=spec.currency_profit, currency_margin=spec.currency_base,
            description=spec.description or f"{spec.currency_base} vs {spec.currency_profit}",
            name=spec.name, path=spec.path or f"Forex\\{spec.name}",
        )  # fmt: skip
        return SymbolInfo(**values)

    def symbols_total(self) -> int:
        self._log("symbols_total", (), {})
        if not self._attached():
            return 0
        return self._ok(len(self._symbols))

    def symbols_get(self, group: str | None = None) -> tuple[Any, ...] | None:
        self._log("symbols_get", (), {"group": group} if group is not None else {})
        if not self._attached():
            return None
        specs = list(self._symbols.values())
        if group is not None:
            patterns = [p.strip() for p in group.split(",") if p.strip()]
            include = [p for p in patterns if not p.startswith("!")]
            exclude = [p[1:] for p in patterns if p.startswith("!")]

            def matches(name: str, pats: list[str]) -> bool:
                return any(fnmatch.fnmatchcase(name.upper(), p.upper()) for p in pats)

            specs = [s for s in specs if matches(s.name, include) and not matches(s.name, exclude)]
        return self._ok(tuple(self._symbol_info(s) for s in specs))

    def symbol_info(self, symbol: str) -> Any:
        self._log("symbol_info", (symbol,), {})
        if not self._attached():
            return None
        spec = self._symbols.get(symbol) if isinstance(symbol, str) else None
        if spec is None:
            return self._fail(NOT_FOUND)
        return self._ok(self._symbol_info(spec))

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        self._log("symbol_select", (symbol, enable), {})
        if not self._attached():
            return False
        if not isinstance(symbol, str) or symbol not in self._symbols:
            return self._fail(NOT_FOUND, False)
        self._selected[symbol] = bool(enable)
        return self._ok(True)

    def symbol_info_tick(self, symbol: str) -> Any:
        self._log("symbol_info_tick", (symbol,), {})
        if not self._attached():
            return None
        spec = self._symbols.get(symbol) if isinstance(symbol, str) else None
        if spec is None:
            return self._fail(NOT_FOUND)
        if not self._selected[symbol]:
            return self._fail(CALL_FAILED)
        last = self._last_tick(spec)
        if last is None:
            return self._fail(CALL_FAILED)
        return self._ok(
            Tick(
                time=int(last["time"]), bid=float(last["bid"]), ask=float(last["ask"]),
                last=float(last["last"]), volume=int(last["volume"]),
                time_msc=int(last["time_msc"]), flags=int(last["flags"]),
                volume_real=float(last["volume_real"]),
            )
        )  # fmt: skip

    # ------------------------------------------------------------------ history API

    @staticmethod
    def _filter_flags(ticks: np.ndarray, flags: int) -> np.ndarray:
        if flags == COPY_TICKS_INFO:
            return ticks[(ticks["flags"] & (TICK_FLAG_BID | TICK_FLAG_ASK)) != 0]
        if flags == COPY_TICKS_TRADE:
            return ticks[(ticks["flags"] & (TICK_FLAG_LAST | TICK_FLAG_VOLUME)) != 0]
        return ticks

    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int) -> Any:
        self._log("copy_ticks_from", (symbol, date_from, count, flags), {})
        if not self._attached():
            return None
        spec = self._tradable(symbol)
        if spec is None:
            return None
        from_s = _to_seconds(date_from)
        if (
            from_s is None
            or isinstance(count, bool)
            or not isinstance(count, (int, np.integer))
            or count < 0
            or flags not in (COPY_TICKS_ALL, COPY_TICKS_INFO, COPY_TICKS_TRADE)
        ):
            return self._fail(INVALID_ARGUMENTS)
        return self._ok(self._ticks_from(spec, from_s * 1000, int(count), flags).copy())

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> Any:
        self._log("copy_ticks_range", (symbol, date_from, date_to, flags), {})
        if not self._attached():
            return None
        spec = self._tradable(symbol)
        if spec is None:
            return None
        from_s, to_s = _to_seconds(date_from), _to_seconds(date_to)
        if from_s is None or to_s is None:
            return self._fail(INVALID_ARGUMENTS)
        if flags not in (COPY_TICKS_ALL, COPY_TICKS_INFO, COPY_TICKS_TRADE):
            return self._fail(INVALID_ARGUMENTS)
        ticks = self._ticks_between(spec, from_s * 1000, to_s * 1000)
        return self._ok(self._filter_flags(ticks, flags).copy())

    def _check_timeframe(self, timeframe: Any) -> bool:
        return not isinstance(timeframe, bool) and timeframe in _TIMEFRAME_SECONDS

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any, date_to: Any) -> Any:
        self._log("copy_rates_range", (symbol, timeframe, date_from, date_to), {})
        if not self._attached():
            return None
        spec = self._tradable(symbol)
        if spec is None:
            return None
        from_s, to_s = _to_seconds(date_from), _to_seconds(date_to)
        if from_s is None or to_s is None or not self._check_timeframe(timeframe):
            return self._fail(INVALID_ARGUMENTS)
        # The terminal refuses (rather than truncates) a span of maxbars bars or more.
        if (to_s - from_s) // _TIMEFRAME_SECONDS[timeframe] >= self.broker.maxbars:
            return self._fail(TERMINAL_INVALID_PARAMS)
        if to_s < from_s:
            return self._ok(np.zeros(0, RATES_DTYPE))
        return self._ok(self._bars(spec, timeframe, from_s, min(to_s, self._now_msc // 1000)))

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> Any:
        self._log("copy_rates_from", (symbol, timeframe, date_from, count), {})
        if not self._attached():
            return None
        spec = self._tradable(symbol)
        if spec is None:
            return None
        from_s = _to_seconds(date_from)
        if from_s is None or not self._check_timeframe(timeframe) or count < 0:
            return self._fail(INVALID_ARGUMENTS)
        if count >= self.broker.maxbars:
            return self._fail(TERMINAL_INVALID_PARAMS)
        until = min(from_s, self._now_msc // 1000)
        return self._ok(self._bars_back(spec, timeframe, until, int(count)))

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        self._log("copy_rates_from_pos", (symbol, timeframe, start_pos, count), {})
        if not self._attached():
            return None
        spec = self._tradable(symbol)
        if spec is None:
            return None
        if not self._check_timeframe(timeframe) or start_pos < 0 or count < 0:
            return self._fail(INVALID_ARGUMENTS)
        if count >= self.broker.maxbars:
            return self._fail(TERMINAL_INVALID_PARAMS)
        if start_pos >= self.broker.maxbars:
            return self._fail(CALL_FAILED)
        bars = self._bars_back(spec, timeframe, self._now_msc // 1000, start_pos + count)
        if start_pos >= len(bars):
            return self._fail(CALL_FAILED)
        end = len(bars) - start_pos
        return self._ok(bars[max(0, end - count) : end])


for _name, _value in CONSTANTS.items():
    setattr(FakeMetaTrader5, _name, _value)


@contextlib.contextmanager
def install(fake: FakeMetaTrader5) -> Iterator[FakeMetaTrader5]:
    """Make ``import MetaTrader5`` return ``fake`` inside the block, then restore."""
    missing = object()
    previous = sys.modules.get("MetaTrader5", missing)
    sys.modules["MetaTrader5"] = fake  # type: ignore[assignment]
    try:
        yield fake
    finally:
        if previous is missing:
            sys.modules.pop("MetaTrader5", None)
        else:
            sys.modules["MetaTrader5"] = previous  # type: ignore[assignment]

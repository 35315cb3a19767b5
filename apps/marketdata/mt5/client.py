"""``MT5Client``: the adapter between our market data / broker code and MetaTrader 5.

Pure Python, no Django: it wraps the ``MetaTrader5`` package (a Windows-only C
extension that talks to a running terminal over IPC) and converts what it
returns into our columnar batches (:mod:`apps.marketdata.batches`).

Facts about the real package this adapter relies on
---------------------------------------------------
* Every function returns ``None`` (``False`` for the boolean ones) on failure
  and leaves ``(code, message)`` in ``last_error()``. Codes ``-10000`` to
  ``-10005`` (``RES_E_INTERNAL_FAIL*``) are IPC failures: the terminal is gone,
  hung or not attached in this process (``(-10004, 'No IPC connection')``,
  ``(-10005, 'IPC timeout')``); they are cured by ``shutdown()`` +
  ``initialize()``, which is what :meth:`MT5Client.ensure_connected` does with
  capped, jittered exponential backoff.
* History functions take dates as ``datetime`` or **int seconds** since the
  epoch (the adapter always passes ints: no time zone ambiguity), so a request
  starts at a whole second, while ticks carry ``time_msc``; several ticks may
  share one millisecond. Tick arrays have the dtype
  ``time <i8, bid <f8, ask <f8, last <f8, volume <u8, time_msc <i8, flags <u4,
  volume_real <f8``; bar arrays ``time <i8, open/high/low/close <f8,
  tick_volume <u8, spread <i4 (points), real_volume <u8``.
* A tick's ``flags`` say which fields changed (``TICK_FLAG_BID``/``ASK``...);
  the fields it did not change hold the previous values.
* ``copy_rates_range`` refuses, with ``(-2, 'Terminal: Invalid params')``, a
  range spanning ``maxbars`` ("Max. bars in chart") bars of the timeframe or
  more, even if most of those bars do not exist (weekends): ranges are paged.
* History requests need the symbol in Market Watch (``symbol_select``).

Incremental tick polling (cursor design)
----------------------------------------
:meth:`MT5Client.ticks_since` takes and returns a cursor: the epoch
millisecond of the last tick delivered. The returned cursor is a
:class:`TickCursor`, an ``int`` subclass (so it can be stored as a plain
integer) that also carries ``seen``: how many ticks *at exactly that
millisecond* have been delivered.

Each poll re-reads from the start of the cursor's second
(``copy_ticks_from(symbol, cursor // 1000, ...)``; requests have one-second
resolution and are inclusive), then drops every tick with ``time_msc <
cursor`` and the first ``seen`` ticks with ``time_msc == cursor``. Because MT5
appends ticks in arrival order, a tick that arrives later at an
already-delivered millisecond is delivered by the next poll, exactly once.
A plain ``int`` cursor (e.g. restored from the database) means "every tick
at or before this millisecond has been delivered" (``seen`` = all).

That plain-int meaning is kept true by every returned cursor: a batch never
ends inside a millisecond. When a read is cut short (``max_ticks``, or the
``count`` passed to ``copy_ticks_from``), the ticks of the last, possibly
incomplete, millisecond are held back for the next poll; if that millisecond
is all the batch would have, it is delivered whole (reading further if
needed), exceeding ``max_ticks``. So ``seen`` only matters for a tick that
reaches the terminal *after* a poll, at the millisecond of that poll's last
tick: kept in memory, the cursor delivers it; an ``int``-only restart in that
window would skip it.
"""

from __future__ import annotations

import importlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from apps.marketdata.batches import BarBatch, RowError, TickBatch

__all__ = [
    "DEFAULT_SUFFIXES",
    "TIMEFRAME_SECONDS",
    "LastTick",
    "MT5CallError",
    "MT5Client",
    "MT5ConnectionError",
    "MT5Error",
    "MT5SymbolNotFound",
    "MT5Unavailable",
    "TickCursor",
]

logger = logging.getLogger(__name__)

#: Suffixes (and prefixes, see ``prefixes``) brokers add to symbol names.
DEFAULT_SUFFIXES: tuple[str, ...] = (
    ".m", "m", ".pro", "pro", ".r", "r", ".ecn", "ecn", "_i", ".i", "i", ".a", "a", ".b",
    ".c", "c", ".e", "e", ".x", ".raw", "raw", ".std", ".stp", ".z", "-z", ".s", "+", "#",
    ".", "_", "-",
)  # fmt: skip
DEFAULT_PREFIXES: tuple[str, ...] = ("", "#", "_", ".")

#: Length of a bar in seconds (MN1: the longest month, used only to size pages).
TIMEFRAME_SECONDS: dict[str, int] = {
    "M1": 60, "M2": 120, "M3": 180, "M4": 240, "M5": 300, "M6": 360, "M10": 600,
    "M12": 720, "M15": 900, "M20": 1200, "M30": 1800, "H1": 3600, "H2": 7200,
    "H3": 10800, "H4": 14400, "H6": 21600, "H8": 28800, "H12": 43200, "D1": 86400,
    "W1": 604800, "MN1": 31 * 86400,
}  # fmt: skip

RES_S_OK = 1
RES_E_INVALID_PARAMS = -2
RES_E_AUTH_FAILED = -6
#: IPC failures (RES_E_INTERNAL_FAIL .. RES_E_INTERNAL_FAIL_TIMEOUT): reconnect and retry.
IPC_ERRORS = frozenset(range(-10005, -9999))
#: Failures of ``initialize`` that another attempt cannot cure.
FATAL_CONNECT_ERRORS = frozenset({RES_E_INVALID_PARAMS})

_INSTALL_HINT = (
    "The MetaTrader5 package is not installed. It exists only for Windows: install the "
    "extra on the Windows host that runs the MetaTrader 5 terminal with "
    '`pip install -e ".[mt5]"` and run the MT5 worker there.'
)


# ------------------------------------------------------------------ errors


class MT5Error(Exception):
    """Base class; ``code``/``message`` are ``last_error()`` of the failed call."""

    def __init__(self, message: str, code: int | None = None, mt5_message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.mt5_message = mt5_message


class MT5Unavailable(MT5Error, ImportError):
    """The ``MetaTrader5`` package cannot be imported (not Windows, or not installed)."""


class MT5ConnectionError(MT5Error, ConnectionError):
    """The terminal could not be reached within the allowed attempts."""


class MT5SymbolNotFound(MT5Error, LookupError):
    """No broker symbol corresponds to ours."""


class MT5CallError(MT5Error):
    """A call failed for a reason other than the connection (bad parameters, no data...)."""


# ------------------------------------------------------------------ values


class TickCursor(int):
    """Epoch millisecond of the last delivered tick, plus how many ticks at it were seen.

    ``seen is None`` (any plain ``int``) means all ticks at that millisecond.
    """

    seen: int | None

    def __new__(cls, time_msc: int, seen: int | None = None) -> TickCursor:
        obj = super().__new__(cls, time_msc)
        obj.seen = seen
        return obj

    def __repr__(self) -> str:
        return f"TickCursor({int(self)}, seen={self.seen})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (TickCursor, (int(self), self.seen))


@dataclass(frozen=True, slots=True)
class LastTick:
    """The terminal's latest quote for a symbol."""

    symbol: str
    broker_symbol: str
    time_msc: int
    bid: float
    ask: float
    last: float
    volume_real: float
    flags: int

    @property
    def time_us(self) -> int:
        return self.time_msc * 1000

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_msc / 1000, UTC)


def _seconds(when: datetime) -> int:
    """A datetime as whole epoch seconds (naive means UTC); floor."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() // 1)


def _ffill(values: np.ndarray, valid: np.ndarray, seed: float | None) -> np.ndarray:
    """Each invalid value replaced by the last valid one before it (or ``seed``, else NaN)."""
    index = np.where(valid, np.arange(len(values)), -1)
    index = np.maximum.accumulate(index) if len(index) else index
    filled = np.where(index >= 0, values[np.maximum(index, 0)], np.nan if seed is None else seed)
    return filled.astype(np.float64)


# ------------------------------------------------------------------ client


class MT5Client:
    """Connection, symbol mapping and history reads against one MetaTrader 5 terminal.

    The ``MetaTrader5`` package keeps one IPC channel per process: use one
    client per process (calls are serialised by a lock).
    """

    def __init__(
        self,
        terminal_path: str | None = None,
        login: int | str | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout_ms: int = 10_000,
        symbol_map: Mapping[str, str] | None = None,
        suffixes: Iterable[str] = DEFAULT_SUFFIXES,
        *,
        prefixes: Iterable[str] = DEFAULT_PREFIXES,
        module: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        max_backoff: float = 30.0,
        backoff_base: float = 0.5,
        connect_attempts: int = 6,
        call_retries: int = 2,
        tick_flags: str = "INFO",
        rates_page_bars: int = 50_000,
        rng: random.Random | None = None,
    ) -> None:
        """
        ``login`` must be the account number (an int; the terminal rejects a
        string). ``password``/``server`` are only valid with ``login``. With no
        credentials the terminal's current account is used. ``symbol_map``
        maps our symbols to broker names (``{"XAUUSD": "GOLD.m"}``) and wins over
        the suffix search. ``tick_flags`` is the ``COPY_TICKS_*`` kind polled
        (``INFO``: bid/ask changes, right for FX). ``sleep``, ``rng`` and
        ``max_backoff`` exist for tests.
        """
        if login is not None:
            login = int(login)
        elif password is not None or server is not None:
            raise ValueError("MT5 password/server need a login (the terminal rejects them alone)")
        if tick_flags not in ("ALL", "INFO", "TRADE"):
            raise ValueError("tick_flags is ALL, INFO or TRADE")
        self.terminal_path = terminal_path
        self.login = login
        self._password = password
        self.server = server
        self.timeout_ms = int(timeout_ms)
        self.symbol_map = {k.upper(): v for k, v in (symbol_map or {}).items()}
        self.suffixes = tuple(suffixes)
        self.prefixes = tuple(prefixes) or ("",)
        self._module = module
        self._sleep = sleep
        self.max_backoff = float(max_backoff)
        self.backoff_base = float(backoff_base)
        self.connect_attempts = max(1, int(connect_attempts))
        self.call_retries = max(0, int(call_retries))
        self.tick_flags = tick_flags
        self.rates_page_bars = max(1, int(rates_page_bars))
        self._rng = rng or random.Random()
        self._lock = threading.RLock()
        self._connected = False
        self._maxbars: int | None = None
        self._resolved: dict[str, str] = {}
        self._selected: set[str] = set()
        self._points: dict[str, tuple[int, float]] = {}
        self._carry: dict[str, tuple[float | None, float | None]] = {}
        self.last_connect_error: tuple[int, str] | None = None
        #: Successful ``initialize`` calls: a rise after the first is a reconnect.
        self.connects = 0

    # ---------------------------------------------------------------- module

    @property
    def mt5(self) -> Any:
        """The ``MetaTrader5`` module (imported on first use)."""
        if self._module is None:
            try:
                self._module = importlib.import_module("MetaTrader5")
            except ImportError as exc:
                raise MT5Unavailable(_INSTALL_HINT) from exc
        return self._module

    def _last_error(self) -> tuple[int, str]:
        try:
            code, message = self.mt5.last_error()
            return int(code), str(message)
        except Exception:  # noqa: BLE001 - a broken module must not hide the original failure
            return (-1, "last_error() unavailable")

    # ---------------------------------------------------------------- connection

    @property
    def connected(self) -> bool:
        return self._connected

    def connect(self) -> MT5Client:
        """Attach to the terminal (with retries, see :meth:`ensure_connected`); returns self."""
        self.ensure_connected()
        return self

    def close(self) -> None:
        """Detach from the terminal. Safe to call twice."""
        with self._lock:
            if self._module is not None:
                try:
                    self._module.shutdown()
                except Exception:  # noqa: BLE001
                    logger.debug("MT5 shutdown failed", exc_info=True)
            self._connected = False
            self._selected.clear()

    def __enter__(self) -> MT5Client:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): capped exponential, equal jitter."""
        cap = min(self.max_backoff, self.backoff_base * (2**attempt))
        return cap / 2 + self._rng.random() * cap / 2

    def ensure_connected(self) -> None:
        """Attach if not attached: ``initialize`` up to ``connect_attempts`` times with backoff.

        Raises :class:`MT5ConnectionError` carrying the last ``last_error()``.
        """
        with self._lock:
            if self._connected:
                return
            mt5 = self.mt5
            kwargs: dict[str, Any] = {"timeout": self.timeout_ms}
            if self.login is not None:
                kwargs["login"] = self.login
                if self._password is not None:
                    kwargs["password"] = self._password
                if self.server is not None:
                    kwargs["server"] = self.server
            args = (self.terminal_path,) if self.terminal_path else ()
            code, message = (-1, "not attempted")
            for attempt in range(self.connect_attempts):
                if attempt:
                    self._sleep(self.backoff_delay(attempt - 1))
                try:
                    mt5.shutdown()  # drop a dead channel before a new one
                except Exception:  # noqa: BLE001
                    pass
                if mt5.initialize(*args, **kwargs):
                    self._on_connected()
                    return
                code, message = self._last_error()
                self.last_connect_error = (code, message)
                logger.warning(
                    "MT5 initialize failed (attempt %d/%d): %s %s",
                    attempt + 1, self.connect_attempts, code, message,
                )  # fmt: skip
                if code in FATAL_CONNECT_ERRORS:
                    break
            raise MT5ConnectionError(
                f"cannot attach to the MetaTrader 5 terminal after {attempt + 1} attempt(s): "
                f"({code}, {message!r})",
                code,
                message,
            )

    def _on_connected(self) -> None:
        self._connected = True
        self.connects += 1
        self._selected.clear()  # a restarted terminal may have lost Market Watch
        for broker in sorted(set(self._resolved.values())):
            if self.mt5.symbol_select(broker, True):
                self._selected.add(broker)
        info = self.mt5.terminal_info()
        maxbars = getattr(info, "maxbars", None)
        self._maxbars = int(maxbars) if maxbars else None
        if self.login is not None:
            account = self.mt5.account_info()
            if account is not None and int(account.login) != self.login:
                logger.warning("MT5 terminal is on account %s, not %s", account.login, self.login)

    def _call(self, name: str, *args: Any, allow_none: bool = False) -> Any:
        """Call ``mt5.<name>``; reconnect and retry on IPC errors.

        A ``None``/``False`` result with another error raises
        :class:`MT5CallError`, or returns ``None`` if ``allow_none``. A
        ``None`` result with ``RES_S_OK`` returns ``None``.
        """
        with self._lock:
            for attempt in range(self.call_retries + 1):
                self.ensure_connected()
                result = getattr(self.mt5, name)(*args)
                if result is not None and result is not False:
                    return result
                code, message = self._last_error()
                if code in IPC_ERRORS:
                    self._connected = False
                    logger.warning("MT5 %s lost the terminal: %s %s", name, code, message)
                    if attempt < self.call_retries:
                        continue
                    raise MT5ConnectionError(f"{name} failed: ({code}, {message!r})", code, message)
                if allow_none or code == RES_S_OK:
                    return None
                raise MT5CallError(f"{name}{args!r} failed: ({code}, {message!r})", code, message)
            raise AssertionError("unreachable")

    # ---------------------------------------------------------------- symbols

    def resolve_symbol(self, symbol: str) -> str:
        """The broker's name for our ``symbol`` (selected in Market Watch), cached.

        Order: ``symbol_map``; the exact name; a broker symbol equal to a known
        prefix + ``symbol`` + a known suffix, visible ones first, then in the
        order of ``suffixes``. Raises :class:`MT5SymbolNotFound`.
        """
        key = symbol.upper()
        with self._lock:
            broker = self._resolved.get(key)
            if broker is None:
                broker = self._lookup(key)
                self._resolved[key] = broker
            if broker not in self._selected:
                if not self._call("symbol_select", broker, True, allow_none=True):
                    code, message = self._last_error()
                    raise MT5SymbolNotFound(
                        f"cannot select {broker!r} in Market Watch: ({code}, {message!r})",
                        code,
                        message,
                    )
                self._selected.add(broker)
            return broker

    def _lookup(self, key: str) -> str:
        mapped = self.symbol_map.get(key)
        if mapped is not None:
            if self._call("symbol_info", mapped, allow_none=True) is None:
                code, message = self._last_error()
                raise MT5SymbolNotFound(
                    f"mapped symbol {mapped!r} (for {key}) is not offered by this terminal",
                    code,
                    message,
                )
            return mapped
        if self._call("symbol_info", key, allow_none=True) is not None:
            return key
        infos = self._call("symbols_get", allow_none=True) or ()
        rank = {}
        for p, prefix in enumerate(self.prefixes):
            for s, suffix in enumerate(self.suffixes + ("",)):
                rank.setdefault(f"{prefix}{key}{suffix}".upper(), (p, s))
        candidates = [
            (not bool(info.visible), rank[info.name.upper()], info.name)
            for info in infos
            if info.name.upper() in rank
        ]
        if not candidates:
            raise MT5SymbolNotFound(f"no broker symbol for {key} (tried exact, map and suffixes)")
        return min(candidates)[2]

    def symbol_spec(self, symbol: str) -> dict[str, Any]:
        """Contract specification from ``symbol_info`` (not cached: swaps change)."""
        broker = self.resolve_symbol(symbol)
        info = self._call("symbol_info", broker)
        self._points[broker] = (int(info.digits), float(info.point))
        return {
            "symbol": symbol.upper(),
            "broker_symbol": broker,
            "description": info.description,
            "digits": int(info.digits),
            "point": float(info.point),
            "tick_size": float(info.trade_tick_size),
            "contract_size": float(info.trade_contract_size),
            "volume_min": float(info.volume_min),
            "volume_step": float(info.volume_step),
            "volume_max": float(info.volume_max),
            "swap_long": float(info.swap_long),
            "swap_short": float(info.swap_short),
            "swap_mode": int(info.swap_mode),
            "base_currency": info.currency_base,
            "quote_currency": info.currency_profit,
            "margin_currency": info.currency_margin,
        }

    def _point(self, broker: str) -> float:
        cached = self._points.get(broker)
        if cached is None:
            info = self._call("symbol_info", broker)
            cached = self._points[broker] = (int(info.digits), float(info.point))
        return cached[1]

    def last_tick(self, symbol: str) -> LastTick | None:
        """The latest quote, or ``None`` if the terminal has none."""
        broker = self.resolve_symbol(symbol)
        tick = self._call("symbol_info_tick", broker, allow_none=True)
        if tick is None:
            return None
        return LastTick(
            symbol=symbol.upper(),
            broker_symbol=broker,
            time_msc=int(tick.time_msc),
            bid=float(tick.bid),
            ask=float(tick.ask),
            last=float(tick.last),
            volume_real=float(tick.volume_real),
            flags=int(tick.flags),
        )

    # ---------------------------------------------------------------- ticks

    def _copy_flags(self) -> int:
        return int(getattr(self.mt5, f"COPY_TICKS_{self.tick_flags}"))

    def ticks_since(
        self,
        symbol: str,
        cursor_msc: int,
        *,
        until_msc: int | None = None,
        max_ticks: int = 100_000,
    ) -> tuple[TickBatch, int]:
        """Ticks after ``cursor_msc`` (see the module docstring), and the new cursor.

        At most ``max_ticks`` ticks (poll again for more), except that the
        ticks of one millisecond are never split; with ``until_msc`` only ticks
        at or before it. The batch's missing bid/ask sides are
        forward-filled; ticks with no known bid or ask are reported in
        ``batch.errors`` (reason ``missing_quote``). The returned cursor is a
        :class:`TickCursor` (the input cursor itself when nothing is new).
        """
        if max_ticks < 1:
            raise ValueError("max_ticks must be positive")
        broker = self.resolve_symbol(symbol)
        cursor = int(cursor_msc)
        seen = getattr(cursor_msc, "seen", None)
        from_s = max(cursor, 0) // 1000
        flags = self._copy_flags()
        count = max_ticks + 1024  # room for the already-delivered head of the second
        reselected = False
        while True:
            try:
                if until_msc is None:
                    raw = self._call("copy_ticks_from", broker, from_s, count, flags)
                else:
                    to_s = int(until_msc) // 1000 + 1
                    raw = self._call("copy_ticks_range", broker, from_s, to_s, flags)
            except MT5CallError as exc:
                if exc.code != RES_E_INVALID_PARAMS or reselected:
                    raise
                # Most likely the symbol left Market Watch (removed by hand): select it again.
                self._selected.discard(broker)
                broker, reselected = self.resolve_symbol(symbol), True
                continue
            raw = self._sorted(raw)
            full = until_msc is None and len(raw) >= count  # the read may stop mid-stream
            times = raw["time_msc"]
            at = int(np.searchsorted(times, cursor, "left"))
            tied = int(np.searchsorted(times, cursor, "right")) - at
            skip = tied if seen is None else min(int(seen), tied)
            first = at + skip
            last = len(raw)
            if until_msc is not None:
                last = int(np.searchsorted(times, int(until_msc), "right"))
            if last - first > max_ticks or (full and last == len(raw)):
                # Cut short: end on a complete millisecond, never inside one.
                limit = min(last, first + max_ticks)
                if limit <= first:
                    count *= 4  # everything read was already delivered: read further
                    continue
                edge = times[limit - 1]
                group_start = int(np.searchsorted(times, edge, "left"))
                group_end = int(np.searchsorted(times, edge, "right"))
                if group_start > first:
                    last = group_start  # the last millisecond waits for the next poll
                elif group_end < len(raw) or not full:
                    last = group_end  # one millisecond holds more than max_ticks: all of it
                else:
                    count *= 4  # that millisecond runs past what was read
                    continue
            break

        bid, ask, volume = self._quotes(broker, raw)
        if last <= first:
            return TickBatch.empty(), cursor_msc

        new_times = times[first:last]
        new_cursor_ms = int(new_times[-1])
        at_last = int(len(new_times) - np.searchsorted(new_times, new_cursor_ms, "left"))
        new_seen = at_last + (skip if new_cursor_ms == cursor else 0)
        batch = self._tick_batch(
            raw[first:last], bid[first:last], ask[first:last], volume[first:last]
        )
        self._carry[broker] = (
            self._finite(bid[last - 1]) or self._carry.get(broker, (None, None))[0],
            self._finite(ask[last - 1]) or self._carry.get(broker, (None, None))[1],
        )
        return batch, TickCursor(new_cursor_ms, new_seen)

    @staticmethod
    def _finite(value: float) -> float | None:
        return float(value) if np.isfinite(value) else None

    @staticmethod
    def _sorted(raw: Any) -> np.ndarray:
        if raw is None:
            return np.zeros(
                0, [("time_msc", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("flags", "<u4"),
                    ("volume", "<u8"), ("volume_real", "<f8")],
            )  # fmt: skip
        raw = np.asarray(raw)
        times = raw["time_msc"]
        if len(times) > 1 and np.any(times[1:] < times[:-1]):
            raw = raw[np.argsort(times, kind="stable")]
        return raw

    def _quotes(self, broker: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bid/ask forward-filled by flags, and volume (NaN where the tick has none).

        A side counts as quoted by a tick when its ``TICK_FLAG_BID``/``ASK`` bit is
        set and its price is positive; otherwise it takes the previous quote of
        that side (carried across polls), as the terminal's own feed does. Before
        any such quote, a positive value already in the tick is used.
        """
        mt5 = self.mt5
        flags = raw["flags"].astype(np.int64)
        carry_bid, carry_ask = self._carry.get(broker, (None, None))
        out = []
        for field, bit, seed in (
            ("bid", int(mt5.TICK_FLAG_BID), carry_bid),
            ("ask", int(mt5.TICK_FLAG_ASK), carry_ask),
        ):
            values = raw[field].astype(np.float64)
            positive = np.isfinite(values) & (values > 0)
            filled = _ffill(values, positive & ((flags & bit) != 0), seed)
            out.append(np.where(np.isnan(filled) & positive, values, filled))
        vol_bit = int(mt5.TICK_FLAG_VOLUME)
        real = raw["volume_real"].astype(np.float64)
        plain = raw["volume"].astype(np.float64)
        volume = np.where((flags & vol_bit) != 0, np.where(real > 0, real, plain), np.nan)
        return out[0], out[1], volume

    @staticmethod
    def _tick_batch(
        raw: np.ndarray, bid: np.ndarray, ask: np.ndarray, volume: np.ndarray
    ) -> TickBatch:
        time_us = raw["time_msc"].astype(np.int64) * 1000
        good = np.isfinite(bid) & np.isfinite(ask)
        errors = [
            RowError(
                line=None,
                raw=f"time_msc={int(raw['time_msc'][i])} bid={raw['bid'][i]} "
                f"ask={raw['ask'][i]} flags={int(raw['flags'][i])}",
                reason="missing_quote",
                message="tick without a known bid or ask",
            )
            for i in np.flatnonzero(~good)
        ]
        return TickBatch(
            time_us=time_us[good],
            bid=bid[good],
            ask=ask[good],
            volume=volume[good],
            errors=errors,
        )

    # ---------------------------------------------------------------- bars

    def rates_range(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> BarBatch:
        """Bars opened in ``[start, end]`` (naive datetimes are UTC), oldest first.

        Bid OHLC as the terminal builds them; ``volume`` is the tick volume,
        ``spread`` the bar's spread converted from points to price. The range is
        read in pages below the terminal's ``maxbars``; the last bar may still
        be forming.
        """
        tf = timeframe.upper()
        if tf not in TIMEFRAME_SECONDS:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        broker = self.resolve_symbol(symbol)
        point = self._point(broker)
        tf_const = int(getattr(self.mt5, f"TIMEFRAME_{tf}"))
        tf_seconds = TIMEFRAME_SECONDS[tf]
        start_s, end_s = _seconds(start), _seconds(end)
        page_bars = self.rates_page_bars
        if self._maxbars:
            page_bars = min(page_bars, self._maxbars - 1)
        pages: list[np.ndarray] = []
        page_start = start_s
        while page_start <= end_s:
            page_end = min(end_s, page_start + page_bars * tf_seconds - 1)
            try:
                rates = self._call("copy_rates_range", broker, tf_const, page_start, page_end)
            except MT5CallError as exc:
                if exc.code == RES_E_INVALID_PARAMS and page_bars > 1:
                    page_bars = max(1, page_bars // 2)  # maxbars lower than we know
                    continue
                raise
            if rates is not None and len(rates):
                pages.append(np.asarray(rates))
            page_start = page_end + 1
        return self._bar_batch(pages, start_s, end_s, point)

    @staticmethod
    def _bar_batch(pages: list[np.ndarray], start_s: int, end_s: int, point: float) -> BarBatch:
        if not pages:
            empty = np.empty(0)
            return BarBatch(
                time_us=np.empty(0, np.int64), open=empty, high=empty, low=empty,
                close=empty, volume=empty, spread=empty,
            )  # fmt: skip
        rates = np.concatenate(pages)
        times = rates["time"].astype(np.int64)
        order = np.argsort(times, kind="stable")
        rates, times = rates[order], times[order]
        keep = (times >= start_s) & (times <= end_s)
        keep[1:] &= times[1:] != times[:-1]  # pages do not overlap; be safe anyway
        rates, times = rates[keep], times[keep]
        return BarBatch(
            time_us=times * 1_000_000,
            open=rates["open"].astype(np.float64),
            high=rates["high"].astype(np.float64),
            low=rates["low"].astype(np.float64),
            close=rates["close"].astype(np.float64),
            volume=rates["tick_volume"].astype(np.float64),
            spread=rates["spread"].astype(np.float64) * point,
        )

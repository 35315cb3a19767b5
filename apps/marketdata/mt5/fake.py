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

Trading (``order_send``, ``order_check``, ``positions_*``, ``orders_*``,
``history_orders_*``, ``history_deals_*``, ``order_calc_*``): the request keys,
the ``OrderSendResult`` / ``OrderCheckResult`` / ``TradeRequest`` /
``TradeOrder`` / ``TradePosition`` / ``TradeDeal`` fields and the
``TRADE_*``/``ORDER_*``/``DEAL_*``/``POSITION_*`` values are the real ones
(package ``__init__.py`` and documented outputs; see the trading adapter's
report). The account (``FakeBroker``: balance, USD, leverage, ``margin_mode``
``"hedging"`` or ``"netting"``, ``commission_per_lot``) behaves so:

* market requests (``TRADE_ACTION_DEAL``) fill at the last tick (buy at the
  ask, sell at the bid); a non-zero ``price`` further than ``deviation``
  points from it is requoted (10004, ``"Requote"``, new bid/ask, nothing
  done); retcodes and ``comment`` strings as the server words them
  (``"Request executed"``, ``"No money"``, ``"Market closed"``...);
* checks (in this order; the server's own order is not documented): volume
  against ``volume_min/step/max`` (``INVALID_VOLUME``), filling policy
  against the symbol's ``filling_mode`` flags (``INVALID_FILL``; RETURN is
  allowed under Market execution), expiry, quotes (``PRICE_OFF``), the
  session (``MARKET_CLOSED`` outside the FX week, for every action;
  ``order_check`` ignores sessions, as live terminals do),
  pending prices and SL/TP against the market and ``stops_level``
  (``INVALID_PRICE`` / ``INVALID_STOPS``), free margin after the deal
  (``NO_MONEY``; margin = lots x contract / leverage in the base currency,
  converted at the current mid; no hedged-margin discount);
* pending orders (limit, stop, stop-limit; GTC, DAY, SPECIFIED,
  SPECIFIED_DAY), SL/TP of positions and expirations are processed tick by
  tick as the clock advances (lazily, before any call that reads the
  account), also while no terminal is attached: a resting limit fills at its
  price, a stop at the market (gaps fill worse), a stop-limit becomes a limit
  at ``stoplimit`` (same ticket), SL/TP close at the market with comment
  ``"[sl 1.08400]"`` / ``"[tp ...]"`` and reason ``SL``/``TP``;
* hedging: a position per deal (ticket = order ticket) unless ``position``
  names the one to close; ``TRADE_ACTION_CLOSE_BY``. Netting: one position
  per symbol, averaged, reduced (``DEAL_ENTRY_OUT``) or reversed
  (``DEAL_ENTRY_INOUT``, same identifier);
* comments: the server keeps ``comment_max_chars`` (31); with
  ``comment_arg_limit`` the binding refuses longer ones, ``None`` +
  ``(-2, 'Invalid "comment" argument')``, as reported for several builds;
  other arguments of the wrong type likewise (``Decimal`` volumes included);
* getters return tuples of named tuples, ``None`` + ``last_error()`` on
  failure; ``history_*_get`` take ``(date_from, date_to, group=)``,
  ``(ticket=)`` or ``(position=)`` (a deal ``ticket`` is the *order* ticket,
  as documented); the history starts with the deposit (``DEAL_TYPE_BALANCE``).

Test controls (not part of the real API): :meth:`~FakeMetaTrader5.disconnect`,
:meth:`~FakeMetaTrader5.fail_next_initialize`,
:meth:`~FakeMetaTrader5.advance` / :meth:`~FakeMetaTrader5.set_time` (the
terminal's clock: only ticks at or before it exist),
:meth:`~FakeMetaTrader5.add_ticks` (late ticks, e.g. one more at an already
polled millisecond), :attr:`~FakeMetaTrader5.calls`, and for trading
:meth:`~FakeMetaTrader5.requote_next`, :meth:`~FakeMetaTrader5.fail_after_send`
(the broker executes, the reply is lost), :meth:`~FakeMetaTrader5.partial_fill_next`,
:meth:`~FakeMetaTrader5.set_trade_server_connected`,
:attr:`~FakeMetaTrader5.orders_created` and
:attr:`~FakeMetaTrader5.order_send_count`.
"""

from __future__ import annotations

import contextlib
import copy
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
    "OrderCheckResult",
    "OrderSendResult",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
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
ACCOUNT_MARGIN_MODE_RETAIL_NETTING = 0
ACCOUNT_MARGIN_MODE_EXCHANGE = 1
ACCOUNT_MARGIN_MODE_RETAIL_HEDGING = 2
ACCOUNT_STOPOUT_MODE_PERCENT = 0

# Trading enumerations (ENUM_TRADE_REQUEST_ACTIONS, ENUM_ORDER_TYPE, ...): the
# values of the package's ``__init__.py`` (note TRADE_ACTION_CLOSE_BY = 10).
TRADE_ACTION_DEAL = 1
TRADE_ACTION_PENDING = 5
TRADE_ACTION_SLTP = 6
TRADE_ACTION_MODIFY = 7
TRADE_ACTION_REMOVE = 8
TRADE_ACTION_CLOSE_BY = 10

ORDER_TYPE_BUY = 0
ORDER_TYPE_SELL = 1
ORDER_TYPE_BUY_LIMIT = 2
ORDER_TYPE_SELL_LIMIT = 3
ORDER_TYPE_BUY_STOP = 4
ORDER_TYPE_SELL_STOP = 5
ORDER_TYPE_BUY_STOP_LIMIT = 6
ORDER_TYPE_SELL_STOP_LIMIT = 7
ORDER_TYPE_CLOSE_BY = 8

ORDER_STATE_STARTED = 0
ORDER_STATE_PLACED = 1
ORDER_STATE_CANCELED = 2
ORDER_STATE_PARTIAL = 3
ORDER_STATE_FILLED = 4
ORDER_STATE_REJECTED = 5
ORDER_STATE_EXPIRED = 6
ORDER_STATE_REQUEST_ADD = 7
ORDER_STATE_REQUEST_MODIFY = 8
ORDER_STATE_REQUEST_CANCEL = 9

ORDER_FILLING_FOK = 0
ORDER_FILLING_IOC = 1
ORDER_FILLING_RETURN = 2
ORDER_FILLING_BOC = 3

ORDER_TIME_GTC = 0
ORDER_TIME_DAY = 1
ORDER_TIME_SPECIFIED = 2
ORDER_TIME_SPECIFIED_DAY = 3

ORDER_REASON_CLIENT = 0
ORDER_REASON_MOBILE = 1
ORDER_REASON_WEB = 2
ORDER_REASON_EXPERT = 3
ORDER_REASON_SL = 4
ORDER_REASON_TP = 5
ORDER_REASON_SO = 6

DEAL_TYPE_BUY = 0
DEAL_TYPE_SELL = 1
DEAL_TYPE_BALANCE = 2
DEAL_TYPE_CREDIT = 3
DEAL_TYPE_CHARGE = 4
DEAL_TYPE_CORRECTION = 5
DEAL_TYPE_BONUS = 6
DEAL_TYPE_COMMISSION = 7

DEAL_ENTRY_IN = 0
DEAL_ENTRY_OUT = 1
DEAL_ENTRY_INOUT = 2
DEAL_ENTRY_OUT_BY = 3

DEAL_REASON_CLIENT = 0
DEAL_REASON_MOBILE = 1
DEAL_REASON_WEB = 2
DEAL_REASON_EXPERT = 3
DEAL_REASON_SL = 4
DEAL_REASON_TP = 5
DEAL_REASON_SO = 6

POSITION_TYPE_BUY = 0
POSITION_TYPE_SELL = 1

POSITION_REASON_CLIENT = 0
POSITION_REASON_MOBILE = 1
POSITION_REASON_WEB = 2
POSITION_REASON_EXPERT = 3

TRADE_RETCODE_REQUOTE = 10004
TRADE_RETCODE_REJECT = 10006
TRADE_RETCODE_CANCEL = 10007
TRADE_RETCODE_PLACED = 10008
TRADE_RETCODE_DONE = 10009
TRADE_RETCODE_DONE_PARTIAL = 10010
TRADE_RETCODE_ERROR = 10011
TRADE_RETCODE_TIMEOUT = 10012
TRADE_RETCODE_INVALID = 10013
TRADE_RETCODE_INVALID_VOLUME = 10014
TRADE_RETCODE_INVALID_PRICE = 10015
TRADE_RETCODE_INVALID_STOPS = 10016
TRADE_RETCODE_TRADE_DISABLED = 10017
TRADE_RETCODE_MARKET_CLOSED = 10018
TRADE_RETCODE_NO_MONEY = 10019
TRADE_RETCODE_PRICE_CHANGED = 10020
TRADE_RETCODE_PRICE_OFF = 10021
TRADE_RETCODE_INVALID_EXPIRATION = 10022
TRADE_RETCODE_ORDER_CHANGED = 10023
TRADE_RETCODE_TOO_MANY_REQUESTS = 10024
TRADE_RETCODE_NO_CHANGES = 10025
TRADE_RETCODE_SERVER_DISABLES_AT = 10026
TRADE_RETCODE_CLIENT_DISABLES_AT = 10027
TRADE_RETCODE_LOCKED = 10028
TRADE_RETCODE_FROZEN = 10029
TRADE_RETCODE_INVALID_FILL = 10030
TRADE_RETCODE_CONNECTION = 10031
TRADE_RETCODE_ONLY_REAL = 10032
TRADE_RETCODE_LIMIT_ORDERS = 10033
TRADE_RETCODE_LIMIT_VOLUME = 10034
TRADE_RETCODE_INVALID_ORDER = 10035
TRADE_RETCODE_POSITION_CLOSED = 10036
TRADE_RETCODE_INVALID_CLOSE_VOLUME = 10038
TRADE_RETCODE_CLOSE_ORDER_EXIST = 10039
TRADE_RETCODE_LIMIT_POSITIONS = 10040
TRADE_RETCODE_REJECT_CANCEL = 10041
TRADE_RETCODE_LONG_ONLY = 10042
TRADE_RETCODE_SHORT_ONLY = 10043
TRADE_RETCODE_CLOSE_ONLY = 10044
TRADE_RETCODE_FIFO_CLOSE = 10045

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
    and name.startswith(
        (
            "TIMEFRAME_",
            "COPY_TICKS_",
            "TICK_FLAG_",
            "SYMBOL_",
            "ACCOUNT_",
            "RES_",
            "TRADE_",
            "ORDER_",
            "DEAL_",
            "POSITION_",
        )
    )  # fmt: skip
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

# The trading named tuples, fields in the order the real module prints them.
TradeRequest = namedtuple(
    "TradeRequest",
    "action magic order symbol volume price stoplimit sl tp deviation type type_filling "
    "type_time expiration comment position position_by",
)
OrderSendResult = namedtuple(
    "OrderSendResult",
    "retcode deal order volume price bid ask comment request_id retcode_external request",
)
OrderCheckResult = namedtuple(
    "OrderCheckResult",
    "retcode balance equity profit margin margin_free margin_level comment request",
)
TradeOrder = namedtuple(
    "TradeOrder",
    "ticket time_setup time_setup_msc time_done time_done_msc time_expiration type type_time "
    "type_filling state magic position_id position_by_id reason volume_initial volume_current "
    "price_open sl tp price_current price_stoplimit symbol comment external_id",
)
TradePosition = namedtuple(
    "TradePosition",
    "ticket time time_msc time_update time_update_msc type magic identifier reason volume "
    "price_open sl tp price_current swap profit symbol comment external_id",
)
TradeDeal = namedtuple(
    "TradeDeal",
    "ticket order time time_msc type entry magic position_id reason volume price commission "
    "swap profit fee symbol comment external_id",
)

#: ``OrderSendResult.comment`` for each retcode, as the trade server words it.
RETCODE_COMMENTS: dict[int, str] = {
    TRADE_RETCODE_REQUOTE: "Requote",
    TRADE_RETCODE_REJECT: "Request rejected",
    TRADE_RETCODE_CANCEL: "Request canceled by trader",
    TRADE_RETCODE_PLACED: "Order placed",
    TRADE_RETCODE_DONE: "Request executed",
    TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    TRADE_RETCODE_ERROR: "Request processing error",
    TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
    TRADE_RETCODE_INVALID: "Invalid request",
    TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    TRADE_RETCODE_NO_MONEY: "No money",
    TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
    TRADE_RETCODE_PRICE_OFF: "Off quotes",
    TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    TRADE_RETCODE_NO_CHANGES: "No changes",
    TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    TRADE_RETCODE_CONNECTION: "No connection",
    TRADE_RETCODE_INVALID_ORDER: "Invalid order",
    TRADE_RETCODE_POSITION_CLOSED: "Position already closed",
    TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Invalid close volume",
}

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
    filling_mode: int = 2  # SYMBOL_FILLING_FOK (1) | SYMBOL_FILLING_IOC (2) flags
    expiration_mode: int = 15  # SYMBOL_EXPIRATION_GTC|DAY|SPECIFIED|SPECIFIED_DAY flags
    stops_level: int = 0  # minimal SL/TP/pending distance from the market, in points

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
    margin_mode: str = "hedging"  # or "netting" (one position per symbol)
    commission_per_lot: float = 0.0  # charged (negative) on every deal, per lot
    #: The trade server keeps at most this many characters of a comment.
    comment_max_chars: int = 31
    #: When set, the Python binding refuses longer comments before sending, with
    #: ``(-2, 'Invalid "comment" argument')``, as some terminal builds do (27 to 31).
    comment_arg_limit: int | None = None
    #: Trade and quote around the clock (tests that follow the real clock, which may
    #: stand on a weekend); off: the FX week, Sunday 22:00 to Friday 22:00 UTC.
    always_open: bool = False


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


# --------------------------------------------------------------------------
# The simulated trading terminal (orders, positions, deals, account).

_REQUEST_INT_FIELDS = frozenset(
    {"action", "magic", "order", "deviation", "type", "type_filling", "type_time", "position",
     "position_by"}
)  # fmt: skip
_REQUEST_FLOAT_FIELDS = frozenset({"volume", "price", "stoplimit", "sl", "tp"})
_SYMBOL_FILLING_FOK = 1
_SYMBOL_FILLING_IOC = 2
_BUY_ORDER_TYPES = frozenset(
    {ORDER_TYPE_BUY, ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_BUY_STOP, ORDER_TYPE_BUY_STOP_LIMIT}
)
_PENDING_TYPES = frozenset(range(ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT + 1))
_STOP_LIMIT_TYPES = frozenset({ORDER_TYPE_BUY_STOP_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT})
_DONE_RETCODES = frozenset({TRADE_RETCODE_DONE, TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE_PARTIAL})
_EPS = 1e-9


def _match_group(name: str, group: str | None) -> bool:
    """The terminal's ``group`` filter: comma-separated wildcards, ``!`` excludes."""
    if group is None:
        return True
    patterns = [p.strip() for p in group.split(",") if p.strip()]
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]

    def matches(pats: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name.upper(), p.upper()) for p in pats)

    return matches(include) and not matches(exclude)


def _bad_int(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, (int, np.integer))


@dataclass
class _Order:
    ticket: int
    symbol: str
    type: int
    volume_initial: float
    volume_current: float
    price_open: float
    price_stoplimit: float
    sl: float
    tp: float
    type_time: int
    type_filling: int
    expiration_s: int  # ORDER_TIME_EXPIRATION as reported (0: none)
    expire_msc: int | None  # when the order expires, None for GTC
    magic: int
    comment: str
    reason: int
    time_setup_msc: int
    state: int = ORDER_STATE_PLACED
    time_done_msc: int = 0
    position_id: int = 0
    position_by_id: int = 0
    price_current: float = 0.0


@dataclass
class _Position:
    ticket: int
    identifier: int
    symbol: str
    type: int
    volume: float
    price_open: float
    sl: float
    tp: float
    magic: int
    comment: str
    reason: int
    time_msc: int
    time_update_msc: int
    swap: float = 0.0


class _TradingTerminal:
    """Trading half of :class:`FakeMetaTrader5` (kept apart for readability).

    The broker side keeps running while the terminal is detached: pending
    orders, stop-loss/take-profit and expirations are processed, in tick
    order, for every tick up to the clock (lazily, before any call looks at
    the account), whether or not a terminal is attached.
    """

    broker: FakeBroker
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]
    _now_msc: int
    _connected: bool
    _symbols: dict[str, FakeSymbol]

    # Provided by FakeMetaTrader5.
    def _log(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None: ...
    def _fail(self, error: tuple[int, str], value: Any = None) -> Any: ...
    def _ok(self, value: Any) -> Any: ...
    def _attached(self) -> bool: ...
    def _last_tick(self, spec: FakeSymbol) -> np.void | None: ...
    def _ticks_between(self, spec: FakeSymbol, from_msc: int, to_msc: int) -> np.ndarray: ...

    def _init_trading(self) -> None:
        self._orders: dict[int, _Order] = {}  # active (pending) orders
        self._history_orders: list[_Order] = []
        self._positions: dict[int, _Position] = {}
        self._deals: list[Any] = []
        self._balance = 0.0
        self._next_order_ticket = 1_500_000_001
        self._next_deal_ticket = 1_300_000_001
        self._request_id = 0
        self._trade_msc = self._now_msc
        self._requotes = 0
        self._lost_replies: list[tuple[tuple[int, str], int | None]] = []
        self._partial_fills: list[float] = []
        self._trade_server_up = True
        self._checking = False
        self.orders_created = 0
        start_s = int(self.broker.history_start.timestamp())
        self._add_deal(
            order=0, deal_type=DEAL_TYPE_BALANCE, entry=DEAL_ENTRY_IN, position_id=0,
            volume=0.0, price=0.0, profit=self.broker.balance, commission=0.0,
            time_msc=start_s * 1000, reason=DEAL_REASON_CLIENT, symbol="", comment="Deposit",
            magic=0,
        )  # fmt: skip

    # ------------------------------------------------------------------ test controls

    def requote_next(self, n: int = 1) -> None:
        """The next ``n`` market requests (``TRADE_ACTION_DEAL``) are requoted."""
        self._requotes += n

    def fail_after_send(
        self, n: int = 1, error: tuple[int, str] = IPC_TIMEOUT, *, retcode: int | None = None
    ) -> None:
        """The next ``n`` ``order_send`` calls reach the broker and are processed, but the
        reply is lost: ``None`` with ``error`` in ``last_error()`` and the terminal detached
        (``initialize`` needed); with ``retcode`` (e.g. ``TRADE_RETCODE_TIMEOUT``) a result
        carrying that retcode instead, the request having been executed all the same."""
        self._lost_replies.extend([(error, retcode)] * n)

    def partial_fill_next(self, fraction: float = 0.5) -> None:
        """The next market request not ``FOK`` fills only ``fraction`` of its volume
        (``TRADE_RETCODE_DONE_PARTIAL``; the rest is cancelled)."""
        self._partial_fills.append(fraction)

    def set_trade_server_connected(self, up: bool) -> None:
        """Terminal attached, but its link to the trade server down: trade requests get
        ``TRADE_RETCODE_CONNECTION`` and are not executed."""
        self._trade_server_up = up

    @property
    def order_send_count(self) -> int:
        return sum(1 for name, _, _ in self.calls if name == "order_send")

    # ------------------------------------------------------------------ prices and money

    def _quote(self, spec: FakeSymbol) -> tuple[float, float] | None:
        last = self._last_tick(spec)
        if last is None:
            return None
        bid, ask = float(last["bid"]), float(last["ask"])
        if bid <= 0 or ask <= 0:  # zero_unchanged_side feeds: take the last quote of the side
            t = int(last["time_msc"])
            ticks = self._ticks_between(spec, t - 6 * MS_PER_HOUR, t)
            bids, asks = ticks["bid"][ticks["bid"] > 0], ticks["ask"][ticks["ask"] > 0]
            bid = float(bids[-1]) if bid <= 0 and len(bids) else bid
            ask = float(asks[-1]) if ask <= 0 and len(asks) else ask
            if bid <= 0 or ask <= 0:
                return None
        return bid, ask

    def _rate(self, currency: str) -> float:
        """Approximate value of one unit of ``currency`` in the account currency."""
        account = self.broker.currency
        if currency == account:
            return 1.0
        for spec in self._symbols.values():
            direct = spec.currency_base == currency and spec.currency_profit == account
            inverse = spec.currency_base == account and spec.currency_profit == currency
            if direct or inverse:
                quote = self._quote(spec)
                if quote is None:
                    continue
                mid = (quote[0] + quote[1]) / 2
                return mid if direct else 1.0 / mid
        return 1.0

    def _margin(self, spec: FakeSymbol, volume: float) -> float:
        """Forex margin: lots x contract / leverage, in the base currency, converted."""
        base = volume * spec.trade_contract_size / self.broker.leverage
        return base * self._rate(spec.currency_base)

    def _profit(
        self, spec: FakeSymbol, position_type: int, volume: float, price_open: float, price: float
    ) -> float:
        sign = 1.0 if position_type == POSITION_TYPE_BUY else -1.0
        raw = sign * (price - price_open) * volume * spec.trade_contract_size
        return round(raw * self._rate(spec.currency_profit), 2)

    def _position_price(self, position: _Position) -> float:
        quote = self._quote(self._symbols[position.symbol])
        if quote is None:
            return position.price_open
        return quote[0] if position.type == POSITION_TYPE_BUY else quote[1]

    def _account_state(self) -> dict[str, float]:
        profit = margin = 0.0
        for p in self._positions.values():
            spec = self._symbols[p.symbol]
            profit += self._profit(spec, p.type, p.volume, p.price_open, self._position_price(p))
            profit += p.swap
            margin += self._margin(spec, p.volume)
        equity = self._balance + profit
        return {
            "balance": round(self._balance, 2),
            "profit": round(profit, 2),
            "equity": round(equity, 2),
            "margin": round(margin, 2),
            "margin_free": round(equity - margin, 2),
            "margin_level": round(equity / margin * 100, 2) if margin else 0.0,
        }

    def _margin_used(self) -> float:
        return sum(
            self._margin(self._symbols[p.symbol], p.volume) for p in self._positions.values()
        )

    def _snapshot(self) -> tuple[Any, ...]:
        return copy.deepcopy(
            (self._orders, self._history_orders, self._positions, self._deals, self._balance,
             self._next_order_ticket, self._next_deal_ticket, self.orders_created)
        )  # fmt: skip

    def _restore(self, snap: tuple[Any, ...]) -> None:
        (self._orders, self._history_orders, self._positions, self._deals, self._balance,
         self._next_order_ticket, self._next_deal_ticket, self.orders_created) = snap  # fmt: skip

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _volume_ok(spec: FakeSymbol, volume: float) -> bool:
        if not math.isfinite(volume) or volume < spec.volume_min - _EPS:
            return False
        if volume > spec.volume_max + _EPS:
            return False
        steps = volume / spec.volume_step
        return abs(steps - round(steps)) < 1e-6

    @staticmethod
    def _filling_ok(spec: FakeSymbol, filling: int) -> bool:
        if filling == ORDER_FILLING_FOK:
            return bool(spec.filling_mode & _SYMBOL_FILLING_FOK)
        if filling == ORDER_FILLING_IOC:
            return bool(spec.filling_mode & _SYMBOL_FILLING_IOC)
        # RETURN: allowed with Market and Exchange execution whatever the flags.
        return filling == ORDER_FILLING_RETURN

    @staticmethod
    def _distance_ok(spec: FakeSymbol, distance: float) -> bool:
        eps = spec.point / 10
        return distance > eps and distance >= spec.stops_level * spec.point - eps

    def _stops_ok(self, spec: FakeSymbol, is_buy: bool, ref: float, sl: float, tp: float) -> bool:
        """SL/TP against ``ref``: the closing price (bid for a buy) or a pending order's price."""
        if sl < 0 or tp < 0:
            return False
        if is_buy:
            return (not sl or self._distance_ok(spec, ref - sl)) and (
                not tp or self._distance_ok(spec, tp - ref)
            )
        return (not sl or self._distance_ok(spec, sl - ref)) and (
            not tp or self._distance_ok(spec, ref - tp)
        )

    def _pending_price_ok(
        self, spec: FakeSymbol, order_type: int, price: float, stoplimit: float, bid: float,
        ask: float,
    ) -> bool:  # fmt: skip
        if price <= 0:
            return False
        if order_type == ORDER_TYPE_BUY_LIMIT:
            return self._distance_ok(spec, ask - price)
        if order_type == ORDER_TYPE_SELL_LIMIT:
            return self._distance_ok(spec, price - bid)
        if order_type in (ORDER_TYPE_BUY_STOP, ORDER_TYPE_BUY_STOP_LIMIT):
            ok = self._distance_ok(spec, price - ask)
            if order_type == ORDER_TYPE_BUY_STOP_LIMIT:
                ok = ok and stoplimit > 0 and self._distance_ok(spec, price - stoplimit)
            return ok
        ok = self._distance_ok(spec, bid - price)
        if order_type == ORDER_TYPE_SELL_STOP_LIMIT:
            ok = ok and stoplimit > 0 and self._distance_ok(spec, stoplimit - price)
        return ok

    def _expiry(self, type_time: int, expiration_s: int) -> tuple[int, int | None] | None:
        """``(ORDER_TIME_EXPIRATION, expiry msc)``; None if invalid."""
        now_s = self._now_msc // 1000
        if type_time == ORDER_TIME_GTC:
            return 0, None
        if type_time == ORDER_TIME_DAY:
            end = (now_s // 86_400 + 1) * 86_400
            return end, end * 1000
        if type_time == ORDER_TIME_SPECIFIED:
            return (expiration_s, expiration_s * 1000) if expiration_s > now_s else None
        if type_time == ORDER_TIME_SPECIFIED_DAY:
            end = (expiration_s // 86_400 + 1) * 86_400
            return (expiration_s, end * 1000) if end > now_s else None
        return None

    def _check_args(self, request: Any) -> dict[str, Any] | None:
        """The binding's own checks, before anything is sent: ``None`` and ``-2`` on failure.

        Also strict where the real module may be lenient: unknown keys are refused.
        """
        if not isinstance(request, dict):
            return self._fail(INVALID_ARGUMENTS)
        values: dict[str, Any] = dict.fromkeys(TradeRequest._fields, 0)
        values.update(dict.fromkeys(_REQUEST_FLOAT_FIELDS, 0.0), symbol="", comment="")
        for key, value in request.items():
            bad = (RES_E_INVALID_PARAMS, f'Invalid "{key}" argument')
            if key not in values:
                return self._fail(bad)
            if key == "expiration" and isinstance(value, datetime):
                value = _to_seconds(value)
            if key in _REQUEST_INT_FIELDS or key == "expiration":
                if _bad_int(value) or value < 0:
                    return self._fail(bad)
                value = int(value)
            elif key in _REQUEST_FLOAT_FIELDS:
                if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                    return self._fail(bad)
                value = float(value)
            elif not isinstance(value, str):
                return self._fail(bad)
            values[key] = value
        limit = self.broker.comment_arg_limit
        if limit is not None and len(values["comment"]) > limit:
            return self._fail((RES_E_INVALID_PARAMS, 'Invalid "comment" argument'))
        return values

    # ------------------------------------------------------------------ bookkeeping

    def _new_order(self, req: dict[str, Any], *, order_type: int, reason: int) -> _Order:
        order = _Order(
            ticket=self._next_order_ticket, symbol=req["symbol"], type=order_type,
            volume_initial=req["volume"], volume_current=req["volume"], price_open=req["price"],
            price_stoplimit=req["stoplimit"], sl=req["sl"], tp=req["tp"],
            type_time=req["type_time"], type_filling=req["type_filling"], expiration_s=0,
            expire_msc=None, magic=req["magic"],
            comment=req["comment"][: self.broker.comment_max_chars], reason=reason,
            time_setup_msc=self._now_msc,
        )  # fmt: skip
        self._next_order_ticket += 1
        return order

    def _add_deal(
        self, *, order: int, deal_type: int, entry: int, position_id: int, volume: float,
        price: float, profit: float, commission: float, time_msc: int, reason: int, symbol: str,
        comment: str, magic: int,
    ) -> int:  # fmt: skip
        ticket = self._next_deal_ticket
        self._next_deal_ticket += 1
        self._deals.append(
            TradeDeal(
                ticket=ticket, order=order, time=time_msc // 1000, time_msc=time_msc,
                type=deal_type, entry=entry, magic=magic, position_id=position_id, reason=reason,
                volume=volume, price=price, commission=commission, swap=0.0, profit=profit,
                fee=0.0, symbol=symbol, comment=comment, external_id="",
            )
        )  # fmt: skip
        self._balance = round(self._balance + profit + commission, 2)
        return ticket

    def _fill(
        self, order: _Order, volume: float, price: float, time_msc: int, *, position: int = 0,
        deal_reason: int = DEAL_REASON_EXPERT, comment: str | None = None,
    ) -> int:  # fmt: skip
        """Execute ``volume`` of ``order`` at ``price``: the deal and the position change.

        Hedging: a new position per deal, unless ``position`` names the one it closes.
        Netting: one position per symbol; an opposite deal reduces, closes or reverses it.
        """
        spec = self._symbols[order.symbol]
        is_buy = order.type in _BUY_ORDER_TYPES
        side = POSITION_TYPE_BUY if is_buy else POSITION_TYPE_SELL
        commission = round(-self.broker.commission_per_lot * volume, 2) + 0.0
        deal: dict[str, Any] = {
            "order": order.ticket, "deal_type": DEAL_TYPE_BUY if is_buy else DEAL_TYPE_SELL,
            "volume": volume, "price": price, "commission": commission, "time_msc": time_msc,
            "reason": deal_reason, "symbol": order.symbol, "magic": order.magic,
            "comment": order.comment if comment is None else comment,
        }  # fmt: skip
        if self.broker.margin_mode == "netting":
            current = next((p for p in self._positions.values() if p.symbol == order.symbol), None)
        else:
            current = self._positions.get(position) if position else None
        if current is None:
            new = _Position(
                ticket=order.ticket, identifier=order.ticket, symbol=order.symbol, type=side,
                volume=volume, price_open=price, sl=order.sl, tp=order.tp, magic=order.magic,
                comment=order.comment, reason=POSITION_REASON_EXPERT, time_msc=time_msc,
                time_update_msc=time_msc,
            )  # fmt: skip
            self._positions[new.ticket] = new
            order.position_id = new.identifier
            return self._add_deal(
                entry=DEAL_ENTRY_IN, position_id=new.identifier, profit=0.0, **deal
            )
        order.position_id = current.identifier
        current.time_update_msc = time_msc
        if current.type == side:  # netting: adding to the position
            total = current.volume + volume
            current.price_open = (current.price_open * current.volume + price * volume) / total
            current.volume = round(total, 8)
            current.sl = order.sl or current.sl
            current.tp = order.tp or current.tp
            return self._add_deal(
                entry=DEAL_ENTRY_IN, position_id=current.identifier, profit=0.0, **deal
            )
        closed = min(volume, current.volume)
        profit = self._profit(spec, current.type, closed, current.price_open, price)
        if volume < current.volume - _EPS:
            current.volume = round(current.volume - volume, 8)
            entry = DEAL_ENTRY_OUT
        elif volume <= current.volume + _EPS:
            del self._positions[current.ticket]
            entry = DEAL_ENTRY_OUT
        else:  # netting reversal: the position keeps its identifier and changes side
            current.type, current.volume = side, round(volume - current.volume, 8)
            current.price_open, current.sl, current.tp = price, order.sl, order.tp
            entry = DEAL_ENTRY_INOUT
        return self._add_deal(entry=entry, position_id=current.identifier, profit=profit, **deal)

    def _archive(self, order: _Order, state: int, time_msc: int) -> None:
        self._orders.pop(order.ticket, None)
        order.state, order.time_done_msc = state, time_msc
        self._history_orders.append(order)

    # ------------------------------------------------------------------ the broker's clock

    def _sync(self) -> None:
        """Process every tick between the last processed time and the clock."""
        start, end = self._trade_msc, self._now_msc
        self._trade_msc = end
        if end <= start:
            return
        watched = {o.symbol for o in self._orders.values()}
        watched |= {p.symbol for p in self._positions.values() if p.sl or p.tp}
        names = sorted(watched)
        parts = [self._ticks_between(self._symbols[n], start + 1, end) for n in names]
        if not any(len(p) for p in parts):
            self._expire_until(end)
            return
        times = np.concatenate([p["time_msc"] for p in parts])
        which = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
        bids = np.concatenate([p["bid"] for p in parts])
        asks = np.concatenate([p["ask"] for p in parts])
        last: dict[str, list[float]] = {}
        for k in np.argsort(times, kind="stable"):
            if not self._orders and not any(p.sl or p.tp for p in self._positions.values()):
                break
            name, t = names[which[k]], int(times[k])
            seen = last.setdefault(name, [0.0, 0.0])
            if bids[k] > 0:
                seen[0] = float(bids[k])
            if asks[k] > 0:
                seen[1] = float(asks[k])
            self._expire_until(t)
            if seen[0] > 0 and seen[1] > 0:
                self._on_tick(name, seen[0], seen[1], t)
        self._expire_until(end)

    def _expire_until(self, time_msc: int) -> None:
        for order in sorted(self._orders.values(), key=lambda o: o.ticket):
            if order.expire_msc is not None and order.expire_msc <= time_msc:
                self._archive(order, ORDER_STATE_EXPIRED, order.expire_msc)

    def _on_tick(self, symbol: str, bid: float, ask: float, time_msc: int) -> None:
        for order in sorted(self._orders.values(), key=lambda o: o.ticket):
            if order.symbol != symbol or order.ticket not in self._orders:
                continue
            is_buy = order.type in _BUY_ORDER_TYPES
            price = order.price_open
            fill: float | None = None
            if order.type in _STOP_LIMIT_TYPES:
                if (ask >= price) if is_buy else (bid <= price):
                    # The stop is hit: a limit order at the stop-limit price takes its place.
                    order.type = ORDER_TYPE_BUY_LIMIT if is_buy else ORDER_TYPE_SELL_LIMIT
                    order.price_open, order.price_stoplimit = order.price_stoplimit, 0.0
                    limit = order.price_open
                    if (ask <= limit) if is_buy else (bid >= limit):
                        fill = ask if is_buy else bid  # marketable on arrival: taker
            elif order.type == ORDER_TYPE_BUY_LIMIT and ask <= price:
                fill = price  # a resting limit fills at its price
            elif order.type == ORDER_TYPE_SELL_LIMIT and bid >= price:
                fill = price
            elif order.type == ORDER_TYPE_BUY_STOP and ask >= price:
                fill = ask  # a stop becomes a market order: gaps fill worse
            elif order.type == ORDER_TYPE_SELL_STOP and bid <= price:
                fill = bid
            if fill is not None:
                self._trigger(order, fill, time_msc)
        for position in sorted(self._positions.values(), key=lambda p: p.ticket):
            if position.symbol != symbol or position.ticket not in self._positions:
                continue
            if position.type == POSITION_TYPE_BUY:
                price, hit_sl = bid, bool(position.sl) and bid <= position.sl
                hit_tp = bool(position.tp) and bid >= position.tp
            else:
                price, hit_sl = ask, bool(position.sl) and ask >= position.sl
                hit_tp = bool(position.tp) and ask <= position.tp
            if hit_sl or hit_tp:
                self._close_by_stop(position, price, time_msc, "sl" if hit_sl else "tp")

    def _trigger(self, order: _Order, price: float, time_msc: int) -> None:
        """A pending order's condition is met: it becomes a deal, if the margin allows."""
        before = self._margin_used()
        snap = self._snapshot()
        self._fill(order, order.volume_current, price, time_msc)
        state = self._account_state()
        if state["margin"] > before + _EPS and state["margin_free"] < 0:
            self._restore(snap)
            order = self._orders[order.ticket]
            self._archive(order, ORDER_STATE_REJECTED, time_msc)
            return
        order.volume_current = 0.0
        order.price_current = price
        self._archive(order, ORDER_STATE_FILLED, time_msc)

    def _close_by_stop(self, position: _Position, price: float, time_msc: int, kind: str) -> None:
        spec = self._symbols[position.symbol]
        level = position.sl if kind == "sl" else position.tp
        comment = f"[{kind} {level:.{spec.digits}f}]"
        is_buy = position.type == POSITION_TYPE_BUY
        order = _Order(
            ticket=self._next_order_ticket, symbol=position.symbol,
            type=ORDER_TYPE_SELL if is_buy else ORDER_TYPE_BUY, volume_initial=position.volume,
            volume_current=0.0, price_open=price, price_stoplimit=0.0, sl=0.0, tp=0.0,
            type_time=ORDER_TIME_GTC, type_filling=ORDER_FILLING_FOK, expiration_s=0,
            expire_msc=None, magic=position.magic, comment=comment,
            reason=ORDER_REASON_SL if kind == "sl" else ORDER_REASON_TP,
            time_setup_msc=time_msc, price_current=price,
        )  # fmt: skip
        self._next_order_ticket += 1
        self._fill(
            order, position.volume, price, time_msc, position=position.ticket,
            deal_reason=DEAL_REASON_SL if kind == "sl" else DEAL_REASON_TP, comment=comment,
        )  # fmt: skip
        self._archive(order, ORDER_STATE_FILLED, time_msc)

    # ------------------------------------------------------------------ requests

    def _result(
        self, retcode: int, request: Any, *, deal: int = 0, order: int = 0, volume: float = 0.0,
        price: float = 0.0, quote: tuple[float, float] | None = None,
    ) -> Any:  # fmt: skip
        bid, ask = quote or (0.0, 0.0)
        return OrderSendResult(
            retcode=retcode, deal=deal, order=order, volume=volume, price=price, bid=bid, ask=ask,
            comment=RETCODE_COMMENTS.get(retcode, ""), request_id=self._request_id,
            retcode_external=0, request=request,
        )  # fmt: skip

    def _market_open(self) -> bool:
        return self.broker.always_open or _market_open_hour(self._now_msc // MS_PER_HOUR)

    def _execute(self, req: dict[str, Any], request: Any) -> Any:
        handlers = {
            TRADE_ACTION_DEAL: self._do_deal,
            TRADE_ACTION_PENDING: self._do_pending,
            TRADE_ACTION_SLTP: self._do_sltp,
            TRADE_ACTION_MODIFY: self._do_modify,
            TRADE_ACTION_REMOVE: self._do_remove,
            TRADE_ACTION_CLOSE_BY: self._do_close_by,
        }
        handler = handlers.get(req["action"])
        if handler is None:
            return self._result(TRADE_RETCODE_INVALID, request)
        return handler(req, request)

    def _do_deal(self, req: dict[str, Any], request: Any) -> Any:
        position = None
        if req["position"]:
            position = self._positions.get(req["position"])
            if position is None:
                return self._result(TRADE_RETCODE_POSITION_CLOSED, request)
            req["symbol"] = req["symbol"] or position.symbol
            if req["symbol"] != position.symbol:
                return self._result(TRADE_RETCODE_INVALID, request)
        spec = self._symbols.get(req["symbol"])
        if spec is None or req["type"] not in (ORDER_TYPE_BUY, ORDER_TYPE_SELL):
            return self._result(TRADE_RETCODE_INVALID, request)
        is_buy = req["type"] == ORDER_TYPE_BUY
        if not self._volume_ok(spec, req["volume"]):
            return self._result(TRADE_RETCODE_INVALID_VOLUME, request)
        if not self._filling_ok(spec, req["type_filling"]):
            return self._result(TRADE_RETCODE_INVALID_FILL, request)
        quote = self._quote(spec)
        if quote is None:
            return self._result(TRADE_RETCODE_PRICE_OFF, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request, quote=quote)
        bid, ask = quote
        price = ask if is_buy else bid
        if not self._checking and self._requotes:
            self._requotes -= 1
            return self._result(TRADE_RETCODE_REQUOTE, request, quote=quote)
        requested = req["price"]
        if (
            requested > 0
            and abs(requested - price) > req["deviation"] * spec.point + spec.point / 10
        ):
            return self._result(TRADE_RETCODE_REQUOTE, request, quote=quote)
        if position is not None:
            if position.type == (POSITION_TYPE_BUY if is_buy else POSITION_TYPE_SELL):
                return self._result(TRADE_RETCODE_INVALID, request, quote=quote)
            if req["volume"] > position.volume + _EPS:
                return self._result(TRADE_RETCODE_INVALID_CLOSE_VOLUME, request, quote=quote)
        elif not self._stops_ok(spec, is_buy, bid if is_buy else ask, req["sl"], req["tp"]):
            return self._result(TRADE_RETCODE_INVALID_STOPS, request, quote=quote)
        volume, retcode = req["volume"], TRADE_RETCODE_DONE
        if not self._checking and self._partial_fills and req["type_filling"] != ORDER_FILLING_FOK:
            fraction = self._partial_fills.pop(0)
            steps = math.floor(volume * fraction / spec.volume_step + 1e-9)
            volume = round(max(steps * spec.volume_step, spec.volume_min), 8)
            retcode = TRADE_RETCODE_DONE_PARTIAL if volume < req["volume"] else retcode
        before = self._margin_used()
        snap = self._snapshot()
        order = self._new_order(req, order_type=req["type"], reason=ORDER_REASON_EXPERT)
        order.price_open = order.price_current = price
        deal = self._fill(order, volume, price, self._now_msc, position=req["position"])
        state = self._account_state()
        if state["margin"] > before + _EPS and state["margin_free"] < 0:
            self._restore(snap)
            return self._result(TRADE_RETCODE_NO_MONEY, request, quote=quote)
        order.volume_current = round(req["volume"] - volume, 8)
        filled = ORDER_STATE_FILLED if retcode == TRADE_RETCODE_DONE else ORDER_STATE_PARTIAL
        self._archive(order, filled, self._now_msc)
        self.orders_created += 1
        return self._result(
            retcode, request, deal=deal, order=order.ticket, volume=volume, price=price,
            quote=quote,
        )  # fmt: skip

    def _do_pending(self, req: dict[str, Any], request: Any) -> Any:
        spec = self._symbols.get(req["symbol"])
        order_type = req["type"]
        if spec is None or order_type not in _PENDING_TYPES:
            return self._result(TRADE_RETCODE_INVALID, request)
        if not self._volume_ok(spec, req["volume"]):
            return self._result(TRADE_RETCODE_INVALID_VOLUME, request)
        if not self._filling_ok(spec, req["type_filling"]):
            return self._result(TRADE_RETCODE_INVALID_FILL, request)
        type_time = req["type_time"]
        if type_time > ORDER_TIME_SPECIFIED_DAY or not spec.expiration_mode & (1 << type_time):
            return self._result(TRADE_RETCODE_INVALID_EXPIRATION, request)
        expiry = self._expiry(req["type_time"], req["expiration"])
        if expiry is None:
            return self._result(TRADE_RETCODE_INVALID_EXPIRATION, request)
        quote = self._quote(spec)
        if quote is None:
            return self._result(TRADE_RETCODE_PRICE_OFF, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request, quote=quote)
        price, stoplimit = req["price"], req["stoplimit"]
        if not self._pending_price_ok(spec, order_type, price, stoplimit, *quote):
            return self._result(TRADE_RETCODE_INVALID_PRICE, request, quote=quote)
        opens_at = stoplimit if order_type in _STOP_LIMIT_TYPES else price
        if not self._stops_ok(spec, order_type in _BUY_ORDER_TYPES, opens_at, req["sl"], req["tp"]):
            return self._result(TRADE_RETCODE_INVALID_STOPS, request, quote=quote)
        order = self._new_order(req, order_type=order_type, reason=ORDER_REASON_EXPERT)
        if order_type not in _STOP_LIMIT_TYPES:
            order.price_stoplimit = 0.0
        order.expiration_s, order.expire_msc = expiry
        self._orders[order.ticket] = order
        self.orders_created += 1
        return self._result(
            TRADE_RETCODE_DONE, request, order=order.ticket, volume=req["volume"], quote=quote
        )

    def _find_position(self, req: dict[str, Any]) -> _Position | None:
        if req["position"]:
            return self._positions.get(req["position"])
        if self.broker.margin_mode == "netting" and req["symbol"]:
            return next((p for p in self._positions.values() if p.symbol == req["symbol"]), None)
        return None

    def _do_sltp(self, req: dict[str, Any], request: Any) -> Any:
        position = self._find_position(req)
        if position is None:
            code = TRADE_RETCODE_POSITION_CLOSED if req["position"] else TRADE_RETCODE_INVALID
            return self._result(code, request)
        spec = self._symbols[position.symbol]
        quote = self._quote(spec)
        if quote is None:
            return self._result(TRADE_RETCODE_PRICE_OFF, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request, quote=quote)
        if (req["sl"], req["tp"]) == (position.sl, position.tp):
            return self._result(TRADE_RETCODE_NO_CHANGES, request, quote=quote)
        is_buy = position.type == POSITION_TYPE_BUY
        ref = quote[0] if is_buy else quote[1]
        if not self._stops_ok(spec, is_buy, ref, req["sl"], req["tp"]):
            return self._result(TRADE_RETCODE_INVALID_STOPS, request, quote=quote)
        position.sl, position.tp = req["sl"], req["tp"]
        position.time_update_msc = self._now_msc
        return self._result(TRADE_RETCODE_DONE, request, quote=quote)

    def _do_modify(self, req: dict[str, Any], request: Any) -> Any:
        order = self._orders.get(req["order"])
        if order is None:
            return self._result(TRADE_RETCODE_INVALID, request)
        spec = self._symbols[order.symbol]
        quote = self._quote(spec)
        if quote is None:
            return self._result(TRADE_RETCODE_PRICE_OFF, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request, quote=quote)
        stop_limit = order.type in _STOP_LIMIT_TYPES
        stoplimit = req["stoplimit"] if stop_limit else 0.0
        expiry = self._expiry(req["type_time"], req["expiration"])
        if expiry is None:
            return self._result(TRADE_RETCODE_INVALID_EXPIRATION, request, quote=quote)
        new = (req["price"], stoplimit, req["sl"], req["tp"], req["type_time"], expiry[0])
        old = (order.price_open, order.price_stoplimit, order.sl, order.tp, order.type_time,
               order.expiration_s)  # fmt: skip
        if new == old:
            return self._result(TRADE_RETCODE_NO_CHANGES, request, order=order.ticket, quote=quote)
        if not self._pending_price_ok(spec, order.type, req["price"], stoplimit, *quote):
            return self._result(TRADE_RETCODE_INVALID_PRICE, request, quote=quote)
        opens_at = stoplimit if stop_limit else req["price"]
        if not self._stops_ok(spec, order.type in _BUY_ORDER_TYPES, opens_at, req["sl"], req["tp"]):
            return self._result(TRADE_RETCODE_INVALID_STOPS, request, quote=quote)
        order.price_open, order.price_stoplimit, order.sl, order.tp = new[:4]
        order.type_time = req["type_time"]
        order.expiration_s, order.expire_msc = expiry
        return self._result(TRADE_RETCODE_DONE, request, order=order.ticket, quote=quote)

    def _do_remove(self, req: dict[str, Any], request: Any) -> Any:
        order = self._orders.get(req["order"])
        if order is None:
            return self._result(TRADE_RETCODE_INVALID, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request)
        self._archive(order, ORDER_STATE_CANCELED, self._now_msc)
        return self._result(TRADE_RETCODE_DONE, request, order=order.ticket)

    def _do_close_by(self, req: dict[str, Any], request: Any) -> Any:
        first = self._positions.get(req["position"])
        other = self._positions.get(req["position_by"])
        if self.broker.margin_mode == "netting" or first is None or other is None:
            return self._result(TRADE_RETCODE_INVALID, request)
        if first.symbol != other.symbol or first.type == other.type:
            return self._result(TRADE_RETCODE_INVALID, request)
        if not self._checking and not self._market_open():
            return self._result(TRADE_RETCODE_MARKET_CLOSED, request)
        spec = self._symbols[first.symbol]
        volume = min(first.volume, other.volume)
        price = other.price_open  # both legs at the opposite position's open price
        order = self._new_order(
            {**req, "symbol": first.symbol, "volume": volume, "price": price},
            order_type=ORDER_TYPE_CLOSE_BY, reason=ORDER_REASON_EXPERT,
        )  # fmt: skip
        order.position_id, order.position_by_id = first.identifier, other.identifier
        order.volume_current = 0.0
        deals = []
        for position in (first, other):
            is_buy = position.type == POSITION_TYPE_SELL  # the closing side
            profit = self._profit(spec, position.type, volume, position.price_open, price)
            deals.append(
                self._add_deal(
                    order=order.ticket,
                    deal_type=DEAL_TYPE_BUY if is_buy else DEAL_TYPE_SELL,
                    entry=DEAL_ENTRY_OUT_BY,
                    position_id=position.identifier,
                    volume=volume,
                    price=price,
                    profit=profit,
                    commission=0.0,
                    time_msc=self._now_msc,
                    reason=DEAL_REASON_EXPERT,
                    symbol=position.symbol,
                    comment=order.comment,
                    magic=req["magic"],
                )  # fmt: skip
            )
            position.volume = round(position.volume - volume, 8)
            position.time_update_msc = self._now_msc
            if position.volume <= _EPS:
                del self._positions[position.ticket]
        self._archive(order, ORDER_STATE_FILLED, self._now_msc)
        self.orders_created += 1
        return self._result(
            TRADE_RETCODE_DONE, request, deal=deals[0], order=order.ticket, volume=volume,
            price=price,
        )  # fmt: skip

    # ------------------------------------------------------------------ trading API

    def order_send(self, request: dict[str, Any]) -> Any:
        self._log("order_send", (request,), {})
        if not self._attached():
            return None
        req = self._check_args(request)
        if req is None:
            return None
        self._sync()
        self._request_id += 1
        echo = TradeRequest(**req)
        if self._trade_server_up:
            result = self._execute(req, echo)
        else:
            result = self._result(TRADE_RETCODE_CONNECTION, echo)
        if self._lost_replies:
            error, retcode = self._lost_replies.pop(0)
            if retcode is None:
                self._connected = False
                return self._fail(error)
            return self._ok(
                result._replace(
                    retcode=retcode, deal=0, order=0, volume=0.0, price=0.0,
                    comment=RETCODE_COMMENTS.get(retcode, ""),
                )
            )  # fmt: skip
        return self._ok(result)

    def order_check(self, request: dict[str, Any]) -> Any:
        """Validate ``request`` and the margin it needs, changing nothing.

        As reported from live terminals, sessions are not checked (a request
        that passes here may still get ``MARKET_CLOSED`` from ``order_send``),
        nor are requotes. ``retcode`` is 0 and ``comment`` ``"Done"`` when the
        request would be accepted.
        """
        self._log("order_check", (request,), {})
        if not self._attached():
            return None
        req = self._check_args(request)
        if req is None:
            return None
        self._sync()
        echo = TradeRequest(**req)
        snap = self._snapshot()
        self._checking = True
        try:
            result = self._execute(req, echo)
            state = self._account_state()
        finally:
            self._checking = False
            self._restore(snap)
        if result.retcode in _DONE_RETCODES:
            retcode, comment = 0, "Done"
        else:
            retcode, comment = result.retcode, result.comment
            state = self._account_state()
        return self._ok(
            OrderCheckResult(
                retcode=retcode, balance=state["balance"], equity=state["equity"],
                profit=state["profit"], margin=state["margin"],
                margin_free=state["margin_free"], margin_level=state["margin_level"],
                comment=comment, request=echo,
            )
        )  # fmt: skip

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> Any:
        self._log("order_calc_margin", (action, symbol, volume, price), {})
        if not self._attached():
            return None
        spec = self._symbols.get(symbol)
        if spec is None or action not in (ORDER_TYPE_BUY, ORDER_TYPE_SELL):
            return self._fail(INVALID_ARGUMENTS)
        return self._ok(round(self._margin(spec, float(volume)), 2))

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> Any:
        self._log("order_calc_profit", (action, symbol, volume, price_open, price_close), {})
        if not self._attached():
            return None
        spec = self._symbols.get(symbol)
        if spec is None or action not in (ORDER_TYPE_BUY, ORDER_TYPE_SELL):
            return self._fail(INVALID_ARGUMENTS)
        return self._ok(self._profit(spec, action, float(volume), price_open, price_close))

    def _order_tuple(self, order: _Order) -> Any:
        price_current = order.price_current
        if order.state == ORDER_STATE_PLACED:
            quote = self._quote(self._symbols[order.symbol])
            if quote is not None:
                price_current = quote[1] if order.type in _BUY_ORDER_TYPES else quote[0]
        return TradeOrder(
            ticket=order.ticket, time_setup=order.time_setup_msc // 1000,
            time_setup_msc=order.time_setup_msc, time_done=order.time_done_msc // 1000,
            time_done_msc=order.time_done_msc, time_expiration=order.expiration_s,
            type=order.type, type_time=order.type_time, type_filling=order.type_filling,
            state=order.state, magic=order.magic, position_id=order.position_id,
            position_by_id=order.position_by_id, reason=order.reason,
            volume_initial=order.volume_initial, volume_current=order.volume_current,
            price_open=order.price_open, sl=order.sl, tp=order.tp, price_current=price_current,
            price_stoplimit=order.price_stoplimit, symbol=order.symbol, comment=order.comment,
            external_id="",
        )  # fmt: skip

    def _position_tuple(self, position: _Position) -> Any:
        spec = self._symbols[position.symbol]
        price = self._position_price(position)
        return TradePosition(
            ticket=position.ticket, time=position.time_msc // 1000, time_msc=position.time_msc,
            time_update=position.time_update_msc // 1000,
            time_update_msc=position.time_update_msc, type=position.type, magic=position.magic,
            identifier=position.identifier, reason=position.reason, volume=position.volume,
            price_open=round(position.price_open, spec.digits + 3), sl=position.sl,
            tp=position.tp, price_current=price, swap=position.swap,
            profit=self._profit(spec, position.type, position.volume, position.price_open, price),
            symbol=position.symbol, comment=position.comment, external_id="",
        )  # fmt: skip

    def _select(
        self, name: str, kwargs: dict[str, Any], *, keys: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """Log, check the link and the arguments, process the broker's ticks."""
        self._log(name, (), {k: v for k, v in kwargs.items() if v is not None})
        if not self._attached():
            return None
        for key in keys:
            value = kwargs.get(key)
            if value is not None and (
                _bad_int(value) if key != "group" else not isinstance(value, str)
            ):
                return self._fail(INVALID_ARGUMENTS)
        symbol = kwargs.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            return self._fail(INVALID_ARGUMENTS)
        self._sync()
        return kwargs

    def positions_total(self) -> int | None:
        if self._select("positions_total", {}, keys=()) is None:
            return None
        return self._ok(len(self._positions))

    def positions_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[Any, ...] | None:
        args = {"symbol": symbol, "group": group, "ticket": ticket}
        if self._select("positions_get", args, keys=("group", "ticket")) is None:
            return None
        found = [
            p
            for p in sorted(self._positions.values(), key=lambda p: p.ticket)
            if (ticket is None or p.ticket == ticket)
            and (symbol is None or p.symbol == symbol)
            and (symbol is not None or _match_group(p.symbol, group))
        ]
        return self._ok(tuple(self._position_tuple(p) for p in found))

    def orders_total(self) -> int | None:
        if self._select("orders_total", {}, keys=()) is None:
            return None
        return self._ok(len(self._orders))

    def orders_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[Any, ...] | None:
        args = {"symbol": symbol, "group": group, "ticket": ticket}
        if self._select("orders_get", args, keys=("group", "ticket")) is None:
            return None
        found = [
            o
            for o in sorted(self._orders.values(), key=lambda o: o.ticket)
            if (ticket is None or o.ticket == ticket)
            and (symbol is None or o.symbol == symbol)
            and (symbol is not None or _match_group(o.symbol, group))
        ]
        return self._ok(tuple(self._order_tuple(o) for o in found))

    def _history_range(self, date_from: Any, date_to: Any) -> tuple[int, int] | None:
        from_s, to_s = _to_seconds(date_from), _to_seconds(date_to)
        if from_s is None or to_s is None:
            return self._fail(INVALID_ARGUMENTS)
        return from_s, to_s

    def history_orders_get(
        self, date_from: Any = None, date_to: Any = None, group: str | None = None,
        ticket: int | None = None, position: int | None = None,
    ) -> tuple[Any, ...] | None:  # fmt: skip
        """``(date_from, date_to, group=)`` | ``(ticket=)`` | ``(position=)``.

        A date range selects orders set up or completed in ``[date_from, date_to]``
        (whole seconds, inclusive).
        """
        args = {"date_from": date_from, "date_to": date_to, "group": group, "ticket": ticket,
                "position": position}  # fmt: skip
        if self._select("history_orders_get", args, keys=("group", "ticket", "position")) is None:
            return None
        orders = self._history_orders
        if ticket is not None:
            found = [o for o in orders if o.ticket == ticket]
        elif position is not None:
            found = [o for o in orders if o.position_id == position]
        else:
            span = self._history_range(date_from, date_to)
            if span is None:
                return None
            lo, hi = span[0] * 1000, span[1] * 1000 + 999
            found = [
                o
                for o in orders
                if (lo <= o.time_setup_msc <= hi or lo <= o.time_done_msc <= hi)
                and _match_group(o.symbol, group)
            ]
        found.sort(key=lambda o: (o.time_done_msc, o.ticket))
        return self._ok(tuple(self._order_tuple(o) for o in found))

    def history_orders_total(self, date_from: Any, date_to: Any) -> int | None:
        orders = self.history_orders_get(date_from, date_to)
        return None if orders is None else len(orders)

    def history_deals_get(
        self, date_from: Any = None, date_to: Any = None, group: str | None = None,
        ticket: int | None = None, position: int | None = None,
    ) -> tuple[Any, ...] | None:  # fmt: skip
        """``(date_from, date_to, group=)`` | ``(ticket=ORDER_TICKET)`` | ``(position=)``.

        As documented, ``ticket`` is an *order* ticket: the deals of that order
        (``DEAL_ORDER``); ``position`` a position identifier (``DEAL_POSITION_ID``).
        """
        args = {"date_from": date_from, "date_to": date_to, "group": group, "ticket": ticket,
                "position": position}  # fmt: skip
        if self._select("history_deals_get", args, keys=("group", "ticket", "position")) is None:
            return None
        if ticket is not None:
            return self._ok(tuple(d for d in self._deals if d.order == ticket))
        if position is not None:
            return self._ok(tuple(d for d in self._deals if d.position_id == position))
        span = self._history_range(date_from, date_to)
        if span is None:
            return None
        return self._ok(
            tuple(
                d
                for d in self._deals
                if span[0] <= d.time <= span[1] and _match_group(d.symbol, group)
            )
        )

    def history_deals_total(self, date_from: Any, date_to: Any) -> int | None:
        deals = self.history_deals_get(date_from, date_to)
        return None if deals is None else len(deals)


class FakeMetaTrader5(_TradingTerminal):
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
        self._init_trading()

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
        is_open = self.broker.always_open or _market_open_hour(hour_index)
        if not is_open or (hour_index + 1) * MS_PER_HOUR <= (self._history_start_msc):
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
        self._sync()
        b = self.broker
        state = self._account_state()
        margin_mode = (
            ACCOUNT_MARGIN_MODE_RETAIL_NETTING
            if b.margin_mode == "netting"
            else ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        )
        return self._ok(
            AccountInfo(
                login=b.login, trade_mode=ACCOUNT_TRADE_MODE_DEMO, leverage=b.leverage,
                limit_orders=200, margin_so_mode=ACCOUNT_STOPOUT_MODE_PERCENT,
                trade_allowed=True, trade_expert=True, margin_mode=margin_mode,
                currency_digits=2, fifo_close=False, balance=state["balance"], credit=0.0,
                profit=state["profit"], equity=state["equity"], margin=state["margin"],
                margin_free=state["margin_free"], margin_level=state["margin_level"],
                margin_so_call=50.0, margin_so_so=30.0, margin_initial=0.0,
                margin_maintenance=0.0, assets=0.0, liabilities=0.0, commission_blocked=0.0,
                name="Fake Trader", server=b.server, currency=b.currency, company=b.company,
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
            expiration_mode=spec.expiration_mode, filling_mode=spec.filling_mode, order_mode=127,
            trade_stops_level=spec.stops_level, trade_freeze_level=0, bid=bid, bidhigh=bid,
            bidlow=bid,
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
        specs = [s for s in self._symbols.values() if _match_group(s.name, group)]
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

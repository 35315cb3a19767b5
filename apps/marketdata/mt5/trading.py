"""``MT5TradingClient``: orders, positions, deals and the account of a MetaTrader 5 terminal.

Pure Python, no Django. It sits on an :class:`~apps.marketdata.mt5.client.MT5Client`
(connection with backoff, broker symbol names) and is what the platform's MT5
broker adapter calls: :meth:`~MT5TradingClient.submit`,
:meth:`~MT5TradingClient.cancel`, :meth:`~MT5TradingClient.amend`,
:meth:`~MT5TradingClient.modify_position`,
:meth:`~MT5TradingClient.close_position`, :meth:`~MT5TradingClient.positions`,
:meth:`~MT5TradingClient.open_orders`, :meth:`~MT5TradingClient.deals_since`,
:meth:`~MT5TradingClient.account` and
:meth:`~MT5TradingClient.find_by_client_order_id`. Quantities and prices are
``Decimal`` on our side and ``float`` on MetaTrader's; times are UTC
microseconds (``int``) or aware ``datetime``.

Facts about the real ``MetaTrader5`` package this module relies on
-----------------------------------------------------------------
* ``order_send(request)`` takes a dict with the ``MqlTradeRequest`` keys
  (``action, magic, order, symbol, volume, price, stoplimit, sl, tp, deviation,
  type, type_filling, type_time, expiration, comment, position,
  position_by``) and returns an ``OrderSendResult`` (``retcode, deal, order,
  volume, price, bid, ask, comment, request_id, retcode_external, request``),
  or ``None`` with ``last_error()`` set. ``None`` therefore means *either* the
  binding refused the arguments before sending (``-2``, e.g. ``'Invalid
  "comment" argument'``) *or* the IPC link failed (``-10000..-10005``), in
  which case the request may or may not have reached the trade server.
* Success is ``TRADE_RETCODE_DONE`` (10009, ``"Request executed"``) for market
  *and* pending orders; ``PLACED`` (10008) and ``DONE_PARTIAL`` (10010) also
  occur. A requote is ``10004`` with ``deal = order = 0`` and the new
  ``bid``/``ask``; nothing was executed.
* Comments: the trade server keeps 31 characters, and several terminal builds
  make the binding refuse longer comments outright (limits of 27 to 31 were
  reported), so ours stay within :data:`COMMENT_MAX_LEN` (26) characters of
  ``[A-Za-z0-9_-]``. Comments of deals closed by SL/TP are replaced by the
  server (``"[sl 1.08400]"``); the position and its opening order keep ours.
* ``history_orders_get(date_from, date_to, group=)`` / ``(ticket=)`` /
  ``(position=)`` and ``history_deals_get(...)`` likewise, where a deal
  ``ticket=`` is documented as the *order* ticket (``DEAL_ORDER``); we filter
  on ``deal.order`` anyway, so either reading works. Dates are the trade
  server's wall clock (often UTC+2/+3): ``server_timezone`` converts, and
  every history window is widened by a day on each side.
* In a hedging account each market deal opens its own position (ticket = the
  order's ticket) unless the request names a ``position`` to close; in a
  netting account there is one position per symbol, which an opposite deal
  reduces, closes or reverses (``DEAL_ENTRY_OUT`` / ``DEAL_ENTRY_INOUT``).

Client order ids in comments
----------------------------
The platform's ``client_order_id`` (up to 64 characters) goes into the order
comment so an order can be found again after a lost reply or a restart
(:func:`encode_client_order_id`). With the prefix ``fx`` (configurable):

* ``fx-<id>``: the id itself, when it is made of ``[A-Za-z0-9_-]`` and the
  comment fits 26 characters (ids up to 23 characters);
* ``fxu<22 base62 chars>``: a canonical lowercase UUID (``str(uuid4())``),
  its 128 bits in base 62, 25 characters;
* ``fxh<22 base62 chars>``: anything else, its BLAKE2b-128 digest, 25
  characters (not reversible: :func:`decode_comment` says "hash", lookups
  re-encode the id and compare).

Exactly-once submission
-----------------------
:meth:`MT5TradingClient.submit` never sends an order twice:

1. Before sending it looks the client order id up (open orders, then order
   history over ``dedupe_window``); an order already there is reported, not
   sent again (``SubmitResult.duplicate``).
2. Requotes (``REQUOTE``, ``PRICE_CHANGED``, ``PRICE_OFF``) were not executed:
   the order is sent again with a fresh price, ``requote_retries`` times.
3. A lost reply (``None`` with an IPC error, or ``TRADE_RETCODE_TIMEOUT``) is
   never resent blindly: the client reconnects and looks the comment up in
   ``orders_get``, ``history_orders_get`` and ``history_deals_get``,
   ``lookup_attempts`` times, and returns what actually happened. Only if the
   IPC error proves that nothing left this process (``-10003``/``-10004``:
   no channel) and the lookup finds nothing is the order sent once more.
   Otherwise an order that cannot be found is ``"unknown"``: call
   :meth:`~MT5TradingClient.find_by_client_order_id` later.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from apps.marketdata.mt5.client import (
    IPC_ERRORS,
    RES_S_OK,
    MT5CallError,
    MT5Client,
    MT5ConnectionError,
    MT5Error,
    MT5SymbolNotFound,
)

__all__ = [
    "COMMENT_MAX_LEN",
    "COMMENT_PREFIX",
    "AccountSnapshot",
    "ActionResult",
    "CommentTag",
    "Deal",
    "MT5TradingClient",
    "OpenOrder",
    "OrderLookup",
    "Position",
    "SubmitResult",
    "decode_comment",
    "encode_client_order_id",
]

logger = logging.getLogger(__name__)

US = 1_000_000

# Values of the package's constants (its __init__.py; see the module docstring).
TRADE_ACTION_DEAL = 1
TRADE_ACTION_PENDING = 5
TRADE_ACTION_SLTP = 6
TRADE_ACTION_MODIFY = 7
TRADE_ACTION_REMOVE = 8

ORDER_TYPE_BUY, ORDER_TYPE_SELL = 0, 1
ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT = 2, 3
ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP = 4, 5
ORDER_TYPE_BUY_STOP_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT = 6, 7
ORDER_TYPE_CLOSE_BY = 8

ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN = 0, 1, 2
ORDER_TIME_GTC, ORDER_TIME_DAY, ORDER_TIME_SPECIFIED, ORDER_TIME_SPECIFIED_DAY = 0, 1, 2, 3
SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC = 1, 2

ORDER_STATE_STARTED = 0
ORDER_STATE_PLACED = 1
ORDER_STATE_CANCELED = 2
ORDER_STATE_PARTIAL = 3
ORDER_STATE_FILLED = 4
ORDER_STATE_REJECTED = 5
ORDER_STATE_EXPIRED = 6

POSITION_TYPE_BUY = 0
ACCOUNT_MARGIN_MODES = {0: "netting", 1: "exchange", 2: "hedging"}

TRADE_RETCODE_REQUOTE = 10004
TRADE_RETCODE_PLACED = 10008
TRADE_RETCODE_DONE = 10009
TRADE_RETCODE_DONE_PARTIAL = 10010
TRADE_RETCODE_TIMEOUT = 10012
TRADE_RETCODE_INVALID = 10013
TRADE_RETCODE_PRICE_CHANGED = 10020
TRADE_RETCODE_PRICE_OFF = 10021
TRADE_RETCODE_NO_CHANGES = 10025

#: ``TRADE_RETCODE_*`` names (without the prefix): our reject codes.
RETCODE_NAMES: dict[int, str] = {
    10004: "REQUOTE", 10006: "REJECT", 10007: "CANCEL", 10008: "PLACED", 10009: "DONE",
    10010: "DONE_PARTIAL", 10011: "ERROR", 10012: "TIMEOUT", 10013: "INVALID",
    10014: "INVALID_VOLUME", 10015: "INVALID_PRICE", 10016: "INVALID_STOPS",
    10017: "TRADE_DISABLED", 10018: "MARKET_CLOSED", 10019: "NO_MONEY", 10020: "PRICE_CHANGED",
    10021: "PRICE_OFF", 10022: "INVALID_EXPIRATION", 10023: "ORDER_CHANGED",
    10024: "TOO_MANY_REQUESTS", 10025: "NO_CHANGES", 10026: "SERVER_DISABLES_AT",
    10027: "CLIENT_DISABLES_AT", 10028: "LOCKED", 10029: "FROZEN", 10030: "INVALID_FILL",
    10031: "CONNECTION", 10032: "ONLY_REAL", 10033: "LIMIT_ORDERS", 10034: "LIMIT_VOLUME",
    10035: "INVALID_ORDER", 10036: "POSITION_CLOSED", 10038: "INVALID_CLOSE_VOLUME",
    10039: "CLOSE_ORDER_EXIST", 10040: "LIMIT_POSITIONS", 10041: "REJECT_CANCEL",
    10042: "LONG_ONLY", 10043: "SHORT_ONLY", 10044: "CLOSE_ONLY", 10045: "FIFO_CLOSE",
}  # fmt: skip

#: Human explanations of reject codes (``{symbol}`` etc. filled in when known).
REJECT_MESSAGES: dict[str, str] = {
    "REQUOTE": "The broker requoted the price {attempts} time(s); the order was not executed.",
    "PRICE_CHANGED": "The price changed before execution; the order was not executed.",
    "PRICE_OFF": "The broker has no price for {symbol} at the moment.",
    "NO_MONEY": "Not enough free margin for {volume} lots of {symbol}.",
    "MARKET_CLOSED": "The market for {symbol} is closed.",
    "INVALID_VOLUME": (
        "Volume {volume} is not allowed for {symbol} (min {volume_min}, step {volume_step}, "
        "max {volume_max} lots)."
    ),
    "INVALID_PRICE": "The order price is invalid or on the wrong side of the market.",
    "INVALID_STOPS": (
        "Stop-loss or take-profit is on the wrong side of the price or closer to it than "
        "{stops_level} points."
    ),
    "INVALID_FILL": "The broker does not accept this filling policy for {symbol}.",
    "INVALID_EXPIRATION": "The expiry is in the past or not allowed for {symbol}.",
    "TRADE_DISABLED": "Trading {symbol} is disabled.",
    "CONNECTION": "The terminal has no connection to the trade server.",
    "REJECT": "The broker rejected the request.",
    "INVALID": "The broker found the request invalid.",
    "POSITION_CLOSED": "The position is already closed.",
    "INVALID_CLOSE_VOLUME": "The volume to close exceeds the position's volume.",
    "CLIENT_DISABLES_AT": "Algorithmic trading is disabled in the terminal.",
    "SERVER_DISABLES_AT": "The broker disabled algorithmic trading for this account.",
    "TOO_MANY_REQUESTS": "Too many requests: the broker is throttling this account.",
    "LIMIT_ORDERS": "The account's limit of pending orders is reached.",
    "LIMIT_VOLUME": "The account's volume limit for {symbol} is reached.",
    "LIMIT_POSITIONS": "The account's limit of open positions is reached.",
    "LONG_ONLY": "Only long positions are allowed on {symbol}.",
    "SHORT_ONLY": "Only short positions are allowed on {symbol}.",
    "CLOSE_ONLY": "Only closing positions is allowed on {symbol}.",
    "FIFO_CLOSE": "The account requires positions to be closed first-in, first-out.",
    "UNKNOWN_SYMBOL": "The terminal does not offer {symbol}.",
    "NO_CONNECTION": "The MetaTrader 5 terminal cannot be reached; nothing was sent.",
    "INVALID_REQUEST": "The MetaTrader5 package refused the request before sending it.",
    "AUTOTRADING_DISABLED": "Algorithmic trading is disabled in the terminal.",
    "INVALID_TIF": "MetaTrader pending orders rest until triggered: use GTC or GTD, not {tif}.",
    "NOT_SENT": "The terminal lost its connection before the request left; nothing was sent.",
    "TERMINAL_ERROR": "The terminal failed before the order was sent; nothing was sent.",
    "POSITION_NOT_FOUND": "No open position {position}.",
    "ORDER_NOT_FOUND": "No open order {order}.",
    "ALREADY_FILLED": "The order was already filled.",
    "ALREADY_CLOSED": "The order is no longer open (state {state}).",
}

RES_E_INVALID_PARAMS = -2
RES_E_AUTO_TRADING_DISABLED = -8
#: IPC failures after which the request may have reached the server.
AMBIGUOUS_IPC_ERRORS = frozenset({-10000, -10001, -10002, -10005})
#: IPC failures meaning no channel existed: the request never left this process.
NOT_SENT_IPC_ERRORS = frozenset({-10003, -10004})

REQUOTE_RETCODES = frozenset({TRADE_RETCODE_REQUOTE, TRADE_RETCODE_PRICE_CHANGED,
                              TRADE_RETCODE_PRICE_OFF})  # fmt: skip
DONE_RETCODES = frozenset({TRADE_RETCODE_DONE, TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE_PARTIAL})

DEAL_KINDS = {0: "trade", 1: "trade", 2: "balance", 3: "credit", 4: "charge", 5: "correction",
              6: "bonus", 7: "commission", 8: "commission", 9: "commission", 10: "commission",
              11: "commission", 12: "interest", 13: "trade_cancelled", 14: "trade_cancelled",
              15: "dividend", 16: "dividend", 17: "tax"}  # fmt: skip
DEAL_ENTRIES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}
DEAL_REASONS = {0: "client", 1: "mobile", 2: "web", 3: "expert", 4: "sl", 5: "tp", 6: "so",
                7: "rollover", 8: "vmargin", 9: "split"}  # fmt: skip
ORDER_TYPES: dict[int, tuple[str, str]] = {
    ORDER_TYPE_BUY: ("buy", "market"), ORDER_TYPE_SELL: ("sell", "market"),
    ORDER_TYPE_BUY_LIMIT: ("buy", "limit"), ORDER_TYPE_SELL_LIMIT: ("sell", "limit"),
    ORDER_TYPE_BUY_STOP: ("buy", "stop"), ORDER_TYPE_SELL_STOP: ("sell", "stop"),
    ORDER_TYPE_BUY_STOP_LIMIT: ("buy", "stop_limit"),
    ORDER_TYPE_SELL_STOP_LIMIT: ("sell", "stop_limit"),
    ORDER_TYPE_CLOSE_BY: ("", "close_by"),
}  # fmt: skip
TIME_IN_FORCE = {ORDER_TIME_GTC: "GTC", ORDER_TIME_DAY: "DAY", ORDER_TIME_SPECIFIED: "GTD",
                 ORDER_TIME_SPECIFIED_DAY: "GTD"}  # fmt: skip

SIDES = ("buy", "sell")
TYPES = ("market", "limit", "stop", "stop_limit")
TIMES_IN_FORCE = ("GTC", "GTD", "IOC", "FOK")

# ------------------------------------------------------------------ comments

COMMENT_PREFIX = "fx"
COMMENT_MAX_LEN = 26
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]+")
_PREFIX_RE = re.compile(r"[A-Za-z0-9]{1,4}")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B62_INDEX = {c: i for i, c in enumerate(_B62)}
_UUID_CHARS = 22  # ceil(128 / log2(62))


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_B62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _unbase62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _B62_INDEX[char]
    return number


def encode_client_order_id(
    client_order_id: str, *, prefix: str = COMMENT_PREFIX, max_len: int = COMMENT_MAX_LEN
) -> str:
    """The order comment carrying ``client_order_id`` (see the module docstring).

    Deterministic: the same id always gives the same comment, which is how
    orders are found again. At most ``max_len`` characters of ``[A-Za-z0-9_-]``.
    """
    if not client_order_id:
        raise ValueError("client_order_id must not be empty")
    if not _PREFIX_RE.fullmatch(prefix):
        raise ValueError("the comment prefix is 1 to 4 ASCII letters or digits")
    room = max_len - len(prefix) - 1
    if room < 12:
        raise ValueError(f"max_len {max_len} leaves no room for a client order id")
    if _SAFE_ID.fullmatch(client_order_id) and len(client_order_id) <= room:
        return f"{prefix}-{client_order_id}"
    try:
        parsed = uuid.UUID(client_order_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == client_order_id and room >= _UUID_CHARS:
        return f"{prefix}u{_base62(parsed.int, _UUID_CHARS)}"
    digest = hashlib.blake2b(client_order_id.encode("utf-8"), digest_size=16).digest()
    return f"{prefix}h{_base62(int.from_bytes(digest, 'big'), _UUID_CHARS)[:room]}"


@dataclass(frozen=True, slots=True)
class CommentTag:
    """What :func:`decode_comment` found in a comment."""

    kind: str  # "id" | "uuid" | "hash"
    client_order_id: str | None  # None for "hash": the id cannot be recovered
    comment: str


def decode_comment(comment: str | None, *, prefix: str = COMMENT_PREFIX) -> CommentTag | None:
    """The client order id in an order/deal/position comment, if it is one of ours."""
    if not comment or not comment.startswith(prefix) or len(comment) <= len(prefix) + 1:
        return None
    kind, payload = comment[len(prefix)], comment[len(prefix) + 1 :]
    if kind == "-" and _SAFE_ID.fullmatch(payload):
        return CommentTag("id", payload, comment)
    if kind == "u" and len(payload) == _UUID_CHARS and all(c in _B62_INDEX for c in payload):
        number = _unbase62(payload)
        if number < 1 << 128:
            return CommentTag("uuid", str(uuid.UUID(int=number)), comment)
    if kind == "h" and all(c in _B62_INDEX for c in payload):
        return CommentTag("hash", None, comment)
    return None


# ------------------------------------------------------------------ values


def _dec(value: float) -> Decimal:
    """A float from MetaTrader as the Decimal of its shortest repr (1.0897 -> '1.0897')."""
    return Decimal(repr(float(value))) + 0


def _to_dec(value: Decimal | float | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _opt(value: float) -> Decimal | None:
    """SL/TP/price fields: MetaTrader's 0.0 means 'none'."""
    return _dec(value) if value else None


@dataclass(frozen=True, slots=True)
class Deal:
    """One execution (``TradeDeal``), or a balance operation (``kind != "trade"``)."""

    broker_deal_id: str
    broker_order_id: str
    broker_position_id: str
    symbol: str  # ours when the symbol was resolved through the client, else the broker's
    broker_symbol: str
    side: str | None  # "buy" | "sell"; None for balance operations
    entry: str  # "in" | "out" | "inout" (reversal) | "out_by" (close by)
    volume: Decimal
    price: Decimal
    commission: Decimal
    swap: Decimal
    profit: Decimal
    fee: Decimal
    time_us: int
    magic: int
    reason: str  # "expert", "client", "sl", "tp", "so", ...
    comment: str
    client_order_id: str | None
    kind: str = "trade"


@dataclass(frozen=True, slots=True)
class Position:
    broker_position_id: str  # POSITION_TICKET
    identifier: str  # POSITION_IDENTIFIER: the deals' position id
    symbol: str
    broker_symbol: str
    side: str
    volume: Decimal
    price_open: Decimal
    price_current: Decimal
    sl: Decimal | None
    tp: Decimal | None
    swap: Decimal
    profit: Decimal
    magic: int
    comment: str
    client_order_id: str | None
    time_us: int
    time_update_us: int


@dataclass(frozen=True, slots=True)
class OpenOrder:
    broker_order_id: str
    symbol: str
    broker_symbol: str
    side: str
    type: str  # "limit" | "stop" | "stop_limit" (a stop-limit whose stop was hit: "limit")
    volume: Decimal
    volume_remaining: Decimal
    price: Decimal | None  # limit price (limit, stop_limit)
    stop_price: Decimal | None  # trigger (stop, stop_limit)
    sl: Decimal | None
    tp: Decimal | None
    time_in_force: str  # "GTC" | "GTD" | "DAY"
    expire_at_us: int | None
    magic: int
    comment: str
    client_order_id: str | None
    time_setup_us: int
    state: int  # ORDER_STATE_*


@dataclass(frozen=True, slots=True)
class OrderLookup:
    """An order found by its client order id, and its deals."""

    client_order_id: str
    broker_order_id: str
    status: str  # "accepted" | "partially_filled" | "filled" | "cancelled" | "rejected" | "expired"
    is_open: bool  # still working at the broker (a pending order)
    state: int  # ORDER_STATE_*
    symbol: str
    broker_symbol: str
    side: str
    type: str  # "market" | "limit" | "stop" | "stop_limit"
    volume: Decimal
    filled_volume: Decimal
    average_price: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    sl: Decimal | None
    tp: Decimal | None
    magic: int
    comment: str
    time_setup_us: int
    time_done_us: int | None
    broker_position_id: str | None
    deals: list[Deal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The outcome of :meth:`MT5TradingClient.submit` / :meth:`~MT5TradingClient.close_position`.

    ``status``: ``"filled"``, ``"partially_filled"`` (the rest is cancelled:
    MetaTrader market orders are IOC/FOK), ``"accepted"`` (a pending order is
    working; for a recovered order it may since have been cancelled or expired,
    see ``lookup``), ``"rejected"`` (nothing was executed: ``reject_code`` and
    ``reject_message`` say why) or ``"unknown"`` (the reply was lost and the
    order could not be found yet: reconcile with ``find_by_client_order_id``).
    """

    status: str
    client_order_id: str
    broker_order_id: str | None = None
    deals: list[Deal] = field(default_factory=list)
    filled_volume: Decimal = Decimal(0)
    average_price: Decimal | None = None
    broker_position_id: str | None = None
    reject_code: str | None = None
    reject_message: str | None = None
    retcode: int | None = None
    attempts: int = 0  # order_send calls made
    recovered: bool = False  # determined by a lookup after a lost reply
    duplicate: bool = False  # the order already existed: nothing was sent
    lookup: OrderLookup | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of cancel / amend / modify_position."""

    ok: bool
    code: str  # "DONE", "NO_CHANGES", or a reject code
    message: str
    retcode: int | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    login: int
    currency: str
    balance: Decimal
    equity: Decimal
    margin: Decimal
    free_margin: Decimal
    margin_level: Decimal | None  # percent; None without open positions
    leverage: int
    profit: Decimal
    credit: Decimal
    margin_mode: str  # "hedging" | "netting" | "exchange"
    server: str
    trade_allowed: bool


class _Lost(Exception):
    """order_send returned None with an IPC error."""


# ------------------------------------------------------------------ client


class MT5TradingClient:
    """Trading on the account of the terminal ``client`` is attached to.

    Calls share the ``MT5Client``'s lock (the package has one IPC channel per
    process). Read calls reconnect and retry on IPC failures; ``order_send``
    is never retried blindly (see the module docstring). Methods raise
    :class:`~apps.marketdata.mt5.client.MT5ConnectionError` when the terminal
    cannot be reached, except ``submit``/``close_position``, which report it.
    """

    def __init__(
        self,
        client: MT5Client,
        *,
        requote_retries: int = 3,
        lookup_attempts: int = 3,
        lookup_delay: float = 0.5,
        dedupe_window: timedelta | None = timedelta(days=2),
        lookback: timedelta = timedelta(days=7),
        comment_prefix: str = COMMENT_PREFIX,
        comment_max_len: int = COMMENT_MAX_LEN,
        server_timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """
        ``server_timezone``: the IANA zone of the broker's server clock
        (``"Europe/Athens"`` for the usual UTC+2/+3), as for the MT5 feed.
        ``dedupe_window``: how far back ``submit`` looks for an order already
        sent under the same client order id (``None``: no check, one round
        trip less per order; lost replies are still looked up).
        ``clock`` (UTC seconds) and ``sleep`` exist for tests; ``sleep``
        defaults to the client's.
        """
        encode_client_order_id("x", prefix=comment_prefix, max_len=comment_max_len)  # validate
        self.client = client
        self.requote_retries = max(0, int(requote_retries))
        self.lookup_attempts = max(1, int(lookup_attempts))
        self.lookup_delay = float(lookup_delay)
        self.dedupe_window = dedupe_window
        self.lookback = lookback
        self.comment_prefix = comment_prefix
        self.comment_max_len = comment_max_len
        self.server_timezone = server_timezone
        self._tz = None if server_timezone == "UTC" else ZoneInfo(server_timezone)
        self._clock = clock
        self._sleep = sleep or getattr(client, "_sleep", time.sleep)
        # One IPC channel per process: share the market data client's lock.
        self._lock: threading.RLock = getattr(client, "_lock", None) or threading.RLock()
        self.sent = 0  # order_send calls made through this client

    # ---------------------------------------------------------------- plumbing

    @property
    def mt5(self) -> Any:
        return self.client.mt5

    def encode(self, client_order_id: str) -> str:
        """The comment for ``client_order_id`` (:func:`encode_client_order_id`)."""
        return encode_client_order_id(
            client_order_id, prefix=self.comment_prefix, max_len=self.comment_max_len
        )

    def _decode(self, comment: str) -> str | None:
        tag = decode_comment(comment, prefix=self.comment_prefix)
        return tag.client_order_id if tag else None

    def _last_error(self) -> tuple[int, str]:
        try:
            code, message = self.mt5.last_error()
            return int(code), str(message)
        except Exception:  # noqa: BLE001 - a broken module must not hide the original failure
            return (-1, "last_error() unavailable")

    def _read(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A read-only call: safe to repeat, so reconnect and retry on IPC failures.

        ``None`` with ``RES_S_OK`` (nothing to return) gives ``None``; any other
        failure raises :class:`MT5CallError` / :class:`MT5ConnectionError`.
        """
        client = self.client
        with self._lock:
            for attempt in range(client.call_retries + 1):
                client.ensure_connected()
                result = getattr(client.mt5, name)(*args, **kwargs)
                if result is not None:
                    return result
                code, message = self._last_error()
                if code in IPC_ERRORS:
                    logger.warning("MT5 %s lost the terminal: %s %s", name, code, message)
                    client.close()  # the next ensure_connected re-initializes
                    if attempt < client.call_retries:
                        continue
                    raise MT5ConnectionError(f"{name} failed: ({code}, {message!r})", code, message)
                if code == RES_S_OK:
                    return None
                raise MT5CallError(f"{name} failed: ({code}, {message!r})", code, message)
        raise AssertionError("unreachable")

    def _rows(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return tuple(self._read(name, *args, **kwargs) or ())

    def _send(self, request: dict[str, Any]) -> Any:
        """One ``order_send``, never retried here.

        A ``None`` reply raises :class:`_Lost` for an IPC failure (the request
        may have reached the server) and :class:`MT5CallError` otherwise (the
        binding refused the arguments: nothing was sent).
        """
        with self._lock:
            self.client.ensure_connected()  # MT5ConnectionError: nothing was sent
            self.sent += 1
            result = self.mt5.order_send(request)
            if result is not None:
                return result
            code, message = self._last_error()
            if code in IPC_ERRORS:
                self.client.close()
                raise _Lost(code, message)
            raise MT5CallError(f"order_send refused: ({code}, {message!r})", code, message)

    # ---------------------------------------------------------------- time

    def _now_us(self) -> int:
        return int(self._clock() * US)

    def _to_utc_us(self, server_msc: int) -> int:
        """A server wall-clock millisecond as UTC microseconds."""
        if self._tz is None:
            return int(server_msc) * 1000
        wall = datetime(1970, 1, 1) + timedelta(milliseconds=int(server_msc))
        offset = wall.replace(tzinfo=self._tz).utcoffset() or timedelta(0)
        return int(server_msc) * 1000 - int(offset.total_seconds()) * US

    def _to_server_s(self, utc_us: int) -> int:
        """UTC microseconds as server wall-clock seconds (floor)."""
        seconds = math.floor(utc_us / US)
        if self._tz is None:
            return seconds
        offset = datetime.fromtimestamp(seconds, self._tz).utcoffset() or timedelta(0)
        return seconds + int(offset.total_seconds())

    def _window(self, since_us: int) -> tuple[int, int]:
        """History request bounds (server seconds), a day wider on each side."""
        return (
            max(0, self._to_server_s(since_us) - 86_400),
            self._to_server_s(self._now_us()) + 86_400,
        )

    @staticmethod
    def _as_us(when: datetime | int) -> int:
        if isinstance(when, datetime):
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return int(when.timestamp() * US)
        return int(when)

    # ---------------------------------------------------------------- conversions

    def _our_symbol(self, broker_symbol: str) -> str:
        resolved = getattr(self.client, "_resolved", {})
        for ours, broker in resolved.items():
            if broker == broker_symbol:
                return ours
        return broker_symbol

    def _deal(self, row: Any) -> Deal:
        kind = DEAL_KINDS.get(int(row.type), "other")
        trade = kind == "trade"
        return Deal(
            broker_deal_id=str(row.ticket),
            broker_order_id=str(row.order),
            broker_position_id=str(row.position_id),
            symbol=self._our_symbol(row.symbol),
            broker_symbol=row.symbol,
            side=("buy" if int(row.type) == 0 else "sell") if trade else None,
            entry=DEAL_ENTRIES.get(int(row.entry), str(row.entry)),
            volume=_dec(row.volume),
            price=_dec(row.price),
            commission=_dec(row.commission),
            swap=_dec(row.swap),
            profit=_dec(row.profit),
            fee=_dec(getattr(row, "fee", 0.0)),
            time_us=self._to_utc_us(row.time_msc),
            magic=int(row.magic),
            reason=DEAL_REASONS.get(int(row.reason), str(row.reason)),
            comment=row.comment,
            client_order_id=self._decode(row.comment),
            kind=kind,
        )

    def _position(self, row: Any) -> Position:
        return Position(
            broker_position_id=str(row.ticket),
            identifier=str(row.identifier),
            symbol=self._our_symbol(row.symbol),
            broker_symbol=row.symbol,
            side="buy" if int(row.type) == POSITION_TYPE_BUY else "sell",
            volume=_dec(row.volume),
            price_open=_dec(row.price_open),
            price_current=_dec(row.price_current),
            sl=_opt(row.sl),
            tp=_opt(row.tp),
            swap=_dec(row.swap),
            profit=_dec(row.profit),
            magic=int(row.magic),
            comment=row.comment,
            client_order_id=self._decode(row.comment),
            time_us=self._to_utc_us(row.time_msc),
            time_update_us=self._to_utc_us(row.time_update_msc),
        )

    @staticmethod
    def _prices(row: Any) -> tuple[Decimal | None, Decimal | None]:
        """``(limit price, stop price)`` of an order row."""
        kind = ORDER_TYPES.get(int(row.type), ("", "market"))[1]
        if kind == "stop":
            return None, _opt(row.price_open)
        if kind == "stop_limit":
            return _opt(row.price_stoplimit), _opt(row.price_open)
        return _opt(row.price_open), None

    def _open_order(self, row: Any) -> OpenOrder:
        side, kind = ORDER_TYPES.get(int(row.type), ("", "other"))
        price, stop_price = self._prices(row)
        expiration = int(row.time_expiration)
        return OpenOrder(
            broker_order_id=str(row.ticket),
            symbol=self._our_symbol(row.symbol),
            broker_symbol=row.symbol,
            side=side,
            type=kind,
            volume=_dec(row.volume_initial),
            volume_remaining=_dec(row.volume_current),
            price=price,
            stop_price=stop_price,
            sl=_opt(row.sl),
            tp=_opt(row.tp),
            time_in_force=TIME_IN_FORCE.get(int(row.type_time), "GTC"),
            expire_at_us=self._to_utc_us(expiration * 1000) if expiration else None,
            magic=int(row.magic),
            comment=row.comment,
            client_order_id=self._decode(row.comment),
            time_setup_us=self._to_utc_us(row.time_setup_msc),
            state=int(row.state),
        )

    # ---------------------------------------------------------------- reads

    def positions(self, symbol: str | None = None, *, magic: int | None = None) -> list[Position]:
        """Open positions (of ``symbol``, and with ``magic``, when given), oldest first."""
        kwargs = {"symbol": self.client.resolve_symbol(symbol)} if symbol else {}
        rows = self._rows("positions_get", **kwargs)
        return [self._position(r) for r in rows if magic is None or int(r.magic) == magic]

    def open_orders(
        self, symbol: str | None = None, *, magic: int | None = None
    ) -> list[OpenOrder]:
        """Working pending orders, oldest first."""
        kwargs = {"symbol": self.client.resolve_symbol(symbol)} if symbol else {}
        rows = self._rows("orders_get", **kwargs)
        return [self._open_order(r) for r in rows if magic is None or int(r.magic) == magic]

    def deals_since(self, time_us: int, *, magic: int | None = None) -> list[Deal]:
        """Deals with ``time_us`` at or after the given UTC microsecond, oldest first.

        Inclusive (several deals may share a millisecond): de-duplicate on
        ``broker_deal_id``. Balance operations are included (``kind``).
        """
        start, end = self._window(time_us)
        rows = self._rows("history_deals_get", start, end)
        deals = [self._deal(r) for r in rows if magic is None or int(r.magic) == magic]
        deals = [d for d in deals if d.time_us >= time_us]
        deals.sort(key=lambda d: (d.time_us, int(d.broker_deal_id)))
        return deals

    def account(self) -> AccountSnapshot:
        info = self._read("account_info")
        if info is None:
            raise MT5CallError("account_info returned nothing")
        return AccountSnapshot(
            login=int(info.login),
            currency=info.currency,
            balance=_dec(info.balance),
            equity=_dec(info.equity),
            margin=_dec(info.margin),
            free_margin=_dec(info.margin_free),
            margin_level=_dec(info.margin_level) if info.margin else None,
            leverage=int(info.leverage),
            profit=_dec(info.profit),
            credit=_dec(info.credit),
            margin_mode=ACCOUNT_MARGIN_MODES.get(int(info.margin_mode), str(info.margin_mode)),
            server=info.server,
            trade_allowed=bool(info.trade_allowed),
        )

    def _order_deals(self, ticket: int, since_us: int | None = None) -> list[Deal]:
        rows = [r for r in self._rows("history_deals_get", ticket=ticket) if r.order == ticket]
        if not rows and since_us is not None:
            start, end = self._window(since_us)
            rows = [r for r in self._rows("history_deals_get", start, end) if r.order == ticket]
        deals = [self._deal(r) for r in rows]
        deals.sort(key=lambda d: (d.time_us, int(d.broker_deal_id)))
        return deals

    def find_by_client_order_id(
        self,
        client_order_id: str,
        *,
        magic: int | None = None,
        since: datetime | int | None = None,
    ) -> OrderLookup | None:
        """The order whose comment carries ``client_order_id`` (and ``magic``), with its deals.

        Searches the working orders, then the order history since ``since``
        (UTC; default: ``lookback`` ago), then the deals of that period (an
        order may be missing from the order history while its deals are
        there). The latest match wins. ``None`` if there is none.
        """
        comment = self.encode(client_order_id)
        since_us = (
            self._as_us(since)
            if since is not None
            else self._now_us() - int(self.lookback.total_seconds() * US)
        )

        def ours(row: Any) -> bool:
            return row.comment == comment and (magic is None or int(row.magic) == magic)

        open_rows = [r for r in self._rows("orders_get") if ours(r)]
        if open_rows:
            row = max(open_rows, key=lambda r: (r.time_setup_msc, r.ticket))
            return self._lookup(client_order_id, row, is_open=True, since_us=since_us)
        start, end = self._window(since_us)
        history = [r for r in self._rows("history_orders_get", start, end) if ours(r)]
        if not history:
            deals = [r for r in self._rows("history_deals_get", start, end) if ours(r)]
            tickets = sorted({int(d.order) for d in deals if d.order})
            for ticket in tickets:
                history += list(self._rows("history_orders_get", ticket=ticket))
            if not history and deals:  # deals without their order: report what we have
                return self._lookup_from_deals(client_order_id, deals)
        if not history:
            return None
        row = max(history, key=lambda r: (r.time_setup_msc, r.ticket))
        return self._lookup(client_order_id, row, is_open=False, since_us=since_us)

    def _lookup(
        self, client_order_id: str, row: Any, *, is_open: bool, since_us: int
    ) -> OrderLookup:
        ticket = int(row.ticket)
        untouched = is_open and float(row.volume_current) == float(row.volume_initial)
        deals = [] if untouched else self._order_deals(ticket, since_us)
        filled = sum((d.volume for d in deals if d.kind == "trade"), Decimal(0))
        volume = _dec(row.volume_initial)
        state = int(row.state)
        if not deals and state in (ORDER_STATE_FILLED, ORDER_STATE_PARTIAL):
            filled = volume - _dec(row.volume_current)  # deals not synchronised yet
        side, kind = ORDER_TYPES.get(int(row.type), ("", "other"))
        if is_open:
            status = "partially_filled" if filled else "accepted"
        elif state == ORDER_STATE_REJECTED:
            status = "rejected"
        elif state == ORDER_STATE_EXPIRED:
            status = "expired"
        elif filled and filled >= volume:
            status = "filled"
        elif filled:
            status = "partially_filled"  # e.g. IOC: the rest was cancelled
        elif state in (ORDER_STATE_CANCELED, ORDER_STATE_PARTIAL, ORDER_STATE_FILLED):
            status = "cancelled"
        else:
            status = "accepted"  # started / being processed
        price, stop_price = self._prices(row)
        position = next((d.broker_position_id for d in deals if d.kind == "trade"), None)
        if position is None and int(row.position_id):
            position = str(row.position_id)
        return OrderLookup(
            client_order_id=client_order_id,
            broker_order_id=str(ticket),
            status=status,
            is_open=is_open,
            state=state,
            symbol=self._our_symbol(row.symbol),
            broker_symbol=row.symbol,
            side=side,
            type=kind,
            volume=volume,
            filled_volume=filled,
            average_price=self._average(deals),
            price=price,
            stop_price=stop_price,
            sl=_opt(row.sl),
            tp=_opt(row.tp),
            magic=int(row.magic),
            comment=row.comment,
            time_setup_us=self._to_utc_us(row.time_setup_msc),
            time_done_us=self._to_utc_us(row.time_done_msc) if row.time_done_msc else None,
            broker_position_id=position,
            deals=deals,
        )

    def _lookup_from_deals(self, client_order_id: str, rows: list[Any]) -> OrderLookup:
        deals = sorted((self._deal(r) for r in rows), key=lambda d: (d.time_us, d.broker_deal_id))
        first = deals[0]
        filled = sum((d.volume for d in deals), Decimal(0))
        return OrderLookup(
            client_order_id=client_order_id, broker_order_id=first.broker_order_id,
            status="filled", is_open=False, state=ORDER_STATE_FILLED, symbol=first.symbol,
            broker_symbol=first.broker_symbol, side=first.side or "", type="market",
            volume=filled, filled_volume=filled, average_price=self._average(deals), price=None,
            stop_price=None, sl=None, tp=None, magic=first.magic, comment=first.comment,
            time_setup_us=first.time_us, time_done_us=deals[-1].time_us,
            broker_position_id=first.broker_position_id, deals=deals,
        )  # fmt: skip

    @staticmethod
    def _average(deals: list[Deal]) -> Decimal | None:
        trades = [d for d in deals if d.kind == "trade" and d.volume]
        total = sum((d.volume for d in trades), Decimal(0))
        if not total:
            return None
        return sum((d.price * d.volume for d in trades), Decimal(0)) / total

    # ---------------------------------------------------------------- submit

    def submit(
        self,
        *,
        client_order_id: str,
        symbol: str,
        side: str,
        type: str,  # the platform's field name
        volume: Decimal,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        sl: Decimal | None = None,
        tp: Decimal | None = None,
        time_in_force: str = "GTC",
        expire_at: datetime | int | None = None,
        deviation_points: int = 20,
        magic: int,
    ) -> SubmitResult:
        """Send an order, exactly once (see the module docstring).

        ``market`` orders fill at the ask (buy) / bid (sell) within
        ``deviation_points``; ``time_in_force`` ``IOC``/``FOK`` choose the
        filling policy, ``GTC``/``GTD`` let the symbol's allowed policy decide
        (FOK, else IOC, else RETURN). ``limit`` needs ``price``, ``stop``
        ``stop_price``, ``stop_limit`` both (MetaTrader's ``price`` is our stop,
        its ``stoplimit`` our limit); they rest ``GTC``, or ``GTD`` until
        ``expire_at`` (UTC ``datetime`` or microseconds). ``sl``/``tp`` are
        absolute prices. Prices must lie on the symbol's grid (``digits``).

        Raises ``ValueError`` for arguments that are wrong whatever the broker
        (unknown side/type/time in force, missing prices, volume <= 0).
        """
        if side not in SIDES:
            raise ValueError(f"side is one of {SIDES}, not {side!r}")
        if type not in TYPES:
            raise ValueError(f"type is one of {TYPES}, not {type!r}")
        if time_in_force not in TIMES_IN_FORCE:
            raise ValueError(f"time_in_force is one of {TIMES_IN_FORCE}, not {time_in_force!r}")
        if not volume > 0:
            raise ValueError("volume must be positive")
        if type in ("limit", "stop_limit") and price is None:
            raise ValueError(f"a {type} order needs a price")
        if type in ("stop", "stop_limit") and stop_price is None:
            raise ValueError(f"a {type} order needs a stop_price")
        if time_in_force == "GTD" and expire_at is None:
            raise ValueError("a GTD order needs expire_at")
        comment = self.encode(client_order_id)
        context: dict[str, Any] = {"symbol": symbol, "volume": volume, "tif": time_in_force}

        def reject(code: str, **extra: Any) -> SubmitResult:
            return self._rejected(client_order_id, code, {**context, **extra})

        try:
            broker = self.client.resolve_symbol(symbol)
            info = self._read("symbol_info", broker)
        except MT5SymbolNotFound:
            return reject("UNKNOWN_SYMBOL")
        except MT5ConnectionError:
            return reject("NO_CONNECTION")
        except MT5Error as exc:
            return self._rejected(client_order_id, "TERMINAL_ERROR", context, message=str(exc))
        if info is None:
            return reject("UNKNOWN_SYMBOL")
        context.update(self._symbol_context(info))
        digits = int(info.digits)
        for name, value in (("price", price), ("stop_price", stop_price), ("sl", sl), ("tp", tp)):
            if value is not None and _to_dec(value) != round(_to_dec(value), digits):
                return self._rejected(
                    client_order_id, "INVALID_PRICE", context,
                    message=f"{name} {value} has more than {digits} decimals for {symbol}.",
                )  # fmt: skip
        is_buy = side == "buy"
        request: dict[str, Any] = {
            "symbol": broker, "volume": float(volume), "sl": float(sl or 0), "tp": float(tp or 0),
            "magic": int(magic), "comment": comment,
        }  # fmt: skip
        flags = int(info.filling_mode)
        if type == "market":
            request.update(
                action=TRADE_ACTION_DEAL,
                type=ORDER_TYPE_BUY if is_buy else ORDER_TYPE_SELL,
                deviation=int(deviation_points),
                type_time=ORDER_TIME_GTC,
                type_filling=self._market_filling(time_in_force, flags),
            )
        else:
            if time_in_force in ("IOC", "FOK"):
                return reject("INVALID_TIF")
            order_type = {
                "limit": (ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT),
                "stop": (ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP),
                "stop_limit": (ORDER_TYPE_BUY_STOP_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT),
            }[type][0 if is_buy else 1]
            request.update(
                action=TRADE_ACTION_PENDING,
                type=order_type,
                price=float(price if type == "limit" else stop_price),  # type: ignore[arg-type]
                type_filling=(
                    self._market_filling("GTC", flags) if type == "stop" else ORDER_FILLING_RETURN
                ),
                type_time=ORDER_TIME_GTC,
            )
            if type == "stop_limit":
                request["stoplimit"] = float(price)  # type: ignore[arg-type]
            if time_in_force == "GTD":
                expire_us = self._as_us(expire_at)  # type: ignore[arg-type]
                request["type_time"] = ORDER_TIME_SPECIFIED
                request["expiration"] = self._to_server_s(expire_us + US - 1)  # ceil
        return self._submit(
            request, client_order_id=client_order_id, magic=int(magic), market=type == "market",
            context=context,
        )  # fmt: skip

    @staticmethod
    def _market_filling(time_in_force: str, flags: int) -> int:
        if time_in_force == "FOK":
            return ORDER_FILLING_FOK
        if time_in_force == "IOC":
            return ORDER_FILLING_IOC
        if flags & SYMBOL_FILLING_FOK:
            return ORDER_FILLING_FOK
        if flags & SYMBOL_FILLING_IOC:
            return ORDER_FILLING_IOC
        return ORDER_FILLING_RETURN

    @staticmethod
    def _symbol_context(info: Any) -> dict[str, Any]:
        return {
            "volume_min": _dec(info.volume_min),
            "volume_step": _dec(info.volume_step),
            "volume_max": _dec(info.volume_max),
            "stops_level": int(info.trade_stops_level),
        }

    def close_position(
        self,
        position_ticket: int | str,
        volume: Decimal | None = None,
        deviation_points: int = 20,
        *,
        client_order_id: str,
        magic: int | None = None,
    ) -> SubmitResult:
        """Close ``volume`` (default: all) of a position with an opposite market deal.

        Exactly once, like :meth:`submit` (closing twice would close more);
        ``magic`` defaults to the position's.
        """
        ticket = int(position_ticket)
        context: dict[str, Any] = {"position": ticket, "volume": volume, "symbol": "?"}
        try:
            rows = self._rows("positions_get", ticket=ticket)
            row = next((r for r in rows if int(r.ticket) == ticket), None)
            # Already closed by this very client order id (a retry after a lost reply)?
            found = self.find_by_client_order_id(client_order_id) if row is None else None
            info = self._read("symbol_info", row.symbol) if row is not None else None
        except MT5ConnectionError:
            return self._rejected(client_order_id, "NO_CONNECTION", context)
        except MT5Error as exc:
            return self._rejected(client_order_id, "TERMINAL_ERROR", context, message=str(exc))
        if row is None:
            if found is not None:
                return self._from_lookup(found, attempts=0, duplicate=True)
            return self._rejected(client_order_id, "POSITION_NOT_FOUND", context)
        context["symbol"] = self._our_symbol(row.symbol)
        if volume is None:
            volume = _dec(row.volume)
        context["volume"] = volume
        is_buy = int(row.type) == POSITION_TYPE_BUY
        flags = int(info.filling_mode) if info is not None else SYMBOL_FILLING_IOC
        if info is not None:
            context.update(self._symbol_context(info))
        request = {
            "action": TRADE_ACTION_DEAL, "symbol": row.symbol, "volume": float(volume),
            "type": ORDER_TYPE_SELL if is_buy else ORDER_TYPE_BUY, "position": ticket,
            "deviation": int(deviation_points), "type_time": ORDER_TIME_GTC,
            "type_filling": self._market_filling("GTC", flags),
            "magic": int(row.magic if magic is None else magic),
            "comment": self.encode(client_order_id),
        }  # fmt: skip
        return self._submit(
            request, client_order_id=client_order_id, magic=request["magic"], market=True,
            context=context,
        )  # fmt: skip

    def _submit(
        self,
        request: dict[str, Any],
        *,
        client_order_id: str,
        magic: int,
        market: bool,
        context: dict[str, Any],
        resend_allowed: bool = True,
    ) -> SubmitResult:
        started_us = self._now_us()
        existing = None
        try:
            if self.dedupe_window is not None:
                since = started_us - int(self.dedupe_window.total_seconds() * US)
                existing = self.find_by_client_order_id(client_order_id, magic=magic, since=since)
        except MT5ConnectionError:
            return self._rejected(client_order_id, "NO_CONNECTION", context)
        except MT5Error as exc:
            return self._rejected(client_order_id, "TERMINAL_ERROR", context, message=str(exc))
        if existing is not None:
            logger.warning("MT5 order %s already exists: not sent again", client_order_id)
            return self._from_lookup(existing, attempts=0, duplicate=True)
        attempts = 0
        result = None
        for attempt in range(self.requote_retries + 1 if market else 1):
            if market:
                try:
                    tick = self._read("symbol_info_tick", request["symbol"])
                except MT5ConnectionError:
                    return self._rejected(
                        client_order_id, "NO_CONNECTION", context, attempts=attempts
                    )
                except MT5Error:
                    tick = None
                if tick is None or not tick.bid or not tick.ask:
                    return self._rejected(client_order_id, "PRICE_OFF", context, attempts=attempts)
                request["price"] = float(
                    tick.ask if request["type"] == ORDER_TYPE_BUY else tick.bid
                )
            try:
                attempts += 1
                result = self._send(request)
            except MT5ConnectionError:  # could not attach: this attempt sent nothing
                return self._rejected(
                    client_order_id, "NO_CONNECTION", context, attempts=attempts - 1
                )
            except MT5CallError as exc:
                auto = exc.code == RES_E_AUTO_TRADING_DISABLED
                code = "AUTOTRADING_DISABLED" if auto else "INVALID_REQUEST"
                return self._rejected(
                    client_order_id, code, context, attempts=attempts,
                    message=f"{REJECT_MESSAGES[code]} ({exc.code}, {exc.mt5_message!r})",
                )  # fmt: skip
            except _Lost as lost:
                code, message = lost.args
                return self._recover(
                    request, client_order_id=client_order_id, magic=magic, market=market,
                    context=context, started_us=started_us, attempts=attempts, error=code,
                    resend_allowed=resend_allowed,
                )  # fmt: skip
            if int(result.retcode) in REQUOTE_RETCODES and attempt < self.requote_retries:
                logger.info("MT5 %s for %s: retrying", result.comment, client_order_id)
                continue
            break
        retcode = int(result.retcode)
        if retcode == TRADE_RETCODE_TIMEOUT or (retcode in DONE_RETCODES and not result.order):
            # The server may have executed it: find out rather than guess.
            return self._recover(
                request, client_order_id=client_order_id, magic=magic, market=market,
                context=context, started_us=started_us, attempts=attempts, error=None,
                resend_allowed=False,
            )  # fmt: skip
        if retcode not in DONE_RETCODES:
            code = RETCODE_NAMES.get(retcode, str(retcode))
            return self._rejected(
                client_order_id, code, {**context, "attempts": attempts}, attempts=attempts,
                retcode=retcode, server_comment=result.comment,
            )  # fmt: skip
        ticket = int(result.order)
        if not market:
            return SubmitResult(
                status="accepted", client_order_id=client_order_id, broker_order_id=str(ticket),
                retcode=retcode, attempts=attempts,
            )  # fmt: skip
        try:
            deals = [d for d in self._order_deals(ticket, started_us) if d.kind == "trade"]
        except MT5Error:  # executed: report it whatever the history read does
            deals = []
        if not deals and result.deal:  # history not synchronised yet: the reply's figures
            deals = [self._deal_from_result(result, request)]
        filled = sum((d.volume for d in deals), Decimal(0)) or _dec(result.volume)
        requested = Decimal(repr(request["volume"]))
        return SubmitResult(
            status="filled" if filled >= requested else "partially_filled",
            client_order_id=client_order_id,
            broker_order_id=str(ticket),
            deals=deals,
            filled_volume=filled,
            average_price=self._average(deals),
            broker_position_id=deals[0].broker_position_id if deals else None,
            retcode=retcode,
            attempts=attempts,
        )

    def _deal_from_result(self, result: Any, request: dict[str, Any]) -> Deal:
        comment = request.get("comment", "")
        return Deal(
            broker_deal_id=str(result.deal), broker_order_id=str(result.order),
            broker_position_id=str(request.get("position") or result.order),
            symbol=self._our_symbol(request["symbol"]), broker_symbol=request["symbol"],
            side="buy" if request["type"] == ORDER_TYPE_BUY else "sell",
            entry="out" if request.get("position") else "in",
            volume=_dec(result.volume), price=_dec(result.price), commission=Decimal(0),
            swap=Decimal(0), profit=Decimal(0), fee=Decimal(0), time_us=self._now_us(),
            magic=int(request.get("magic", 0)), reason="expert", comment=comment,
            client_order_id=self._decode(comment),
        )  # fmt: skip

    def _recover(
        self,
        request: dict[str, Any],
        *,
        client_order_id: str,
        magic: int,
        market: bool,
        context: dict[str, Any],
        started_us: int,
        attempts: int,
        error: int | None,
        resend_allowed: bool,
    ) -> SubmitResult:
        """The reply was lost: reconnect and find out what the server did."""
        not_sent = error in NOT_SENT_IPC_ERRORS
        logger.warning("MT5 reply lost for %s (error %s): looking it up", client_order_id, error)
        since = started_us - 60 * US
        for lookup in range(self.lookup_attempts):
            if lookup:
                self._sleep(self.lookup_delay)
            try:
                found = self.find_by_client_order_id(client_order_id, magic=magic, since=since)
            except MT5Error as exc:  # never raise: the order may exist
                return SubmitResult(
                    status="unknown", client_order_id=client_order_id, attempts=attempts,
                    reject_message=(
                        f"The reply to order_send was lost and the terminal cannot be reached "
                        f"({exc.code}): reconcile with find_by_client_order_id."
                    ),
                )  # fmt: skip
            if found is not None:
                return self._from_lookup(found, attempts=attempts, recovered=True)
            if not_sent:
                break
        if not_sent and resend_allowed:
            logger.warning("MT5 order %s never left: sending it once more", client_order_id)
            result = self._submit(
                request, client_order_id=client_order_id, magic=magic, market=market,
                context=context, resend_allowed=False,
            )  # fmt: skip
            return replace(result, attempts=result.attempts + attempts)
        if not_sent:
            return self._rejected(client_order_id, "NOT_SENT", context, attempts=attempts)
        return SubmitResult(
            status="unknown", client_order_id=client_order_id, attempts=attempts,
            reject_message=(
                f"The reply to order_send was lost and no order with comment "
                f"{self.encode(client_order_id)!r} was found after {self.lookup_attempts} "
                f"lookups: reconcile with find_by_client_order_id."
            ),
        )  # fmt: skip

    def _from_lookup(
        self, found: OrderLookup, *, attempts: int, recovered: bool = False, duplicate: bool = False
    ) -> SubmitResult:
        if found.status in ("filled", "partially_filled"):
            status = found.status
        elif found.type == "market" and found.status in ("cancelled", "rejected", "expired"):
            status = "rejected"
        else:
            status = "accepted"  # a pending order the server took (it may have ended since)
        trades = [d for d in found.deals if d.kind == "trade"]
        return SubmitResult(
            status=status,
            client_order_id=found.client_order_id,
            broker_order_id=found.broker_order_id,
            deals=trades,
            filled_volume=found.filled_volume,
            average_price=found.average_price,
            broker_position_id=found.broker_position_id,
            reject_code="REJECT" if status == "rejected" else None,
            reject_message=REJECT_MESSAGES["REJECT"] if status == "rejected" else None,
            attempts=attempts,
            recovered=recovered,
            duplicate=duplicate,
            lookup=found,
        )

    def _rejected(
        self,
        client_order_id: str,
        code: str,
        context: dict[str, Any],
        *,
        attempts: int = 0,
        retcode: int | None = None,
        server_comment: str | None = None,
        message: str | None = None,
    ) -> SubmitResult:
        if message is None:
            template = REJECT_MESSAGES.get(code, "The broker rejected the order ({code}).")
            try:
                message = template.format(**{"attempts": attempts, "code": code, **context})
            except (KeyError, IndexError):
                message = template.split("{")[0].strip() or code
            if retcode is not None:
                message += f" [MT5 {retcode}: {server_comment}]"
        return SubmitResult(
            status="rejected", client_order_id=client_order_id, reject_code=code,
            reject_message=message[:300], retcode=retcode, attempts=attempts,
        )  # fmt: skip

    # ---------------------------------------------------------------- changes

    def _act(
        self, request: dict[str, Any], applied: Callable[[], bool | None], what: str
    ) -> ActionResult:
        """Send an idempotent change (remove, modify, SL/TP).

        After a lost reply, ``applied()`` re-reads the state: ``True`` done,
        ``False`` not done (so sending again is safe), ``None`` moot (e.g. the
        order is gone). Sent at most twice.
        """
        for attempt in range(2):
            try:
                result = self._send(request)
            except MT5ConnectionError as exc:
                return ActionResult(False, "NO_CONNECTION", f"{what}: {exc}")
            except MT5CallError as exc:
                return ActionResult(False, "INVALID_REQUEST", f"{what}: {exc}")
            except _Lost:
                try:
                    done = applied()
                except MT5Error as exc:
                    return ActionResult(False, "UNKNOWN", f"{what}: reply lost, {exc}")
                if done:
                    return ActionResult(
                        True, "DONE", f"{what}: done (confirmed after a lost reply)"
                    )
                if done is None or attempt:
                    return ActionResult(False, "UNKNOWN", f"{what}: reply lost, state unclear")
                continue
            retcode = int(result.retcode)
            if retcode in DONE_RETCODES or retcode == TRADE_RETCODE_NO_CHANGES:
                code = "NO_CHANGES" if retcode == TRADE_RETCODE_NO_CHANGES else "DONE"
                return ActionResult(True, code, f"{what}: {result.comment}", retcode)
            code = RETCODE_NAMES.get(retcode, str(retcode))
            text = REJECT_MESSAGES.get(code, "The broker rejected the request.")
            return ActionResult(
                False, code, f"{what}: {text.split('{')[0].strip()} [MT5 {retcode}: "
                f"{result.comment}]", retcode,
            )  # fmt: skip
        raise AssertionError("unreachable")

    def _history_order(self, ticket: int) -> Any:
        rows = self._rows("history_orders_get", ticket=ticket)
        return next((r for r in rows if int(r.ticket) == ticket), None)

    def _gone(self, ticket: int) -> ActionResult:
        row = self._history_order(ticket)
        if row is None:
            return ActionResult(False, "ORDER_NOT_FOUND", f"No order {ticket}.")
        state = int(row.state)
        if state == ORDER_STATE_FILLED:
            return ActionResult(False, "ALREADY_FILLED", f"Order {ticket} was already filled.")
        return ActionResult(False, "ALREADY_CLOSED", f"Order {ticket} is no longer open ({state}).")

    def cancel(self, broker_order_id: int | str) -> ActionResult:
        """Delete a pending order. Cancelling an order already cancelled is ``ok``."""
        ticket = int(broker_order_id)

        def applied() -> bool | None:
            if any(int(r.ticket) == ticket for r in self._rows("orders_get", ticket=ticket)):
                return False
            row = self._history_order(ticket)
            return None if row is None else int(row.state) == ORDER_STATE_CANCELED

        if not any(int(r.ticket) == ticket for r in self._rows("orders_get", ticket=ticket)):
            row = self._history_order(ticket)
            if row is not None and int(row.state) == ORDER_STATE_CANCELED:
                return ActionResult(True, "DONE", f"Order {ticket} was already cancelled.")
            return self._gone(ticket)
        return self._act({"action": TRADE_ACTION_REMOVE, "order": ticket}, applied, "cancel")

    def amend(
        self,
        broker_order_id: int | str,
        price: Decimal | None = None,
        sl: Decimal | None = None,
        tp: Decimal | None = None,
        expire_at: datetime | int | None = None,
        *,
        stop_price: Decimal | None = None,
    ) -> ActionResult:
        """Change a pending order. ``None`` keeps a value; ``sl``/``tp`` of 0 remove them.

        ``price`` is the limit price (limit, stop-limit), ``stop_price`` the
        trigger (stop, stop-limit); ``expire_at`` makes the order GTD.
        """
        ticket = int(broker_order_id)
        row = next((r for r in self._rows("orders_get", ticket=ticket) if r.ticket == ticket), None)
        if row is None:
            return self._gone(ticket)
        kind = ORDER_TYPES.get(int(row.type), ("", "other"))[1]
        if kind == "stop" and price is not None and stop_price is None:
            price, stop_price = None, price  # a stop order has one price: its trigger
        new_price = float(row.price_open)
        stoplimit = float(row.price_stoplimit)
        if kind == "limit" and price is not None:
            new_price = float(price)
        elif kind == "stop_limit":
            stoplimit = float(price) if price is not None else stoplimit
            new_price = float(stop_price) if stop_price is not None else new_price
        elif kind == "stop" and stop_price is not None:
            new_price = float(stop_price)
        type_time, expiration = int(row.type_time), int(row.time_expiration)
        if expire_at is not None:
            type_time = ORDER_TIME_SPECIFIED
            expiration = self._to_server_s(self._as_us(expire_at) + US - 1)
        request = {
            "action": TRADE_ACTION_MODIFY, "order": ticket, "symbol": row.symbol,
            "price": new_price, "stoplimit": stoplimit,
            "sl": float(row.sl) if sl is None else float(sl),
            "tp": float(row.tp) if tp is None else float(tp),
            "type_time": type_time, "expiration": expiration,
        }  # fmt: skip
        wanted = (request["price"], request["stoplimit"], request["sl"], request["tp"])

        def applied() -> bool | None:
            rows = self._rows("orders_get", ticket=ticket)
            now = next((r for r in rows if int(r.ticket) == ticket), None)
            if now is None:
                return None
            return (float(now.price_open), float(now.price_stoplimit), float(now.sl),
                    float(now.tp)) == wanted  # fmt: skip

        return self._act(request, applied, f"amend order {ticket}")

    def modify_position(
        self, position_ticket: int | str, sl: Decimal | None = None, tp: Decimal | None = None
    ) -> ActionResult:
        """Set a position's SL/TP. ``None`` keeps a value, 0 removes it."""
        ticket = int(position_ticket)
        rows = self._rows("positions_get", ticket=ticket)
        row = next((r for r in rows if int(r.ticket) == ticket), None)
        if row is None:
            return ActionResult(False, "POSITION_NOT_FOUND", f"No open position {ticket}.")
        request = {
            "action": TRADE_ACTION_SLTP, "position": ticket, "symbol": row.symbol,
            "sl": float(row.sl) if sl is None else float(sl),
            "tp": float(row.tp) if tp is None else float(tp),
            "magic": int(row.magic),
        }  # fmt: skip

        def applied() -> bool | None:
            now = next(
                (r for r in self._rows("positions_get", ticket=ticket) if int(r.ticket) == ticket),
                None,
            )
            if now is None:
                return None
            return (float(now.sl), float(now.tp)) == (request["sl"], request["tp"])

        return self._act(request, applied, f"modify position {ticket}")

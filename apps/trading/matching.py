"""Matching engine of the paper broker.

Pure Python on ``Decimal`` (never ``float``): no Django, no database, no I/O.
The trading services map order rows to :class:`PaperOrder`, call
:meth:`MatchingEngine.submit` when an order is placed and
:meth:`MatchingEngine.on_quote` for every quote of its instrument, then save
the orders (the engine updates them in place) and record the returned
executions and status transitions. Times are ``int`` UTC microseconds.

The engine keeps no state about orders: everything it needs between two calls
lives on the :class:`PaperOrder` (``filled``, ``triggered``, ``resting``,
``terminal``), so the caller must persist those four fields.

Prices
    Execution prices are rounded to ``config.digits`` (ROUND_HALF_EVEN). Order
    prices (``price``, ``stop_price``) must already lie on that grid
    (``ValueError`` otherwise), so a limit price is never rounded past itself.
    Slippage is adverse: ``slippage_points * point`` added to a buy's price,
    subtracted from a sell's.

Liquidity: taker and maker
    *Taker* fills cross the spread: a buy at the ask, a sell at the bid, plus
    slippage. *Maker* fills are of a resting limit order that the market came
    to: at the limit price exactly, no slippage.

Market orders
    Buy fills at ask + slippage, sell at bid − slippage; taker.

Limit orders
    Executable when ``ask <= price`` (buy) or ``bid >= price`` (sell).

    - An order that is marketable when it reaches the market (on submission,
      on the first quote after its latency, when a stop-limit triggers) takes
      liquidity: it fills at ask + slippage, capped at the limit (buy; sell
      mirror: bid − slippage, floored at the limit); taker. Slippage applies
      because the order crosses the spread like a market order; otherwise a
      limit far through the market would be a market order that never
      slips. The cap is the limit order's guarantee.
    - An order evaluated on a quote where it is *not* marketable joins the book
      (``resting = True``). When a later quote reaches or crosses its price,
      it fills at the limit price; maker, no slippage. Quotes are samples: the
      market must have passed through the limit on its way, and in a real book
      a resting order trades at its own price. So a gap through a resting
      limit gives no price improvement (conservative for a paper account).
    - A marketable order cut short by ``liquidity_lots_per_tick`` keeps taking
      at the quote on the next quotes while it stays marketable; it rests only
      once it meets a quote on which it is not.

Stop orders
    Trigger when ``ask >= stop_price`` (buy) or ``bid <= stop_price`` (sell);
    then fill as a market order on that same quote: ask + slippage / bid −
    slippage, taker. A gap through the stop fills at the (worse) market price,
    never at the stop. A stop whose condition already holds when it reaches
    the market triggers at once. Triggering sets ``triggered`` and emits a
    ``"triggered"`` transition (for plain stops as well, so that a triggered
    stop partly filled for lack of liquidity continues as a market order).

Stop-limit orders
    Trigger like stops (``"triggered"`` transition), then become a limit order
    entering the market on that quote: if marketable it fills at once as a
    taker (capped at the limit); otherwise it rests and fills later at its
    limit price as maker.

Latency
    An order submitted at ``submitted_at_us`` reaches the market at
    ``submitted_at_us + latency_us``. With ``latency_us > 0``, :meth:`submit`
    never executes; the first :meth:`on_quote` with
    ``quote.time_us >= submitted_at_us + latency_us`` is the first quote the
    order is evaluated on (for a market order: filled at that quote). Quotes
    before that are ignored by the order (GTD expiry excepted).

No quote
    :meth:`submit` without a quote (latency 0): the order waits for the first
    quote; market and limit IOC/FOK orders cannot, and are cancelled with
    ``NO_QUOTE`` (whatever the latency: there is no market to execute against).

Time in force
    - ``GTC`` rests until filled (or cancelled by the caller).
    - ``GTD`` as GTC, but expires (``"expired"``, ``EXPIRED_GTD``) on the first
      quote with ``time_us >= expire_at_us``, without filling on that quote;
      on :meth:`submit` when ``now_us >= expire_at_us``. Expiry is checked
      before latency.
    - ``IOC`` is evaluated once, on its first executable quote: the first quote
      it is evaluated on (market, limit) or the quote that triggers it (stop,
      stop-limit: before triggering it waits like GTC). It fills what it can
      (price and liquidity) and the rest is cancelled (``IOC_REMAINDER``),
      including all of it when a limit is not marketable.
    - ``FOK`` likewise, but fills the whole remainder in one execution or
      nothing: cancelled with ``FOK_NOT_FILLABLE`` when the limit is not
      marketable or the quote's liquidity is smaller than the remainder.

Partial fills
    With ``liquidity_lots_per_tick`` an order fills at most that many lots
    (rounded down to ``lot_step``) on one quote; each order has its own
    allowance. Every execution that leaves a remainder emits
    ``"partially_filled"``, the one that completes the order ``"filled"``;
    later quotes continue filling. An IOC partly filled emits
    ``"partially_filled"`` then ``"cancelled"``.

Invariants
    ``0 <= filled <= quantity``; quantities and fills are multiples of
    ``lot_step``; the executions returned for an order sum to the increase of
    its ``filled``. An order becomes ``terminal`` when filled, cancelled or
    expired, and a terminal (or fully filled) order is skipped: it never
    executes again. Orders are validated before any is touched, so a
    ``ValueError`` leaves every order unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

__all__ = [
    "BUY",
    "SELL",
    "MARKET",
    "LIMIT",
    "STOP",
    "STOP_LIMIT",
    "GTC",
    "GTD",
    "IOC",
    "FOK",
    "TAKER",
    "MAKER",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELLED",
    "EXPIRED",
    "TRIGGERED",
    "IOC_REMAINDER",
    "FOK_NOT_FILLABLE",
    "EXPIRED_GTD",
    "NO_QUOTE",
    "Quote",
    "PaperConfig",
    "PaperOrder",
    "Execution",
    "Transition",
    "MatchingEngine",
]

BUY, SELL = "buy", "sell"
MARKET, LIMIT, STOP, STOP_LIMIT = "market", "limit", "stop", "stop_limit"
GTC, GTD, IOC, FOK = "GTC", "GTD", "IOC", "FOK"
TAKER, MAKER = "taker", "maker"
PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED, TRIGGERED = (
    "partially_filled",
    "filled",
    "cancelled",
    "expired",
    "triggered",
)
IOC_REMAINDER = "IOC_REMAINDER"
FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"
EXPIRED_GTD = "EXPIRED_GTD"
NO_QUOTE = "NO_QUOTE"

SIDES = (BUY, SELL)
TYPES = (MARKET, LIMIT, STOP, STOP_LIMIT)
TIMES_IN_FORCE = (GTC, GTD, IOC, FOK)
ZERO = Decimal(0)


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")


@dataclass(frozen=True)
class Quote:
    """Top of book at ``time_us``. ``bid <= ask``, both positive."""

    time_us: int
    bid: Decimal
    ask: Decimal

    def __post_init__(self) -> None:
        _require_decimal("bid", self.bid)
        _require_decimal("ask", self.ask)
        if not self.bid > ZERO or self.ask < self.bid:
            raise ValueError(f"invalid quote bid={self.bid} ask={self.ask}")


@dataclass(frozen=True)
class PaperConfig:
    """Execution model of one instrument."""

    point: Decimal  # instrument point, e.g. Decimal("0.00001")
    digits: int  # execution prices are rounded (ROUND_HALF_EVEN) to these digits
    slippage_points: int = 0  # adverse slippage of taker fills
    latency_us: int = 0  # an order reaches the market this long after submission
    liquidity_lots_per_tick: Decimal | None = None  # max lots per order per quote
    lot_step: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        _require_decimal("point", self.point)
        _require_decimal("lot_step", self.lot_step)
        if not self.point > ZERO:
            raise ValueError("point must be positive")
        if self.digits < 0:
            raise ValueError("digits must not be negative")
        if self.slippage_points < 0:
            raise ValueError("slippage_points must not be negative")
        if self.latency_us < 0:
            raise ValueError("latency_us must not be negative")
        if not self.lot_step > ZERO:
            raise ValueError("lot_step must be positive")
        if self.liquidity_lots_per_tick is not None:
            _require_decimal("liquidity_lots_per_tick", self.liquidity_lots_per_tick)
            if self.liquidity_lots_per_tick < self.lot_step:
                raise ValueError("liquidity_lots_per_tick must be at least one lot_step")

    @property
    def tick(self) -> Decimal:
        """The price grid: ``10 ** -digits``."""
        return Decimal(1).scaleb(-self.digits)

    @property
    def max_lots_per_quote(self) -> Decimal | None:
        """``liquidity_lots_per_tick`` rounded down to ``lot_step``; None = unlimited."""
        if self.liquidity_lots_per_tick is None:
            return None
        steps = (self.liquidity_lots_per_tick / self.lot_step).to_integral_value(ROUND_FLOOR)
        return steps * self.lot_step


@dataclass(kw_only=True)
class PaperOrder:
    """An order as the engine sees it. The engine updates ``filled``,
    ``triggered``, ``resting`` and ``terminal``; the caller persists them."""

    id: str
    side: str  # "buy" | "sell"
    type: str  # "market" | "limit" | "stop" | "stop_limit"
    quantity: Decimal  # lots, total
    submitted_at_us: int
    price: Decimal | None = None  # limit price (limit, stop_limit)
    stop_price: Decimal | None = None  # stop, stop_limit
    time_in_force: str = GTC  # "GTC" | "GTD" | "IOC" | "FOK"
    expire_at_us: int | None = None  # GTD only
    filled: Decimal = ZERO  # lots filled so far
    triggered: bool = False  # stop / stop-limit whose stop has been hit
    resting: bool = False  # limit seen not marketable: later fills are maker at `price`
    terminal: bool = False  # filled, cancelled or expired: never evaluated again

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(frozen=True)
class Execution:
    order_id: str
    quantity: Decimal
    price: Decimal
    time_us: int
    liquidity: str  # "taker" | "maker"


@dataclass(frozen=True)
class Transition:
    order_id: str
    status: str  # "partially_filled" | "filled" | "cancelled" | "expired" | "triggered"
    reason: str = ""  # IOC_REMAINDER, FOK_NOT_FILLABLE, EXPIRED_GTD, NO_QUOTE


Result = tuple[list[Execution], list[Transition]]


class MatchingEngine:
    """Fills :class:`PaperOrder` objects against quotes under a :class:`PaperConfig`."""

    def __init__(self, config: PaperConfig) -> None:
        self.config = config
        self._tick = config.tick
        self._slippage = config.slippage_points * config.point
        self._cap = config.max_lots_per_quote

    # -- public API ---------------------------------------------------------

    def submit(self, order: PaperOrder, quote: Quote | None, now_us: int) -> Result:
        """A new order placed at ``now_us`` with ``quote`` the instrument's
        current quote (None if there is none yet)."""
        self._validate(order)
        executions: list[Execution] = []
        transitions: list[Transition] = []
        if order.terminal or order.remaining <= ZERO:
            return executions, transitions
        if order.time_in_force == GTD and now_us >= order.expire_at_us:
            self._close(order, EXPIRED, EXPIRED_GTD, transitions)
        elif quote is None:
            if order.time_in_force in (IOC, FOK) and order.type in (MARKET, LIMIT):
                self._close(order, CANCELLED, NO_QUOTE, transitions)
        elif self.config.latency_us == 0:
            self._evaluate(order, quote, now_us, executions, transitions)
        return executions, transitions

    def on_quote(self, orders: Iterable[PaperOrder], quote: Quote) -> Result:
        """Evaluate the caller's open ``orders`` on a new ``quote``, in the
        order given. Terminal and fully filled orders are skipped."""
        orders = list(orders)
        for order in orders:
            self._validate(order)
        executions: list[Execution] = []
        transitions: list[Transition] = []
        for order in orders:
            if order.terminal or order.remaining <= ZERO:
                continue
            if order.time_in_force == GTD and quote.time_us >= order.expire_at_us:
                self._close(order, EXPIRED, EXPIRED_GTD, transitions)
                continue
            if quote.time_us < order.submitted_at_us + self.config.latency_us:
                continue
            self._evaluate(order, quote, quote.time_us, executions, transitions)
        return executions, transitions

    # -- internals ----------------------------------------------------------

    def _validate(self, order: PaperOrder) -> None:
        cfg = self.config
        if order.side not in SIDES:
            raise ValueError(f"order {order.id}: unknown side {order.side!r}")
        if order.type not in TYPES:
            raise ValueError(f"order {order.id}: unknown type {order.type!r}")
        if order.time_in_force not in TIMES_IN_FORCE:
            raise ValueError(f"order {order.id}: unknown time in force {order.time_in_force!r}")
        if order.time_in_force == GTD and order.expire_at_us is None:
            raise ValueError(f"order {order.id}: GTD needs expire_at_us")
        _require_decimal("quantity", order.quantity)
        _require_decimal("filled", order.filled)
        if not order.quantity > ZERO or order.quantity % cfg.lot_step:
            raise ValueError(f"order {order.id}: quantity must be a positive multiple of lot_step")
        if order.filled < ZERO or order.filled > order.quantity or order.filled % cfg.lot_step:
            raise ValueError(
                f"order {order.id}: filled must be a multiple of lot_step in [0, quantity]"
            )
        needs = {
            "price": order.type in (LIMIT, STOP_LIMIT),
            "stop_price": order.type in (STOP, STOP_LIMIT),
        }
        for name, needed in needs.items():
            value = getattr(order, name)
            if not needed:
                continue
            if value is None:
                raise ValueError(f"order {order.id}: a {order.type} order needs {name}")
            _require_decimal(name, value)
            if not value > ZERO or value != value.quantize(self._tick):
                raise ValueError(
                    f"order {order.id}: {name} must be positive with {cfg.digits} digits"
                )

    def _round(self, price: Decimal) -> Decimal:
        return price.quantize(self._tick, rounding=ROUND_HALF_EVEN)

    def _taker_price(self, order: PaperOrder, quote: Quote) -> Decimal:
        if order.side == BUY:
            return self._round(quote.ask + self._slippage)
        return self._round(quote.bid - self._slippage)

    def _marketable(self, order: PaperOrder, quote: Quote) -> bool:
        if order.side == BUY:
            return quote.ask <= order.price
        return quote.bid >= order.price

    def _stop_hit(self, order: PaperOrder, quote: Quote) -> bool:
        if order.side == BUY:
            return quote.ask >= order.stop_price
        return quote.bid <= order.stop_price

    def _evaluate(
        self,
        order: PaperOrder,
        quote: Quote,
        time_us: int,
        executions: list[Execution],
        transitions: list[Transition],
    ) -> None:
        """One order, already arrived and not expired, on one quote."""
        if order.type in (STOP, STOP_LIMIT) and not order.triggered:
            if not self._stop_hit(order, quote):
                return
            order.triggered = True
            order.resting = False  # the stop-limit's limit enters the market now
            transitions.append(Transition(order.id, TRIGGERED))

        if order.type in (MARKET, STOP):
            price, liquidity = self._taker_price(order, quote), TAKER
        elif not self._marketable(order, quote):
            if order.time_in_force in (IOC, FOK):
                reason = IOC_REMAINDER if order.time_in_force == IOC else FOK_NOT_FILLABLE
                self._close(order, CANCELLED, reason, transitions)
            else:
                order.resting = True
            return
        elif order.resting:
            price, liquidity = order.price, MAKER
        else:
            taker = self._taker_price(order, quote)
            price = min(taker, order.price) if order.side == BUY else max(taker, order.price)
            liquidity = TAKER

        remaining = order.remaining
        quantity = remaining if self._cap is None else min(remaining, self._cap)
        if order.time_in_force == FOK and quantity < remaining:
            self._close(order, CANCELLED, FOK_NOT_FILLABLE, transitions)
            return
        order.filled += quantity
        executions.append(Execution(order.id, quantity, price, time_us, liquidity))
        if order.remaining <= ZERO:
            self._close(order, FILLED, "", transitions)
            return
        transitions.append(Transition(order.id, PARTIALLY_FILLED))
        if order.time_in_force == IOC:
            self._close(order, CANCELLED, IOC_REMAINDER, transitions)

    @staticmethod
    def _close(order: PaperOrder, status: str, reason: str, transitions: list[Transition]) -> None:
        order.terminal = True
        transitions.append(Transition(order.id, status, reason))

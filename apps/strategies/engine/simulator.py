"""The simulated broker and account of a backtest.

One ``Simulator`` holds the account (balance in the account currency), a
netting position per instrument, the orders waiting for the next bar and
the trade list. Every amount goes through ``apps.trading.accounting`` (the
code live trading uses), on floats.

When things happen on bar ``j``:

1. a 17:00 New York rollover between bar ``j-1`` and ``j``: swap on open
   positions (Wednesday's rollover charges three nights);
2. at the open: market orders placed on the close of ``j-1`` fill, buying
   at the ask (bid + spread) and selling at the bid, with slippage against
   the order;
3. inside the bar: stop-loss / take-profit of the position (both touched:
   the stop-loss is assumed first; a gap beyond the level fills at the
   open), then resting limit and stop orders triggered by the bar's range
   (limits at their price or better, stops at their price or worse). When
   the run fills from stored ticks and the bar has some, steps 2 and 3 go
   tick by tick instead (``_walk_ticks``): no assumption about the order
   of events inside the bar, and the strategy's ``on_tick`` sees each tick;
4. at the close: the strategy sees the bar and may place orders; trailing
   stops move with the close (never back); the stop-out check (margin level
   below ``stop_out_level`` closes the largest losing position at the
   close, then the next, as brokers do).

Both paths of the engine (bar by bar, vectorised) drive the same methods in
the same order, so they give the same trades and equity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from apps.strategies.engine.data import Series
from apps.strategies.errors import InvalidParameters
from apps.trading import accounting as acc

Quote = acc.Quote


class NeedsAccount(Exception):
    """A run with deferred accounting needs its account as it goes."""


@dataclass(frozen=True)
class Settings:
    account_ccy: str = "USD"
    initial_balance: float = 100_000.0
    leverage: float = 100.0
    sizing_mode: str = "lots"  # units | lots | risk_percent | fraction
    sizing_value: float = 1.0
    commission_mode: str = "per_lot"  # per_lot | notional
    commission_value: float = 0.0  # per lot per side (account ccy) or per million notional
    spread_pips: float | None = None  # None: the bars' spread
    slippage_pips: float = 0.0
    swap: bool = True
    stop_out_level: float = 50.0  # percent margin level
    ticks: bool = False  # fill inside bars from stored ticks where the series has them


@dataclass
class Pending:
    lots: float  # signed
    kind: str  # market | limit | stop
    price: float | None
    stop: float | None  # distances in price units
    take: float | None
    trail: float | None
    reason: str


@dataclass
class OpenTrade:
    entry_time: int
    entry_index: int
    commission: float = 0.0  # entry commission not yet allocated to closed parts
    swap: float = 0.0


@dataclass
class Book:
    """One instrument: its bars as lists (fast scalar access) and its position."""

    k: int
    series: Series
    spec: acc.Spec
    open: list
    high: list
    low: list
    close: list
    spread: list
    time_us: list
    rq_open: list | None  # quote → account rate as of each open (None: 1)
    rq_close: list | None
    rb_open: list | None
    rb_close: list | None
    digits: int
    pip: float
    lot_min: float
    lot_step: float
    lot_max: float
    lots: float = 0.0
    avg: float | None = None
    sl: float | None = None
    tp: float | None = None
    trail: float | None = None
    pending: list = field(default_factory=list)
    trade: OpenTrade | None = None
    # Stored ticks inside the bars (None: bars only): bar j's are tick_lo[j]
    # to tick_hi[j]; ``every_bar``: the strategy watches every tick.
    tick_lo: list | None = None
    tick_hi: list | None = None
    tick_bid: list | None = None
    tick_ask: list | None = None
    tick_time: list | None = None
    every_bar: bool = False


def on_lot_grid(lots: float, step: float, minimum: float, maximum: float) -> float:
    """``lots`` rounded down to the lot step, at most ``maximum``; 0 below ``minimum``."""
    steps = math.floor(lots / step + 1e-9)
    lots = round(min(steps * step, maximum), 8)
    return lots if lots >= minimum else 0.0


def fixed_lots(settings: Settings, spec: acc.Spec, instrument) -> float | None:
    """The lots of every position when sizing does not depend on the
    equity (``lots`` and ``units``); ``None`` otherwise."""
    if settings.sizing_mode == "lots":
        lots = settings.sizing_value
    elif settings.sizing_mode == "units":
        lots = settings.sizing_value / spec.contract_size
    else:
        return None
    return on_lot_grid(
        lots, float(instrument.lot_step), float(instrument.lot_min), float(instrument.lot_max)
    )


def _list_or_none(rate) -> list | None:
    if isinstance(rate, np.ndarray):
        return rate.tolist()
    return None if rate == 1 else [float(rate)]


class Simulator:
    def __init__(self, series: list[Series], settings: Settings) -> None:
        self.s = settings
        self.ccy = settings.account_ccy
        self.balance = float(settings.initial_balance)
        self.books: list[Book] = []
        for k, se in enumerate(series):
            inst = se.instrument
            pip = float(inst.pip_size)
            spread = (
                [settings.spread_pips * pip] * len(se)
                if settings.spread_pips is not None
                else np.nan_to_num(se.spread).tolist()
            )
            self.books.append(
                Book(
                    k=k,
                    series=se,
                    spec=se.spec,
                    open=se.open.tolist(),
                    high=se.high.tolist(),
                    low=se.low.tolist(),
                    close=se.close.tolist(),
                    spread=spread,
                    time_us=se.time_us.tolist(),
                    rq_open=_list_or_none(se.quote_rate_open),
                    rq_close=_list_or_none(se.quote_rate_close),
                    rb_open=_list_or_none(se.base_rate_open),
                    rb_close=_list_or_none(se.base_rate_close),
                    digits=inst.digits,
                    pip=pip,
                    lot_min=float(inst.lot_min),
                    lot_step=float(inst.lot_step),
                    lot_max=float(inst.lot_max),
                )
            )
            if se.ticks is not None and len(se.ticks):
                b = self.books[-1]
                b.tick_lo, b.tick_hi = se.ticks.lo.tolist(), se.ticks.hi.tolist()
                b.tick_bid, b.tick_ask = se.ticks.bid.tolist(), se.ticks.ask.tolist()
                b.tick_time = se.ticks.time_us.tolist()
        self.slip = [settings.slippage_pips * b.pip for b in self.books]
        self.per_lot = settings.commission_value if settings.commission_mode == "per_lot" else 0.0
        self.per_million = (
            settings.commission_value if settings.commission_mode == "notional" else 0.0
        )
        # (step, instrument, lots, average, balance) after every change.
        self.log: list[tuple] = []
        self.trades: list[dict] = []
        self.guard_unit: list[float] = [0.0] * len(self.books)
        self.fill_count = 0
        self.guard_lo: list[float] = [-math.inf] * len(self.books)
        self.guard_hi: list[float] = [math.inf] * len(self.books)
        self.swaps = 0.0
        self.commissions = 0.0
        self.rejected: list[dict] = []
        self.fills: list[tuple] = []  # (instrument, bar, signed lots, price, reason)
        self.fill_at_open: list[bool] = []
        # Deferred: fills are only recorded (and positions kept); the run's
        # accounting is done afterwards (``ledger``). Whatever needs the
        # account before then raises ``NeedsAccount``.
        self.deferred = False
        self._quotes_key: tuple | None = None
        # The strategy's tick callback per instrument (tick index → None).
        self.on_tick: list = [None] * len(self.books)
        self._quotes: dict = {}

    # --- quotes ---------------------------------------------------------------

    def quotes(self, b: Book, j: int, at_open: bool) -> dict:
        """What ``accounting`` needs at bar ``j``: the conversion rates (as
        quotes of the direct pair) and the instrument's own bid/ask. The last
        one built is kept: one bar asks for the same quotes several times."""
        key = (b.k, j, at_open)
        if self._quotes_key == key:
            return self._quotes
        out = self._quotes = {}
        self._quotes_key = key
        spec = b.spec
        rq = b.rq_open if at_open else b.rq_close
        rb = b.rb_open if at_open else b.rb_close
        if rq is not None:
            r = rq[j] if len(rq) > 1 else rq[0]
            out[f"{spec.quote}{self.ccy}"] = Quote(r, r)
        if rb is not None:
            r = rb[j] if len(rb) > 1 else rb[0]
            out[f"{spec.base}{self.ccy}"] = Quote(r, r)
        if at_open:
            bid = b.open[j]
        else:
            bid = b.close[j]
        out[spec.symbol] = Quote(bid, bid + b.spread[j])
        return out

    def valuation(self, j_of: dict[int, int]) -> tuple[float, float]:
        """(equity, used margin) at the closes ``j_of[k]``, each instrument's
        quotes built once."""
        if self.deferred:
            raise NeedsAccount()
        equity, used = self.balance, 0.0
        for b in self.books:
            if b.lots:
                q = self.quotes(b, j_of[b.k], at_open=False)
                equity += acc.unrealized_pnl(b.spec, b.lots, b.avg, self.ccy, q)
                used += acc.margin(b.spec, b.lots, self.ccy, q, self.s.leverage)
        return equity, used

    def equity(self, j_of: dict[int, int]) -> float:
        """Balance + open P&L at the closes ``j_of[k]`` of each instrument."""
        if self.deferred:
            raise NeedsAccount()
        total = self.balance
        for b in self.books:
            if b.lots:
                j = j_of[b.k]
                total += acc.unrealized_pnl(
                    b.spec, b.lots, b.avg, self.ccy, self.quotes(b, j, at_open=False)
                )
        return total

    def margin(self, j_of: dict[int, int]) -> float:
        if self.deferred:
            raise NeedsAccount()
        used = 0.0
        for b in self.books:
            if b.lots:
                used += acc.margin(
                    b.spec, b.lots, self.ccy, self.quotes(b, j_of[b.k], False), self.s.leverage
                )
        return used

    # --- fills ----------------------------------------------------------------

    def fill(
        self, b: Book, step: int, j: int, lots: float, price: float, reason: str, at_open: bool
    ):
        """Book a fill of ``lots`` (signed) at ``price`` on bar ``j``;
        ``at_open``: converted at the rates known at the bar's open (fills
        inside the bar), else at its close (stop-out, end of data)."""
        if self.deferred:
            self._record(b, j, lots, price, reason, at_open)
            return
        q = self.quotes(b, j, at_open)
        before = b.lots
        effect = acc.apply_fill(b.spec, before, b.avg, lots, price)
        commission = acc.commission(
            quantity=lots,
            price=price,
            spec=b.spec,
            account_ccy=self.ccy,
            quotes=q,
            per_lot=self.per_lot,
            per_million=self.per_million,
        )
        self.commissions += commission
        realized = 0.0
        size = abs(lots)
        if effect.closed:
            realized = acc.convert(effect.realized_quote, b.spec.quote, self.ccy, q)
            trade = b.trade
            share = effect.closed / abs(before)
            entry_commission = trade.commission * share
            swap = trade.swap * share
            exit_commission = commission * effect.closed / size
            self.trades.append(
                {
                    "symbol": b.spec.symbol,
                    "side": "long" if before > 0 else "short",
                    "lots": round(effect.closed, 8),
                    "units": round(effect.closed * b.spec.contract_size, 2),
                    "entry_time": trade.entry_time,
                    "entry_index": trade.entry_index,
                    "entry_price": b.avg,
                    "exit_time": b.time_us[j],
                    "exit_index": j,
                    "exit_price": price,
                    "gross_pnl": realized,
                    "commission": entry_commission + exit_commission,
                    "swap": swap,
                    "net_pnl": realized - entry_commission - exit_commission + swap,
                    "reason": reason,
                    "bars": j - trade.entry_index,
                }
            )
            trade.commission -= entry_commission
            trade.swap -= swap
        if effect.opened:
            share_open = commission * effect.opened / size
            if effect.closed or before == 0:
                b.trade = OpenTrade(b.time_us[j], j, share_open)
            else:
                b.trade.commission += share_open
        if effect.quantity == 0 or (effect.closed and effect.opened):
            # The position its stops protected is gone (closed or reversed).
            if effect.quantity == 0:
                b.trade = None
            b.sl = b.tp = b.trail = None
        self.balance = acc.money(self.balance + realized - commission)
        self.fills.append((b.k, j, lots, price, reason))
        self.fill_count += 1
        b.lots = effect.quantity
        b.avg = effect.average_price
        self.log.append((step, b.k, b.lots, b.avg or 0.0, self.balance))

    def _record(self, b: Book, j: int, lots: float, price: float, reason: str, at_open: bool):
        """A deferred fill: the position's new size, nothing booked. Only
        fills that open from flat, close or reverse can be booked later."""
        before = b.lots
        if before and ((before > 0) == (lots > 0) or abs(lots) < abs(before)):
            raise NeedsAccount()
        after = before + lots
        self.fills.append((b.k, j, lots, price, reason))
        self.fill_at_open.append(at_open)
        self.fill_count += 1
        if after == 0:
            b.lots, b.avg = 0.0, None
        else:
            b.lots, b.avg = after, price
        if before:
            b.sl = b.tp = b.trail = None

    # --- events of a bar --------------------------------------------------------

    def rollover(self, b: Book, step: int, j: int, dates) -> None:
        if not b.lots or not self.s.swap:
            return
        q = self.quotes(b, j, at_open=True)
        before = self.balance
        for day in dates:
            amount = acc.swap(b.spec, b.lots, day, self.ccy, q)
            self.balance = acc.money(self.balance + amount)
            b.trade.swap = acc.money(b.trade.swap + amount)
            self.swaps += amount
        self.log.append((step, b.k, b.lots, b.avg or 0.0, self.balance))
        # The equity above the stop-out level moved by the swap: so do the guards.
        delta = self.balance - before
        for other in self.books:
            if other.lots > 0:
                self.guard_lo[other.k] -= delta * self.guard_unit[other.k]
            elif other.lots < 0:
                self.guard_hi[other.k] += delta * self.guard_unit[other.k]

    def on_open(self, b: Book, step: int, j: int) -> None:
        """Market orders at the open, then stops/targets, then resting orders
        (tick by tick where the bar has stored ticks)."""
        if b.tick_lo is not None and b.tick_hi[j] > b.tick_lo[j]:
            self._walk_ticks(b, step, j, b.tick_lo[j], b.tick_hi[j])
            return
        if b.pending:
            waiting = []
            for order in b.pending:
                if order.kind == "market":
                    if order.lots > 0:
                        price = b.open[j] + b.spread[j] + self.slip[b.k]
                    else:
                        price = b.open[j] - self.slip[b.k]
                    self._execute(b, step, j, order, round(price, b.digits), at_open=True)
                else:
                    waiting.append(order)
            b.pending = waiting
        if b.lots and (b.sl is not None or b.tp is not None):
            self._protective(b, step, j)
        if b.pending:
            waiting = []
            for order in b.pending:
                price = self._triggered(b, j, order)
                if price is None:
                    waiting.append(order)
                else:
                    self._execute(b, step, j, order, round(price, b.digits), at_open=True)
            b.pending = waiting

    def _walk_ticks(self, b: Book, step: int, j: int, lo: int, hi: int) -> None:
        """Bar ``j`` from its stored ticks, each in turn: market orders fill at
        the tick (buying at its ask), then the position's stop-loss and
        take-profit, then resting orders, each at the tick's price (stops with
        slippage against the order); trailing stops follow the tick; then the
        strategy's ``on_tick``. Orders placed there fill at the next tick."""
        slip, digits = self.slip[b.k], b.digits
        on_tick = self.on_tick[b.k]
        bids, asks = b.tick_bid, b.tick_ask
        for t in range(lo, hi):
            bid, ask = bids[t], asks[t]
            if b.pending:
                waiting = []
                for order in b.pending:
                    if order.kind == "market":
                        price = ask + slip if order.lots > 0 else bid - slip
                        self._execute(b, step, j, order, round(price, digits), at_open=True)
                    else:
                        waiting.append(order)
                b.pending = waiting
            if b.lots and (b.sl is not None or b.tp is not None):
                self._protective_at(b, step, j, bid, ask)
            if b.pending:
                waiting = []
                for order in b.pending:
                    price = self._triggered_at(order, bid, ask, slip)
                    if price is None:
                        waiting.append(order)
                    else:
                        self._execute(b, step, j, order, round(price, digits), at_open=True)
                b.pending = waiting
            if b.trail is not None and b.lots:
                if b.lots > 0:
                    level = round(bid - b.trail, digits)
                    if b.sl is None or level > b.sl:
                        b.sl = level
                else:
                    level = round(ask + b.trail, digits)
                    if b.sl is None or level < b.sl:
                        b.sl = level
            if on_tick is not None:
                on_tick(t)
            elif not b.pending and not (b.lots and (b.sl is not None or b.tp is not None)):
                return  # nothing left to watch in this bar

    def _protective_at(self, b: Book, step: int, j: int, bid: float, ask: float) -> None:
        """Stop-loss / take-profit against one tick (longs close at its bid)."""
        slip = self.slip[b.k]
        reason_stop = "trailing_stop" if b.trail else "stop_loss"
        if b.lots > 0:
            if b.sl is not None and bid <= b.sl:
                price, reason = bid - slip, reason_stop
            elif b.tp is not None and bid >= b.tp:
                price, reason = bid, "take_profit"
            else:
                return
        elif b.sl is not None and ask >= b.sl:
            price, reason = ask + slip, reason_stop
        elif b.tp is not None and ask <= b.tp:
            price, reason = ask, "take_profit"
        else:
            return
        self.fill(b, step, j, -b.lots, round(price, b.digits), reason, at_open=True)

    @staticmethod
    def _triggered_at(order: Pending, bid: float, ask: float, slip: float) -> float | None:
        """A resting order against one tick: the price it fills at, or None."""
        if order.lots > 0:  # buys trade at the ask
            if order.kind == "limit" and ask <= order.price:
                return ask
            if order.kind == "stop" and ask >= order.price:
                return ask + slip
            return None
        if order.kind == "limit" and bid >= order.price:
            return bid
        if order.kind == "stop" and bid <= order.price:
            return bid - slip
        return None

    def _triggered(self, b: Book, j: int, order: Pending) -> float | None:
        o, h, lo, spread = b.open[j], b.high[j], b.low[j], b.spread[j]
        if order.lots > 0:  # buys trade at the ask
            ask_open, ask_high, ask_low = o + spread, h + spread, lo + spread
            if order.kind == "limit" and ask_low <= order.price:
                return min(ask_open, order.price)
            if order.kind == "stop" and ask_high >= order.price:
                return max(ask_open, order.price) + self.slip[b.k]
            return None
        if order.kind == "limit" and h >= order.price:
            return max(o, order.price)
        if order.kind == "stop" and lo <= order.price:
            return min(o, order.price) - self.slip[b.k]
        return None

    def _affordable(self, b: Book, j: int, lots: float, at_open: bool) -> bool:
        """Whether the equity covers the margin after a fill that adds to a
        position (a broker refuses the order otherwise: ``no money``)."""
        if self.deferred:
            return True  # checked when the fills are booked
        after = b.lots + lots
        if abs(after) <= abs(b.lots) and (after == 0 or (after > 0) == (b.lots > 0)):
            return True  # only reduces
        q = self.quotes(b, j, at_open)
        equity = self.balance
        used = acc.margin(b.spec, after, self.ccy, q, self.s.leverage)
        for other in self.books:
            if other.lots and other is not b:
                oq = self.quotes(other, min(j, len(other.close) - 1), at_open)
                equity += acc.unrealized_pnl(other.spec, other.lots, other.avg, self.ccy, oq)
                used += acc.margin(other.spec, other.lots, self.ccy, oq, self.s.leverage)
        if b.lots:
            equity += acc.unrealized_pnl(b.spec, b.lots, b.avg, self.ccy, q)
        return equity > used

    def _execute(self, b: Book, step: int, j: int, order: Pending, price: float, at_open: bool):
        if not self._affordable(b, j, order.lots, at_open):
            self.rejected.append(
                {
                    "time": b.time_us[j],
                    "symbol": b.spec.symbol,
                    "lots": order.lots,
                    "reason": "NO_MONEY: the equity does not cover the margin",
                }
            )
            if b.lots and (b.lots > 0) != (order.lots > 0):
                # A reversal the account cannot afford still closes the position.
                self.fill(b, step, j, -b.lots, price, order.reason, at_open)
            return
        self.fill(b, step, j, order.lots, price, order.reason, at_open)
        if b.lots and (b.lots > 0) == (order.lots > 0):
            direction = 1 if b.lots > 0 else -1
            if order.stop:
                b.sl = round(price - direction * order.stop, b.digits)
            if order.take:
                b.tp = round(price + direction * order.take, b.digits)
            if order.trail:
                b.trail = order.trail
                if b.sl is None:
                    b.sl = round(price - direction * order.trail, b.digits)

    def _protective(self, b: Book, step: int, j: int) -> None:
        """Stop-loss first when both levels are inside the bar (conservative)."""
        o, h, lo, spread = b.open[j], b.high[j], b.low[j], b.spread[j]
        long = b.lots > 0
        if long:  # closes by selling at the bid
            if b.sl is not None and lo <= b.sl:
                price = min(o, b.sl) - self.slip[b.k]
                reason = "trailing_stop" if b.trail else "stop_loss"
            elif b.tp is not None and h >= b.tp:
                price, reason = max(o, b.tp), "take_profit"
            else:
                return
        else:  # closes by buying at the ask
            if b.sl is not None and h + spread >= b.sl:
                price = max(o + spread, b.sl) + self.slip[b.k]
                reason = "trailing_stop" if b.trail else "stop_loss"
            elif b.tp is not None and lo + spread <= b.tp:
                price, reason = min(o + spread, b.tp), "take_profit"
            else:
                return
        self.fill(b, step, j, -b.lots, round(price, b.digits), reason, at_open=True)

    def on_close(self, b: Book, j: int) -> None:
        """Trailing stops follow the close (never back)."""
        if b.trail is not None and b.lots:
            if b.lots > 0:
                level = round(b.close[j] - b.trail, b.digits)
                if b.sl is None or level > b.sl:
                    b.sl = level
            else:
                level = round(b.close[j] + b.spread[j] + b.trail, b.digits)
                if b.sl is None or level < b.sl:
                    b.sl = level

    # --- orders from the strategy -----------------------------------------------

    def size(self, b: Book, j_of: dict[int, int], stop: float | None) -> float:
        """Lots for a new position by the run's sizing, on the lot grid."""
        mode, value = self.s.sizing_mode, self.s.sizing_value
        j = j_of[b.k]
        if mode == "lots":
            lots = value
        elif mode == "units":
            lots = value / b.spec.contract_size
        else:
            equity = self.equity(j_of)
            if equity <= 0:
                return 0.0
            if mode == "risk_percent":
                if not stop:
                    raise InvalidParameters(
                        "Sizing by risk percent needs a stop-loss distance.",
                        fields={"sizing": ["risk_percent needs the strategy's stop-loss."]},
                    )
                rate = (
                    b.rq_close[j]
                    if b.rq_close and len(b.rq_close) > 1
                    else (b.rq_close[0] if b.rq_close else 1.0)
                )
                lots = equity * value / 100 / (stop * b.spec.contract_size * rate)
            else:  # fraction of equity as notional
                rate = (
                    b.rb_close[j]
                    if b.rb_close and len(b.rb_close) > 1
                    else (b.rb_close[0] if b.rb_close else 1.0)
                )
                lots = equity * value / (b.spec.contract_size * rate)
        return on_lot_grid(lots, b.lot_step, b.lot_min, b.lot_max)

    def target(self, b: Book, j_of, direction: int, stop=None, take=None, trail=None) -> None:
        """Be long (+1), short (-1) or flat (0) from the next open. Nothing
        happens when the position (with the orders queued) already points
        that way."""
        queued = sum(o.lots for o in b.pending if o.kind == "market")
        now = b.lots + queued
        current = (now > 0) - (now < 0)
        if current == direction:
            return
        lots = self.size(b, j_of, stop) if direction else 0.0
        b.pending = [o for o in b.pending if o.kind != "market"]
        delta = round(direction * lots - b.lots, 8)
        if delta:
            b.pending.append(Pending(delta, "market", None, stop, take, trail, "signal"))

    def order(
        self, b: Book, j_of, side: int, lots, kind, price, stop, take, trail, reason="signal"
    ):
        if kind not in ("market", "limit", "stop"):
            raise InvalidParameters(f"Unknown order type {kind!r}.", fields={"type": ["Unknown."]})
        if kind != "market" and price is None:
            raise InvalidParameters(
                f"A {kind} order needs a price.", fields={"price": ["Required."]}
            )
        if lots is None:
            lots = self.size(b, j_of, stop)
        if lots <= 0:
            return
        b.pending.append(Pending(side * lots, kind, price, stop, take, trail, reason))

    def close_position(self, b: Book) -> None:
        b.pending = [o for o in b.pending if o.kind != "market"]
        if b.lots:
            b.pending.append(Pending(-b.lots, "market", None, None, None, None, "signal"))

    # --- stop-out ---------------------------------------------------------------

    def stop_out(self, step: int, j_of: dict[int, int]) -> bool:
        """Close the largest losers at the close while the margin level is
        below the stop-out level. Returns whether anything was closed."""
        closed = False
        while True:
            equity, used = self.valuation(j_of)
            if used <= 0:
                break
            if equity / used * 100 >= self.s.stop_out_level:
                self._guards(j_of, equity, used)
                return closed
            losers = [
                (
                    acc.unrealized_pnl(
                        b.spec, b.lots, b.avg, self.ccy, self.quotes(b, j_of[b.k], False)
                    ),
                    b,
                )
                for b in self.books
                if b.lots
            ]
            pnl, worst = min(losers, key=lambda x: x[0])
            j = j_of[worst.k]
            price = worst.close[j] if worst.lots > 0 else worst.close[j] + worst.spread[j]
            worst.pending = [o for o in worst.pending if o.kind != "market"]
            self.fill(worst, step, j, -worst.lots, round(price, worst.digits), "stop_out", False)
            closed = True
        self.set_guards(j_of)
        return closed

    def set_guards(self, j_of: dict[int, int]) -> None:
        """Close prices beyond which the stop-out must be checked exactly:
        each open position may use 1/(n+1) of the equity above the stop-out
        level, so together they cannot cross it unseen (rates held)."""
        if any(b.lots for b in self.books):
            self._guards(j_of, *self.valuation(j_of))
        else:
            self._guards(j_of, 0.0, 0.0)

    def _guards(self, j_of: dict[int, int], equity: float, used: float) -> None:
        open_books = [b for b in self.books if b.lots]
        for b in self.books:
            self.guard_lo[b.k], self.guard_hi[b.k] = -math.inf, math.inf
        if not open_books:
            return
        buffer = equity - used * self.s.stop_out_level / 100
        share = max(buffer, 0.0) / (len(open_books) + 1)
        for b in open_books:
            j = j_of[b.k]
            rq = (
                b.rq_close[j]
                if b.rq_close and len(b.rq_close) > 1
                else (b.rq_close[0] if b.rq_close else 1.0)
            )
            # Price move per unit of equity given to this position.
            unit = 1 / ((len(open_books) + 1) * abs(b.lots) * b.spec.contract_size * rq)
            self.guard_unit[b.k] = unit
            move = share / (abs(b.lots) * b.spec.contract_size * rq)
            if b.lots > 0:
                self.guard_lo[b.k] = b.close[j] - move
            else:
                self.guard_hi[b.k] = b.close[j] + b.spread[j] + move

    def finish(self, step_of: dict[int, int], j_of: dict[int, int]) -> None:
        """Close what is open at the last close (``end_of_data``)."""
        for b in self.books:
            b.pending = []
            if b.lots:
                j = j_of[b.k]
                price = b.close[j] if b.lots > 0 else b.close[j] + b.spread[j]
                self.fill(b, step_of[b.k], j, -b.lots, round(price, b.digits), "end_of_data", False)

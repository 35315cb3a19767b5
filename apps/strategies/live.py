"""A strategy running on live bars: the same ``Strategy`` and ``Context`` as
in backtests, with incremental indicators and orders placed through the
trading services.

``Runner`` holds the strategy, its incremental indicators and the bars seen
(the last ``KEEP`` of them; indices stay absolute, as in a backtest); a
strategy with ``on_tick`` also gets the live ticks between closes. It is
pickled into the deployment between bars. ``Executor`` turns the strategy's
orders into trading orders: at once on live bars, or at the next bar's open
in a replay (when a live strategy's order would reach the market).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from apps.strategies.framework import Context, Strategy, Tick
from apps.trading import accounting
from apps.trading.models import Order

KEEP = 5000  # bars kept in memory (indicators carry their own state)


class Window:
    """A list indexed by absolute bar number that forgets old values."""

    __slots__ = ("data", "offset")

    def __init__(self) -> None:
        self.data: list = []
        self.offset = 0

    def append(self, value) -> None:
        self.data.append(value)
        if len(self.data) > 2 * KEEP:
            drop = len(self.data) - KEEP
            del self.data[:drop]
            self.offset += drop

    def __getitem__(self, i: int):
        if i < 0:
            raise IndexError("bars are indexed from the first one seen, not from the end")
        if i < self.offset:
            raise IndexError(f"bar {i} is older than the {KEEP} kept")
        return self.data[i - self.offset]

    def __len__(self) -> int:
        return self.offset + len(self.data)


class Runner:
    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.streams = strategy.incremental_indicators()
        self.open, self.high, self.low, self.close = Window(), Window(), Window(), Window()
        self.time_us, self.spread = Window(), Window()
        self.ind = {label: Window() for label in self.streams}
        self.i = -1
        self.started = False

    def bar(
        self, o: float, h: float, lo: float, c: float, volume: float, time_us: int, spread: float
    ) -> int:
        """Take one closed bar; returns its index."""
        for window, value in (
            (self.open, o),
            (self.high, h),
            (self.low, lo),
            (self.close, c),
            (self.time_us, time_us),
            (self.spread, spread),
        ):
            window.append(value)
        for label, (stream, output) in self.streams.items():
            self.ind[label].append(stream.update(o, h, lo, c, volume, time_us)[output])
        self.i += 1
        return self.i

    def evaluate(self, ctx: LiveContext) -> None:
        if not self.started:
            self.strategy.start(ctx)
            self.started = True
        self.strategy.on_bar(ctx, self.i)

    def tick(self, ctx: LiveContext, tick: Tick) -> None:
        """One live tick to the strategy's ``on_tick`` (once it has started
        on its first closed bar)."""
        if not self.started:
            return
        ctx.tick = tick
        self.strategy.on_tick(ctx, tick)

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes | memoryview) -> Runner:
        return pickle.loads(bytes(data))


@dataclass
class Intent:
    """An order the strategy asked for on a bar's close."""

    lots: Decimal  # signed
    kind: str = "market"
    price: Decimal | None = None
    stop: float | None = None
    take: float | None = None
    trail: float | None = None
    closing: bool = False


@dataclass
class Executor:
    """Sizing and orders for one deployment (the trading side of the context)."""

    deployment: object
    quotes: dict  # symbol → accounting.Quote (Decimal): valuation and sizing
    intents: list[Intent] = field(default_factory=list)

    @property
    def instrument(self):
        return self.deployment.instrument

    def held(self) -> Decimal:
        """Net lots of the account in the instrument (its open positions)."""
        from apps.trading.models import Position

        rows = Position.objects.filter(
            account_id=self.deployment.account_id,
            instrument_id=self.deployment.instrument_id,
            closed_at__isnull=True,
        ).values_list("quantity", flat=True)
        return sum(rows, Decimal(0))

    def position(self) -> Decimal:
        return self.held() + sum((i.lots for i in self.intents if i.kind == "market"), Decimal(0))

    def equity(self) -> Decimal:
        from apps.trading.models import TradingAccount
        from apps.trading.selectors import open_positions, spec_of

        account = TradingAccount.objects.get(pk=self.deployment.account_id)
        positions = [
            (spec_of(p.instrument), p.quantity, p.average_price)
            for p in open_positions(account)
            if p.instrument.symbol in self.quotes
        ]
        return accounting.summary(
            balance=account.balance,
            positions=positions,
            account_ccy=account.currency,
            quotes=self.quotes,
            leverage=account.leverage,
        ).equity

    def size(self, stop: float | None) -> Decimal:
        from apps.trading.selectors import spec_of

        sizing = self.deployment.sizing or {"mode": "lots", "value": 1}
        mode, value = sizing.get("mode", "lots"), Decimal(str(sizing.get("value", 1)))
        inst = self.instrument
        spec = spec_of(inst)
        ccy = self.deployment.account.currency
        if mode == "lots":
            lots = value
        elif mode == "units":
            lots = value / spec.contract_size
        else:
            equity = self.equity()
            if equity <= 0:
                return Decimal(0)
            if mode == "risk_percent":
                if not stop:
                    raise ValueError("risk_percent sizing needs a stop-loss distance")
                rate = accounting.conversion_rate(spec.quote, ccy, self.quotes)
                lots = equity * value / 100 / (Decimal(str(stop)) * spec.contract_size * rate)
            else:
                rate = accounting.conversion_rate(spec.base, ccy, self.quotes)
                lots = equity * value / (spec.contract_size * rate)
        steps = (lots / inst.lot_step).to_integral_value(rounding=ROUND_DOWN)
        lots = min(steps * inst.lot_step, inst.lot_max)
        return lots if lots >= inst.lot_min else Decimal(0)

    def target(self, direction: int, stop=None, take=None, trail=None) -> None:
        now = self.position()
        current = (now > 0) - (now < 0)
        if current == direction:
            return
        lots = self.size(stop) if direction else Decimal(0)
        self.intents = [i for i in self.intents if i.kind != "market"]
        held = self.held()
        if held and (stop or take or trail) and direction and (held > 0) != (direction > 0):
            # A reversal with protective orders: close, then open with them.
            self.intents.append(Intent(-held, closing=True))
            if lots:
                self.intents.append(Intent(direction * lots, stop=stop, take=take, trail=trail))
            return
        delta = direction * lots - held
        if delta:
            self.intents.append(
                Intent(delta, stop=stop, take=take, trail=trail, closing=direction == 0)
            )

    def order(self, side: int, lots, kind, price, stop, take, trail) -> None:
        if kind not in ("market", "limit", "stop"):
            raise ValueError(f"unknown order type {kind!r}")
        lots = Decimal(str(lots)) if lots is not None else self.size(stop)
        if lots > 0:
            self.intents.append(
                Intent(
                    side * lots,
                    kind,
                    None if price is None else Decimal(str(price)),
                    stop,
                    take,
                    trail,
                )
            )

    def close(self) -> None:
        self.intents = [i for i in self.intents if i.kind != "market"]
        held = self.held()
        if held:
            self.intents.append(Intent(-held, closing=True))

    def place(
        self,
        *,
        bar_us: int,
        quote: accounting.Quote | None = None,
        submit=None,
        tag: str | None = None,
    ) -> list:
        """Place the queued intents as orders (``submit(order)`` runs each at
        once: a replay); returns them. Their client ids carry ``tag`` (default:
        the bar's time in seconds), so a redelivered task places nothing twice."""
        tag = tag or str(bar_us // 1_000_000)
        from apps.trading import services as trading

        placed = []
        inst = self.instrument
        quantum = Decimal(1).scaleb(-inst.digits)
        for n, intent in enumerate(self.intents):
            buy = intent.lots > 0
            reference = None if quote is None else (quote.ask if buy else quote.bid)
            direction = 1 if buy else -1

            order, _ = trading.order_place(
                account=self.deployment.account,
                instrument=inst,
                side=Order.Side.BUY if buy else Order.Side.SELL,
                type=intent.kind,
                quantity=abs(intent.lots),
                price=intent.price if intent.kind == "limit" else None,
                stop_price=intent.price if intent.kind == "stop" else None,
                stop_loss=_level(reference, -direction, intent.stop, quantum),
                take_profit=_level(reference, direction, intent.take, quantum),
                trailing_stop=(
                    Decimal(str(intent.trail)).quantize(quantum) if intent.trail else None
                ),
                client_order_id=f"d{self.deployment.pk}-{tag}-{n}",
                source=Order.Source.STRATEGY,
                source_ref=self.deployment.ref,
            )
            if submit is not None:
                submit(order)
            placed.append(order)
        self.intents = []
        return placed


def _level(reference: Decimal | None, sign: int, distance, quantum: Decimal) -> Decimal | None:
    """A stop-loss (``sign`` against the position) or take-profit level
    ``distance`` away from the price the order goes in at."""
    if not distance or reference is None:
        return None
    return (reference + sign * Decimal(str(distance))).quantize(quantum)


class LiveContext(Context):
    def __init__(self, runner: Runner, executor: Executor) -> None:
        self.runner = runner
        self.executor = executor
        self.open, self.high, self.low, self.close = (
            runner.open,
            runner.high,
            runner.low,
            runner.close,
        )
        self.time_us, self.spread = runner.time_us, runner.spread
        self.ind = runner.ind
        self.tick: Tick | None = None
        self.pip = float(executor.instrument.pip_size)
        self.symbol = executor.instrument.symbol

    @property
    def i(self) -> int:
        return self.runner.i

    @property
    def position(self) -> float:
        return float(self.executor.position())

    @property
    def equity(self) -> float:
        return float(self.executor.equity())

    def target(self, direction: int, *, stop=None, take=None, trail=None) -> None:
        self.executor.target(direction, stop, take, trail)

    def buy(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        self.executor.order(1, lots, type, price, stop, take, trail)

    def sell(self, lots=None, *, type="market", price=None, stop=None, take=None, trail=None):  # noqa: A002
        self.executor.order(-1, lots, type, price, stop, take, trail)

    def close_position(self) -> None:
        self.executor.close()

    def cancel_all(self) -> None:
        self.executor.intents = [i for i in self.executor.intents if i.kind == "market"]

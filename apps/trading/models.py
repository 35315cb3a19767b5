"""Trading: accounts, orders, fills, positions, the order event log and the ledger.

Money is ``Decimal``: balances and P&L to 8 decimals, prices to 10 (fills) or
20 (blended average prices, see ``accounting.PRICE``), lots to 2.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.marketdata.models import Instrument

MONEY = {"max_digits": 24, "decimal_places": 8}
PRICE = {"max_digits": 20, "decimal_places": 10}
LOTS = {"max_digits": 12, "decimal_places": 2}


class TradingAccount(models.Model):
    class Broker(models.TextChoices):
        PAPER = "paper", "Paper (simulated fills)"
        MT5 = "mt5", "MetaTrader 5"

    class Mode(models.TextChoices):
        NETTING = "netting", "Netting (one position per instrument)"
        HEDGING = "hedging", "Hedging (a position per ticket)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        CLOSED = "closed", "Closed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trading_accounts"
    )
    name = models.CharField(max_length=100)
    broker = models.CharField(max_length=8, choices=Broker.choices, default=Broker.PAPER)
    broker_config = models.JSONField(
        default=dict,
        blank=True,
        help_text="MT5: login, server, terminal_path, password_env. Paper: slippage_points, "
        "latency_ms, liquidity_lots_per_tick.",
    )
    currency = models.CharField(max_length=3, default="USD")
    balance = models.DecimalField(**MONEY, default=Decimal("0"))
    leverage = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("30"))
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.NETTING)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    commission_per_lot = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    commission_per_million = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Commission per million of notional (quote currency, converted).",
    )
    broker_state = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Broker synchronisation state (MT5: deal cursor, last reconcile).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="account_unique_name_per_owner"),
            models.CheckConstraint(condition=Q(leverage__gt=0), name="account_leverage_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_broker_display()}, {self.currency})"


class Order(models.Model):
    class Side(models.TextChoices):
        BUY = "buy", "Buy"
        SELL = "sell", "Sell"

    class Type(models.TextChoices):
        MARKET = "market", "Market"
        LIMIT = "limit", "Limit"
        STOP = "stop", "Stop"
        STOP_LIMIT = "stop_limit", "Stop limit"

    class TimeInForce(models.TextChoices):
        GTC = "GTC", "Good till cancelled"
        GTD = "GTD", "Good till date"
        IOC = "IOC", "Immediate or cancel"
        FOK = "FOK", "Fill or kill"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACCEPTED = "accepted", "Accepted"
        PARTIALLY_FILLED = "partially_filled", "Partially filled"
        FILLED = "filled", "Filled"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    class Source(models.TextChoices):
        API = "api", "API"
        UI = "ui", "Dashboard"
        STRATEGY = "strategy", "Strategy deployment"
        ALGO = "algo", "Execution algorithm"
        SYSTEM = "system", "Platform (risk, stop-out)"

    class Role(models.TextChoices):
        ENTRY = "entry", "Entry"
        STOP_LOSS = "stop_loss", "Stop-loss"
        TAKE_PROFIT = "take_profit", "Take-profit"
        TRAILING_STOP = "trailing_stop", "Trailing stop"
        CLOSE = "close", "Position close"

    FINAL = (Status.FILLED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED)

    account = models.ForeignKey(TradingAccount, on_delete=models.PROTECT, related_name="orders")
    client_order_id = models.CharField(max_length=64)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=Side.choices)
    type = models.CharField(max_length=10, choices=Type.choices)
    quantity = models.DecimalField(**LOTS)
    filled_quantity = models.DecimalField(**LOTS, default=Decimal("0"))
    average_fill_price = models.DecimalField(
        max_digits=30, decimal_places=20, null=True, blank=True
    )
    price = models.DecimalField(**PRICE, null=True, blank=True, help_text="Limit price.")
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    time_in_force = models.CharField(
        max_length=3, choices=TimeInForce.choices, default=TimeInForce.GTC
    )
    expire_at = models.DateTimeField(null=True, blank=True)
    stop_loss = models.DecimalField(**PRICE, null=True, blank=True)
    take_profit = models.DecimalField(**PRICE, null=True, blank=True)
    trailing_stop = models.DecimalField(
        **PRICE, null=True, blank=True, help_text="Trailing distance in price units."
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ENTRY)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The entry order of a bracket, or the algo parent of a child order.",
    )
    oco_group = models.UUIDField(
        null=True, blank=True, help_text="Orders of one OCO group: one filling cancels the others."
    )
    position = models.ForeignKey(
        "Position",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="The position this order closes or protects.",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    source_ref = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="What placed it, e.g. deployment:12."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    cancel_requested = models.BooleanField(default=False)
    # Paper broker book state (see apps.trading.matching): a stop that has
    # triggered, and a limit resting in the book (fills at its price, maker).
    triggered = models.BooleanField(default=False)
    resting = models.BooleanField(default=False)
    reject_code = models.CharField(max_length=40, blank=True)
    reject_reason = models.CharField(max_length=300, blank=True)
    broker_order_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_order_id"], name="order_unique_client_id_per_account"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(filled_quantity__gte=0) & Q(filled_quantity__lte=models.F("quantity")),
                name="order_never_overfilled",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"]),
            # The blotter's newest first, and the risk check's orders of the last minute.
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["status", "instrument"]),
            models.Index(fields=["oco_group"]),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.instrument_id} {self.type} [{self.status}]"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class Position(models.Model):
    """Netting: one row per account and instrument. Hedging: one per ticket."""

    account = models.ForeignKey(TradingAccount, on_delete=models.PROTECT, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    ticket = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    netting = models.BooleanField(
        default=True, editable=False, help_text="Copied from the account's mode when opened."
    )
    quantity = models.DecimalField(**LOTS, default=Decimal("0"), help_text="Signed lots.")
    average_price = models.DecimalField(max_digits=30, decimal_places=20, null=True, blank=True)
    realized_pnl = models.DecimalField(**MONEY, default=Decimal("0"))
    commission = models.DecimalField(**MONEY, default=Decimal("0"))
    swap = models.DecimalField(**MONEY, default=Decimal("0"))
    broker_position_id = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument"],
                condition=Q(closed_at__isnull=True, netting=True),
                name="position_one_open_per_instrument_when_netting",
                violation_error_message="A netting account has one open position per instrument.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.instrument_id} @ {self.average_price}"


class Fill(models.Model):
    """A deal: part or all of an order executed at one price."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fills")
    account = models.ForeignKey(TradingAccount, on_delete=models.PROTECT, related_name="fills")
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.PROTECT, related_name="fills"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=Order.Side.choices)
    quantity = models.DecimalField(**LOTS)
    price = models.DecimalField(**PRICE)
    commission = models.DecimalField(**MONEY, default=Decimal("0"))
    swap = models.DecimalField(**MONEY, default=Decimal("0"))
    realized_pnl = models.DecimalField(**MONEY, default=Decimal("0"))
    broker_deal_id = models.CharField(max_length=64)
    time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "broker_deal_id"], name="fill_unique_deal_per_account"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} @ {self.price}"


class OrderEvent(models.Model):
    """The append-only audit trail of an order: every state change and request."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    time = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.CharField(max_length=100, help_text="user:<name>, broker, system, strategy:<id>")
    correlation_id = models.CharField(max_length=128, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.event}: {self.from_status} → {self.to_status}"


class LedgerEntry(models.Model):
    """Every change of an account's balance, with the balance after it."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        REALIZED_PNL = "realized_pnl", "Realised P&L"
        COMMISSION = "commission", "Commission"
        SWAP = "swap", "Swap"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(TradingAccount, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    fill = models.ForeignKey(
        Fill, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


# Importable names of the choice sets, for the OpenAPI enum names.
OrderStatus = Order.Status
OrderSource = Order.Source
AccountStatus = TradingAccount.Status


class SwapCharge(models.Model):
    """Swap booked on a position at one 17:00 New York rollover (once only)."""

    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="swap_charges")
    rollover_date = models.DateField(help_text="New York date of the 17:00 rollover.")
    nights = models.PositiveSmallIntegerField()
    amount = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-rollover_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["position", "rollover_date"], name="swap_once_per_position_and_rollover"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rollover_date}: {self.amount}"


class Reconciliation(models.Model):
    """One comparison of an account's broker state with the database, and
    every repair it made (the record operators read after an incident)."""

    class Trigger(models.TextChoices):
        START = "start", "Worker start"
        RECONNECT = "reconnect", "After a reconnect"
        PERIODIC = "periodic", "Periodic"
        MANUAL = "manual", "Operator"
        ORDER = "order", "Unknown order outcome"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "In sync"
        REPAIRED = "repaired", "Repaired"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        TradingAccount, on_delete=models.PROTECT, related_name="reconciliations"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actions = models.JSONField(
        default=list, blank=True, help_text="What was repaired: one entry per action."
    )
    checked = models.JSONField(
        default=dict, blank=True, help_text="Counts of broker orders, positions and deals seen."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["account", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.trigger} {self.status}"


class AlgoOrder(models.Model):
    """A TWAP or VWAP parent order: ``quantity`` lots worked between ``start_at``
    and ``end_at`` as child orders (market IOC, or limit IOC at ``limit_price``)
    placed by ``apps.trading.algos.algo_step``. ``schedule`` holds the planned
    slices, ``[{"at": ISO time, "quantity": "0.33"}, ...]``; progress (filled
    lots, average price) is computed from the children's fills."""

    class Strategy(models.TextChoices):
        TWAP = "twap", "TWAP (equal quantity per unit of time)"
        VWAP = "vwap", "VWAP (historical volume profile)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (before its start)"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    FINAL = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)

    account = models.ForeignKey(
        TradingAccount, on_delete=models.PROTECT, related_name="algo_orders"
    )
    client_id = models.CharField(
        max_length=48, help_text="Unique per account; child orders are <client_id>-<slice>."
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=Order.Side.choices)
    strategy = models.CharField(max_length=4, choices=Strategy.choices)
    quantity = models.DecimalField(**LOTS, help_text="Total lots to execute.")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    slice_count = models.PositiveIntegerField(null=True, blank=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    limit_price = models.DecimalField(
        **PRICE,
        null=True,
        blank=True,
        help_text="Children are limit IOC at this price; without it, market IOC.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    filled_quantity = models.DecimalField(**LOTS, default=Decimal("0"))
    average_price = models.DecimalField(
        max_digits=30, decimal_places=20, null=True, blank=True, help_text="VWAP of child fills."
    )
    slices_sent = models.PositiveIntegerField(
        default=0, help_text="Planned slices handled so far (due slices are sent together)."
    )
    next_slice_at = models.DateTimeField(null=True, blank=True)
    schedule = models.JSONField(default=list, blank=True, editable=False)
    data = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Volume profile used, unfilled remainder, the reason of a failure.",
    )
    source = models.CharField(
        max_length=10,
        choices=Order.Source.choices,
        default=Order.Source.API,
        help_text="Where the algo came from (its children are all source algo).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_id"], name="algo_unique_client_id_per_account"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="algo_quantity_positive"),
            models.CheckConstraint(
                condition=Q(filled_quantity__gte=0) & Q(filled_quantity__lte=models.F("quantity")),
                name="algo_never_overfilled",
            ),
            models.CheckConstraint(
                condition=Q(end_at__gt=models.F("start_at")), name="algo_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slice_count__isnull=False, interval_seconds__isnull=True)
                | Q(slice_count__isnull=True, interval_seconds__isnull=False),
                name="algo_slice_count_or_interval",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_slice_at"]),
            models.Index(fields=["account", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} {self.side} {self.quantity} {self.instrument_id} [{self.status}]"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class AlgoChild(models.Model):
    """A child order an algo placed, and the (last) planned slice it covers."""

    algo = models.ForeignKey(AlgoOrder, on_delete=models.PROTECT, related_name="children")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="algo_child")
    slice_no = models.PositiveIntegerField(help_text="1-based number of the planned slice.")

    class Meta:
        ordering = ["slice_no"]
        constraints = [
            models.UniqueConstraint(fields=["algo", "slice_no"], name="algo_child_once_per_slice")
        ]

    def __str__(self) -> str:
        return f"{self.algo_id} slice {self.slice_no}: order {self.order_id}"


AlgoStatus = AlgoOrder.Status

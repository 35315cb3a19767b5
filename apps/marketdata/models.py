"""Market data: instruments, sources, ticks, bars, ingestion runs.

Prices are ``NUMERIC`` (``Decimal``) in the database. Ticks live in a
natively partitioned table (monthly ranges on ``time``, created on demand by
``services.partitions``); its primary key (instrument, source, time) is what
makes replays and re-imports idempotent.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

PRICE = {"max_digits": 18, "decimal_places": 8}


class Timeframe(models.TextChoices):
    M1 = "M1", "1 minute"
    M5 = "M5", "5 minutes"
    M15 = "M15", "15 minutes"
    M30 = "M30", "30 minutes"
    H1 = "H1", "1 hour"
    H4 = "H4", "4 hours"
    D1 = "D1", "1 day (17:00 New York)"
    W1 = "W1", "1 week (Sunday 17:00 New York)"


class Instrument(models.Model):
    """A tradable FX pair (or metal) and its contract specification."""

    symbol = models.CharField(max_length=16, unique=True)
    description = models.CharField(max_length=100, blank=True)
    base_currency = models.CharField(max_length=3)
    quote_currency = models.CharField(max_length=3)
    digits = models.PositiveSmallIntegerField(help_text="Decimal places of a quote (5 → 1.08345).")
    pip_size = models.DecimalField(max_digits=12, decimal_places=8)
    contract_size = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("100000"))
    lot_min = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0.01"))
    lot_step = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0.01"))
    lot_max = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("100"))
    margin_rate = models.DecimalField(
        max_digits=8,
        decimal_places=6,
        default=Decimal("0.033333"),
        help_text="Margin as a fraction of notional (0.033333 = 1:30).",
    )
    swap_long = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Points per lot per night for long positions.",
    )
    swap_short = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Points per lot per night for short positions.",
    )
    max_spread_pips = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("50"),
        help_text="Quotes with a wider spread are rejected by validation.",
    )
    session_timezone = models.CharField(max_length=64, default="America/New_York")
    week_open = models.CharField(
        max_length=16, default="SUN 17:00", help_text="Weekly open in the session time zone."
    )
    week_close = models.CharField(
        max_length=16, default="FRI 17:00", help_text="Weekly close in the session time zone."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pip_size__gt=0), name="instrument_pip_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(lot_min__gt=0)
                & models.Q(lot_step__gt=0)
                & models.Q(lot_max__gte=models.F("lot_min")),
                name="instrument_lots_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)

    def clean(self) -> None:
        import zoneinfo

        from django.core.exceptions import ValidationError

        from apps.marketdata.calendar import WeeklySession

        errors: dict[str, str] = {}
        if self.digits is not None and self.digits > 8:
            errors["digits"] = "At most 8 decimal places are stored."
        if self.digits is not None and self.pip_size is not None and self.pip_size < self.point:
            errors["pip_size"] = "A pip cannot be smaller than a point."
        try:
            zoneinfo.ZoneInfo(self.session_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["session_timezone"] = f"Unknown time zone {self.session_timezone!r}."
        for name in ("week_open", "week_close"):
            try:
                WeeklySession._minute_of_week(getattr(self, name))
            except (ValueError, KeyError):
                errors[name] = "Use a day and a time, e.g. 'SUN 17:00'."
        if self.lot_min is not None and self.lot_min <= 0:
            errors["lot_min"] = "Must be positive."
        if self.lot_max is not None and self.lot_min is not None and self.lot_max < self.lot_min:
            errors["lot_max"] = "Must not be below lot_min."
        if errors:
            raise ValidationError(errors)


class MarketHoliday(models.Model):
    """A trading day on which the market is closed (17:00 New York to 17:00)."""

    date = models.DateField(help_text="The FX trade date that is closed.")
    name = models.CharField(max_length=100)
    instruments = models.ManyToManyField(
        Instrument, blank=True, help_text="Leave empty to close every instrument."
    )

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class DataSource(models.Model):
    """Where prices come from; operators start and stop the live ones."""

    class Kind(models.TextChoices):
        IMPORT = "import", "History import"
        REPLAY = "replay", "Replay of stored history"
        SYNTHETIC = "synthetic", "Synthetic (simulated)"
        MT5 = "mt5", "MetaTrader 5"

    class State(models.TextChoices):
        STOPPED = "stopped", "Stopped"
        STARTING = "starting", "Starting"
        RUNNING = "running", "Running"
        STOPPING = "stopping", "Stopping"
        ERROR = "error", "Error"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    instruments = models.ManyToManyField(Instrument, blank=True, related_name="sources")
    config = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STOPPED)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_simulated(self) -> bool:
        return self.kind == self.Kind.SYNTHETIC

    @property
    def is_live(self) -> bool:
        return self.kind != self.Kind.IMPORT


class Tick(models.Model):
    """A quote. Stored in the partitioned table created by migration 0002."""

    pk = models.CompositePrimaryKey("instrument", "source", "time")
    instrument = models.ForeignKey(Instrument, on_delete=models.DO_NOTHING, db_constraint=False)
    source = models.ForeignKey(DataSource, on_delete=models.DO_NOTHING, db_constraint=False)
    time = models.DateTimeField()
    bid = models.DecimalField(**PRICE)
    ask = models.DecimalField(**PRICE)
    volume = models.DecimalField(max_digits=20, decimal_places=4, null=True)

    class Meta:
        managed = False
        db_table = "marketdata_tick"
        ordering = ["time"]

    def __str__(self) -> str:
        return f"{self.instrument_id}@{self.time:%Y-%m-%d %H:%M:%S.%f} {self.bid}/{self.ask}"


class Bar(models.Model):
    """An OHLC bar of bid prices with the closing spread and tick volume."""

    # No database-level foreign keys: deferred FK checks of every bar written by
    # an import cost more than the import (deletion is PROTECTed in the ORM).
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    time = models.DateTimeField(help_text="Open time (UTC).")
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    spread = models.DecimalField(**PRICE, null=True, blank=True)
    volume = models.BigIntegerField(default=0, help_text="Tick volume.")

    class Meta:
        ordering = ["time"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "source", "timeframe", "time"], name="bar_unique_time"
            ),
            models.CheckConstraint(
                condition=models.Q(low__lte=models.F("high")), name="bar_low_le_high"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.timeframe} {self.time:%Y-%m-%d %H:%M} O{self.open} C{self.close}"


class IngestionRun(models.Model):
    """One file import or one session of a live source, with its counts."""

    class Kind(models.TextChoices):
        IMPORT = "import", "File import"
        LIVE = "live", "Live feed"
        BACKFILL = "backfill", "Backfill"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"

    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True, max_length=300)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=16, blank=True)
    data_kind = models.CharField(max_length=8, blank=True, help_text="tick or bar")
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices, blank=True)
    tz = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    accepted = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    first_time = models.DateTimeField(null=True, blank=True)
    last_time = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class RejectedRow(models.Model):
    """A row that did not pass parsing or validation, with why."""

    run = models.ForeignKey(IngestionRun, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.BigIntegerField(null=True, blank=True)
    time = models.DateTimeField(null=True, blank=True)
    raw = models.TextField(blank=True)
    reason = models.CharField(max_length=32)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "line", "id"]
        indexes = [models.Index(fields=["run", "reason"])]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# Importable name of the import status choices, for the OpenAPI enum names.
IngestionStatus = IngestionRun.Status

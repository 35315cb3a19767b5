"""Strategies: saved strategies (a built-in class with validated
parameters) and backtest runs with their stored results."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedStrategy(models.Model):
    """A strategy class (``builtin.BUILTIN`` key) with chosen parameters."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strategies"
    )
    name = models.CharField(max_length=100)
    strategy = models.CharField(max_length=64, help_text="Built-in strategy key, e.g. sma_cross.")
    params = models.JSONField(default=dict, help_text="Validated parameters.")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "saved strategies"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="strategy_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.strategy})"


class Backtest(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests"
    )
    strategy = models.CharField(max_length=64)
    saved_strategy = models.ForeignKey(
        SavedStrategy, null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests"
    )
    params = models.JSONField(default=dict)
    symbols = models.JSONField(default=list)
    timeframe = models.CharField(max_length=3)
    start = models.DateTimeField()
    end = models.DateTimeField()
    settings = models.JSONField(
        default=dict,
        help_text="Balance, currency, leverage, sizing, commission, spread, slippage, swap.",
    )
    path = models.CharField(max_length=16, default="auto", help_text="auto, vectorised or bar.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    # Results.
    path_used = models.CharField(max_length=16, blank=True)
    bars = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    equity = models.JSONField(
        default=dict, blank=True, help_text="Downsampled curve: time (ms), equity, drawdown."
    )
    trades = models.JSONField(default=dict, blank=True, help_text="Columns of the trade list.")
    monthly = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.strategy} {','.join(self.symbols)} {self.timeframe} {self.status}"


class Optimisation(models.Model):
    """A parameter search (grid, random or Optuna TPE) over a strategy's
    schema, optionally walk-forward: each window optimises in-sample, then
    tests its best parameters out of sample."""

    class Method(models.TextChoices):
        GRID = "grid"
        RANDOM = "random"
        OPTUNA = "optuna"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL = (Status.DONE, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="optimisations"
    )
    strategy = models.CharField(max_length=64)
    params = models.JSONField(default=dict, help_text="Fixed parameters (not searched).")
    space = models.JSONField(
        default=dict, help_text='Per parameter: {"values": [...]} or {"min", "max", "step"}.'
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.GRID)
    trials_wanted = models.PositiveIntegerField(default=50, help_text="Random and Optuna.")
    objective = models.CharField(max_length=24, default="sharpe")
    min_trades = models.PositiveIntegerField(default=10)
    seed = models.IntegerField(default=0)
    symbols = models.JSONField(default=list)
    timeframe = models.CharField(max_length=3)
    start = models.DateTimeField()
    end = models.DateTimeField()
    settings = models.JSONField(default=dict)
    walk_forward = models.JSONField(
        null=True,
        blank=True,
        help_text='{"mode": "rolling"|"anchored", "in_sample_days": n, "out_of_sample_days": n}',
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    best_params = models.JSONField(null=True, blank=True)
    best_value = models.FloatField(null=True, blank=True)
    result = models.JSONField(
        default=dict, blank=True, help_text="Windows, stitched out-of-sample equity, degradation."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.method} {self.strategy} {self.status}"


class Trial(models.Model):
    class Phase(models.TextChoices):
        IN_SAMPLE = "is", "In sample"
        OUT_OF_SAMPLE = "oos", "Out of sample"

    class Status(models.TextChoices):
        QUEUED = "queued"
        DONE = "done"
        INVALID = "invalid"  # parameters refused, too few trades, no value
        FAILED = "failed"

    optimisation = models.ForeignKey(Optimisation, on_delete=models.CASCADE, related_name="trials")
    window = models.PositiveSmallIntegerField(default=0)
    phase = models.CharField(max_length=3, choices=Phase.choices, default=Phase.IN_SAMPLE)
    number = models.PositiveIntegerField()
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    value = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    equity = models.JSONField(default=dict, blank=True, help_text="Out-of-sample trials only.")
    error = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["window", "phase", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["optimisation", "window", "phase", "number"], name="trial_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.optimisation_id}/{self.window}/{self.phase}/{self.number}"


class Deployment(models.Model):
    """A strategy with parameters trading an account, instrument and
    timeframe: on every closed bar of its feed (``live``), or over stored
    history through the live path (``replay``)."""

    class Mode(models.TextChoices):
        LIVE = "live", "Live bars"
        REPLAY = "replay", "Replay of stored bars"

    class Status(models.TextChoices):
        RUNNING = "running"
        PAUSED = "paused"
        STOPPED = "stopped"
        FINISHED = "finished"  # a replay that reached its end
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployments"
    )
    name = models.CharField(max_length=100)
    strategy = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    account = models.ForeignKey(
        "trading.TradingAccount", on_delete=models.PROTECT, related_name="deployments"
    )
    instrument = models.ForeignKey(
        "marketdata.Instrument", on_delete=models.PROTECT, related_name="+"
    )
    timeframe = models.CharField(max_length=3)
    source = models.ForeignKey(
        "marketdata.DataSource",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose bars it trades on (empty: any live feed of the instrument).",
    )
    sizing = models.JSONField(default=dict, help_text='{"mode": "lots", "value": 0.1}')
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.LIVE)
    replay_start = models.DateTimeField(null=True, blank=True)
    replay_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    state = models.BinaryField(null=True, blank=True, editable=False)
    bars_seen = models.PositiveIntegerField(default=0)
    last_bar_at = models.DateTimeField(null=True, blank=True)
    ticks_seen = models.PositiveIntegerField(
        default=0,
        help_text="Live ticks given to the strategy's on_tick (strategies that have one).",
    )
    last_tick_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["instrument", "timeframe", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.strategy} {self.timeframe}) {self.status}"

    @property
    def ref(self) -> str:
        """``source_ref`` of its orders."""
        return f"deployment:{self.pk}"


# Module-level names of the choice sets (drf-spectacular's ENUM_NAME_OVERRIDES).
BacktestStatus = Backtest.Status
OptimisationMethod = Optimisation.Method
TrialStatus = Trial.Status
TrialPhase = Trial.Phase
DeploymentStatus = Deployment.Status
DeploymentMode = Deployment.Mode

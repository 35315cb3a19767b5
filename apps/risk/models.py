"""Risk: limits (platform defaults and per-account overrides), trading states
with their history, the figures the monitor keeps per account, and risk events.

A limit left empty on an account inherits the platform default; an empty
platform default means "no limit". Money limits are in the account currency.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.trading.models import TradingAccount

LOTS = {"max_digits": 12, "decimal_places": 2}
MONEY = {"max_digits": 24, "decimal_places": 8}
PERCENT = {"max_digits": 10, "decimal_places": 2}


class TradingState(models.TextChoices):
    ACTIVE = "active", "Active"
    REDUCING = "reducing", "Reducing only (orders that reduce positions)"
    HALTED = "halted", "Halted (nothing new, working orders cancelled)"


# How restrictive each state is: the effective state of an account is the
# stricter of its own and the platform's.
SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class BreachAction(models.TextChoices):
    ALERT = "alert", "Record an event only"
    REDUCE = "reduce", "Switch the account to reducing"
    HALT = "halt", "Halt the account (cancel working orders)"
    FLATTEN = "flatten", "Halt the account and close its positions"


def _action_field(default: str = "", help_text: str = "") -> models.CharField:
    return models.CharField(
        max_length=8, choices=BreachAction.choices, blank=True, default=default, help_text=help_text
    )


class RiskLimitFields(models.Model):
    """The limits, shared by the platform defaults and the account overrides."""

    max_order_lots = models.DecimalField(
        **LOTS, null=True, blank=True, help_text="Largest single order (lots)."
    )
    max_position_lots = models.DecimalField(
        **LOTS,
        null=True,
        blank=True,
        help_text="Largest net position per instrument (lots), working orders included.",
    )
    max_gross_exposure = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Per currency: the sum of the absolute legs of every position (account currency).",
    )
    max_net_exposure = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Per currency: the absolute net of every position's legs (account currency).",
    )
    max_leverage = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Gross notional of the positions / equity.",
    )
    min_margin_level = models.DecimalField(
        **PERCENT,
        null=True,
        blank=True,
        help_text="Lowest margin level (equity / margin, percent) an order may leave.",
    )
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    max_orders_per_minute = models.PositiveIntegerField(null=True, blank=True)
    max_daily_loss = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Loss of equity since the day start (17:00 New York), account currency.",
    )
    max_drawdown_pct = models.DecimalField(
        **PERCENT, null=True, blank=True, help_text="Fall of equity from its peak, percent."
    )
    allowed_symbols = models.JSONField(
        null=True,
        blank=True,
        help_text='Instruments that may be traded, e.g. ["EURUSD", "GBPUSD"]; empty: all.',
    )
    hours_start = models.TimeField(
        null=True, blank=True, help_text="Trading allowed from (with hours_end)."
    )
    hours_end = models.TimeField(
        null=True, blank=True, help_text="Trading allowed until (may wrap past midnight)."
    )
    hours_timezone = models.CharField(
        max_length=64, blank=True, help_text="Time zone of the trading hours (default UTC)."
    )
    stop_out_level = models.DecimalField(
        **PERCENT,
        null=True,
        blank=True,
        help_text="Paper accounts: margin level (percent) at which the largest losing "
        "position is closed, one at a time.",
    )
    daily_loss_action = _action_field()
    drawdown_action = _action_field()
    margin_action = _action_field()
    exposure_action = _action_field(help_text="On a position, exposure breach.")
    leverage_action = _action_field()

    LIMITS = (
        "max_order_lots",
        "max_position_lots",
        "max_gross_exposure",
        "max_net_exposure",
        "max_leverage",
        "min_margin_level",
        "max_open_orders",
        "max_orders_per_minute",
        "max_daily_loss",
        "max_drawdown_pct",
        "allowed_symbols",
        "hours_start",
        "hours_end",
        "hours_timezone",
        "stop_out_level",
        "daily_loss_action",
        "drawdown_action",
        "margin_action",
        "exposure_action",
        "leverage_action",
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if (self.hours_start is None) != (self.hours_end is None):
            errors["hours_end"] = ["Give both the start and the end of the trading hours."]
        if self.hours_start is not None and self.hours_start == self.hours_end:
            errors["hours_end"] = ["The trading hours are empty (start equals end)."]
        if self.hours_timezone:
            try:
                ZoneInfo(self.hours_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                errors["hours_timezone"] = [f"Unknown time zone {self.hours_timezone!r}."]
        if self.allowed_symbols is not None:
            symbols = self.allowed_symbols
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                errors["allowed_symbols"] = ['A list of symbols, e.g. ["EURUSD"].']
            else:
                from apps.marketdata.models import Instrument

                upper = [s.upper() for s in symbols]
                known = set(
                    Instrument.objects.filter(symbol__in=upper).values_list("symbol", flat=True)
                )
                unknown = sorted(set(upper) - known)
                if unknown:
                    errors["allowed_symbols"] = [f"Unknown instruments: {', '.join(unknown)}."]
                else:
                    self.allowed_symbols = sorted(set(upper))
        for name in ("max_order_lots", "max_position_lots", "max_leverage"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                errors[name] = ["Must be positive."]
        for name in ("max_gross_exposure", "max_net_exposure", "max_daily_loss"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors[name] = ["Must not be negative."]
        if self.max_drawdown_pct is not None and not 0 < self.max_drawdown_pct <= 100:
            errors["max_drawdown_pct"] = ["A percentage above 0, at most 100."]
        if errors:
            raise ValidationError(errors)


class StateFields(models.Model):
    state = models.CharField(
        max_length=8, choices=TradingState.choices, default=TradingState.ACTIVE, editable=False
    )
    state_reason = models.CharField(max_length=300, blank=True, editable=False)
    state_actor = models.CharField(max_length=100, blank=True, editable=False)
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class PlatformRisk(RiskLimitFields, StateFields):
    """The platform's default limits and its trading state (a single row).

    Actions on breaches default to: daily loss and drawdown halt, margin,
    exposure and leverage switch to reducing."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    stop_out_level = models.DecimalField(
        **PERCENT,
        null=True,
        blank=True,
        default=50,
        help_text="Paper accounts: margin level (percent) at which the largest losing "
        "position is closed, one at a time.",
    )
    daily_loss_action = _action_field(BreachAction.HALT)
    drawdown_action = _action_field(BreachAction.HALT)
    margin_action = _action_field(BreachAction.REDUCE)
    exposure_action = _action_field(BreachAction.REDUCE, "On a position, exposure breach.")
    leverage_action = _action_field(BreachAction.REDUCE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "platform risk (defaults and state)"
        verbose_name_plural = "platform risk (defaults and state)"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="platform_risk_single_row")]

    def __str__(self) -> str:
        return f"Platform defaults ({self.state})"


class AccountRisk(RiskLimitFields, StateFields):
    """An account's limit overrides, its trading state and what the monitor
    keeps: the equity peak, the day-start equity (17:00 New York) and the last
    figures."""

    account = models.OneToOneField(
        TradingAccount, on_delete=models.CASCADE, primary_key=True, related_name="risk"
    )
    peak_equity = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    peak_at = models.DateTimeField(null=True, blank=True, editable=False)
    day_start_equity = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    trade_date = models.DateField(
        null=True, blank=True, editable=False, help_text="FX trade date of the day-start equity."
    )
    ledger_cursor = models.BigIntegerField(
        default=0,
        editable=False,
        help_text="Last ledger entry whose deposit or withdrawal moved the peak and day start.",
    )
    breaches = models.JSONField(default=list, blank=True, editable=False)
    figures = models.JSONField(default=dict, blank=True, editable=False)
    monitored_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "account risk (limits and state)"
        verbose_name_plural = "account risk (limits and state)"
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.account} ({self.state})"


class TradingStateChange(models.Model):
    """Every change of a trading state: who or what changed it and why."""

    account = models.ForeignKey(
        TradingAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_state_changes",
        help_text="Empty: the platform's state.",
    )
    from_state = models.CharField(max_length=8, choices=TradingState.choices)
    to_state = models.CharField(max_length=8, choices=TradingState.choices)
    actor = models.CharField(max_length=100, help_text="user:<name>, monitor, kill_switch, ...")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["account", "-time"])]

    def __str__(self) -> str:
        scope = f"account {self.account_id}" if self.account_id else "platform"
        return f"{scope}: {self.from_state} → {self.to_state}"


class RiskEvent(models.Model):
    """Something the risk system saw or did: a breach (and its end), a
    stop-out, a kill switch, a state change, a change of limits."""

    class Kind(models.TextChoices):
        BREACH = "breach", "Limit breached"
        CLEARED = "cleared", "Breach cleared"
        STOP_OUT = "stop_out", "Margin stop-out"
        KILL_SWITCH = "kill_switch", "Kill switch"
        STATE = "state", "Trading state changed"
        LIMITS = "limits", "Limits changed"

    account = models.ForeignKey(
        TradingAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_events",
        help_text="Empty: platform-wide.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.CharField(max_length=32, blank=True, help_text="RISK_* code of the limit.")
    message = models.CharField(max_length=500)
    actor = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["account", "-time"]), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}: {self.message[:60]}"


# Importable names of the choice sets, for the OpenAPI enum names.
RiskEventKind = RiskEvent.Kind

"""Operators run risk from the admin: limits (platform defaults and account
overrides), trading states with their history, risk events; actions halt,
reduce, activate and the kill switch. Every action asks for a reason (the
field next to the action list), recorded with the operator's name."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html, format_html_join

from apps.risk import services
from apps.risk.models import (
    AccountRisk,
    PlatformRisk,
    RiskEvent,
    TradingState,
    TradingStateChange,
)
from fxsite.errors import ApplicationError

LIMIT_FIELDSETS = [
    (
        "Orders",
        {
            "fields": [
                "max_order_lots",
                "max_open_orders",
                "max_orders_per_minute",
                "allowed_symbols",
                ("hours_start", "hours_end", "hours_timezone"),
            ]
        },
    ),
    (
        "Positions and exposure (account currency)",
        {
            "fields": [
                "max_position_lots",
                "max_gross_exposure",
                "max_net_exposure",
                "max_leverage",
                "min_margin_level",
                "stop_out_level",
            ]
        },
    ),
    ("Losses", {"fields": ["max_daily_loss", "max_drawdown_pct"]}),
    (
        "On a breach found by the monitor",
        {
            "fields": [
                "daily_loss_action",
                "drawdown_action",
                "margin_action",
                "exposure_action",
                "leverage_action",
            ]
        },
    ),
]
STATE_FIELDS = ["state", "state_reason", "state_actor", "state_changed_at"]


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False, max_length=300, label="Reason", help_text="Recorded with the action."
    )


def _reason(modeladmin, request) -> str | None:
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        modeladmin.message_user(
            request, "Give a reason for this action (next to the action list).", messages.ERROR
        )
        return None
    return reason


class _LimitsAdmin(admin.ModelAdmin):
    action_form = ReasonActionForm

    def save_model(self, request, obj, form, change) -> None:
        """Limits change through the service: validated and recorded as an event."""
        changes = {name: getattr(obj, name) for name in form.changed_data if name in obj.LIMITS}
        account = obj.account if isinstance(obj, AccountRisk) else None
        services.limits_update(account=account, changes=changes, actor=request.user)

    def _set_state(self, request, queryset, state: str) -> None:
        reason = _reason(self, request)
        if reason is None:
            return
        done = 0
        for row in queryset:
            account = row.account if isinstance(row, AccountRisk) else None
            try:
                if services.trading_state_set(
                    state=state, account=account, actor=request.user, reason=reason
                ):
                    done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} set to {state}.", messages.SUCCESS)

    @admin.action(description="Halt (cancel working orders)")
    def halt(self, request, queryset) -> None:
        self._set_state(request, queryset, TradingState.HALTED)

    @admin.action(description="Reducing only")
    def reduce(self, request, queryset) -> None:
        self._set_state(request, queryset, TradingState.REDUCING)

    @admin.action(description="Activate (lift halt or reducing)")
    def activate(self, request, queryset) -> None:
        self._set_state(request, queryset, TradingState.ACTIVE)

    def _kill(self, request, queryset, flatten: bool) -> None:
        reason = _reason(self, request)
        if reason is None:
            return
        for row in queryset:
            if isinstance(row, AccountRisk):
                result = services.kill_switch(
                    scope="account",
                    account=row.account,
                    flatten=flatten,
                    actor=request.user,
                    reason=reason,
                )
            else:
                result = services.kill_switch(
                    scope="all", flatten=flatten, actor=request.user, reason=reason
                )
            self.message_user(
                request,
                f"Kill switch ({row}): {result['cancelled']} orders cancelled, "
                f"{result['closing']} positions closing.",
                messages.WARNING,
            )

    @admin.action(description="Kill switch: halt and cancel working orders")
    def kill_switch(self, request, queryset) -> None:
        self._kill(request, queryset, flatten=False)

    @admin.action(description="Kill switch and flatten: halt, cancel, close all positions")
    def kill_switch_flatten(self, request, queryset) -> None:
        self._kill(request, queryset, flatten=True)


@admin.register(PlatformRisk)
class PlatformRiskAdmin(_LimitsAdmin):
    list_display = ["__str__", "state", "state_reason", "state_actor", "state_changed_at"]
    readonly_fields = [*STATE_FIELDS, "updated_at"]
    fieldsets = [("Trading state", {"fields": STATE_FIELDS}), *LIMIT_FIELDSETS]
    actions = ["halt", "reduce", "activate", "kill_switch", "kill_switch_flatten"]

    def has_add_permission(self, request) -> bool:
        return not PlatformRisk.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        PlatformRisk.objects.get_or_create(pk=1)
        return super().changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) == "1":
            PlatformRisk.objects.get_or_create(pk=1)
        return super().get_object(request, object_id, from_field)


@admin.register(AccountRisk)
class AccountRiskAdmin(_LimitsAdmin):
    list_display = [
        "account",
        "owner",
        "state",
        "state_reason",
        "equity",
        "margin_level",
        "daily_pnl",
        "drawdown_pct",
        "breach_list",
        "monitored_at",
    ]
    list_filter = ["state", "account__broker"]
    search_fields = ["account__name", "account__owner__username"]
    list_select_related = ["account__owner"]
    readonly_fields = [
        *STATE_FIELDS,
        "peak_equity",
        "peak_at",
        "day_start_equity",
        "trade_date",
        "breaches",
        "figures",
        "monitored_at",
        "history",
    ]
    fieldsets = [
        (None, {"fields": ["account"]}),
        ("Trading state", {"fields": [*STATE_FIELDS, "history"]}),
        *LIMIT_FIELDSETS,
        (
            "Monitor",
            {
                "fields": [
                    "peak_equity",
                    "peak_at",
                    "day_start_equity",
                    "trade_date",
                    "breaches",
                    "figures",
                    "monitored_at",
                ]
            },
        ),
    ]
    actions = ["halt", "reduce", "activate", "kill_switch", "kill_switch_flatten"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "account"] if obj is not None else fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="state history")
    def history(self, obj) -> str:
        changes = TradingStateChange.objects.filter(account_id=obj.pk)[:50]
        if not changes:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (f"{c.time:%Y-%m-%d %H:%M:%S}", c.from_state, c.to_state, c.actor, c.reason)
                for c in changes
            ),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description="owner")
    def owner(self, obj) -> str:
        return obj.account.owner.username

    def _figure(self, obj, name):
        return (obj.figures or {}).get(name)

    @admin.display(description="equity")
    def equity(self, obj):
        return self._figure(obj, "equity")

    @admin.display(description="margin level %")
    def margin_level(self, obj):
        return self._figure(obj, "margin_level")

    @admin.display(description="daily P&L")
    def daily_pnl(self, obj):
        return self._figure(obj, "daily_pnl")

    @admin.display(description="drawdown %")
    def drawdown_pct(self, obj):
        return self._figure(obj, "drawdown_pct")

    @admin.display(description="breaches")
    def breach_list(self, obj) -> str:
        return ", ".join(obj.breaches or [])


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TradingStateChange)
class TradingStateChangeAdmin(_ReadOnlyAdmin):
    list_display = ["time", "scope", "from_state", "to_state", "actor", "reason"]
    list_filter = ["to_state", "from_state"]
    search_fields = ["account__name", "actor", "reason"]
    date_hierarchy = "time"
    list_select_related = ["account"]

    @admin.display(description="scope")
    def scope(self, obj) -> str:
        return str(obj.account) if obj.account_id else "platform"


@admin.register(RiskEvent)
class RiskEventAdmin(_ReadOnlyAdmin):
    list_display = ["time", "account", "kind", "code", "message", "actor"]
    list_filter = ["kind", "code"]
    search_fields = ["account__name", "message", "actor"]
    date_hierarchy = "time"
    list_select_related = ["account"]

from django import forms
from django.contrib import admin, messages

from apps.strategies import deploy, optimise, services
from apps.strategies.builtin import BUILTIN
from apps.strategies.errors import InvalidParameters
from apps.strategies.models import Backtest, Deployment, Optimisation, SavedStrategy, Trial


class SavedStrategyForm(forms.ModelForm):
    strategy = forms.ChoiceField(choices=[(k, c.name) for k, c in BUILTIN.items()])

    class Meta:
        model = SavedStrategy
        fields = ["owner", "name", "strategy", "params", "description"]

    def clean(self):
        data = super().clean()
        cls = BUILTIN.get(data.get("strategy"))
        if cls is not None:
            try:
                data["params"] = cls.validate(data.get("params") or {})
            except InvalidParameters as exc:
                for name, problems in exc.fields.items():
                    self.add_error("params", f"{name}: {' '.join(problems)}")
        return data


@admin.register(SavedStrategy)
class SavedStrategyAdmin(admin.ModelAdmin):
    form = SavedStrategyForm
    list_display = ["name", "strategy", "owner", "updated_at"]
    list_filter = ["strategy"]
    search_fields = ["name", "owner__username"]


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    """Backtests are results: read-only here, with a cancel action."""

    list_display = [
        "id",
        "strategy",
        "symbols",
        "timeframe",
        "status",
        "progress",
        "owner",
        "created_at",
        "seconds",
    ]
    list_filter = ["status", "strategy", "timeframe"]
    search_fields = ["strategy", "owner__username"]
    readonly_fields = [f.name for f in Backtest._meta.fields]
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel the selected backtests")
    def cancel(self, request, queryset):
        for backtest in queryset:
            services.backtest_cancel(backtest=backtest)
        messages.info(request, f"Asked {queryset.count()} backtests to stop.")


class TrialInline(admin.TabularInline):
    model = Trial
    fields = ["window", "phase", "number", "params", "status", "value", "worker", "seconds"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["window", "phase", "-value"]
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Optimisation)
class OptimisationAdmin(admin.ModelAdmin):
    """Searches and their trials: read-only, with a cancel action."""

    list_display = [
        "id",
        "strategy",
        "method",
        "objective",
        "symbols",
        "timeframe",
        "status",
        "progress",
        "best_value",
        "owner",
        "created_at",
    ]
    list_filter = ["status", "method", "strategy"]
    readonly_fields = [f.name for f in Optimisation._meta.fields]
    inlines = [TrialInline]
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel the selected optimisations")
    def cancel(self, request, queryset):
        for row in queryset:
            optimise.cancel(optimisation=row)
        messages.info(request, f"Asked {queryset.count()} optimisations to stop.")


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Deployments: read-only here; pause, resume and stop go through the service."""

    list_display = [
        "id",
        "name",
        "strategy",
        "account",
        "instrument",
        "timeframe",
        "mode",
        "status",
        "bars_seen",
        "ticks_seen",
        "last_bar_at",
        "owner",
    ]
    list_filter = ["status", "mode", "strategy", "timeframe"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [f.name for f in Deployment._meta.fields if f.name != "state"]
    exclude = ["state"]
    actions = ["pause", "resume", "stop"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def _set(self, request, queryset, status):
        done = 0
        for row in queryset:
            try:
                deploy.set_status(deployment=row, status=status, user=request.user)
                done += 1
            except Exception as exc:  # shown to the operator, the others still go
                messages.error(request, f"{row}: {exc}")
        messages.info(request, f"{done} deployments {status}.")

    @admin.action(description="Pause")
    def pause(self, request, queryset):
        self._set(request, queryset, "paused")

    @admin.action(description="Resume")
    def resume(self, request, queryset):
        self._set(request, queryset, "running")

    @admin.action(description="Stop (cancel their working orders)")
    def stop(self, request, queryset):
        self._set(request, queryset, "stopped")

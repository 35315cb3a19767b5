from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.marketdata.errors import SourceStateError
from apps.marketdata.models import (
    Bar,
    DataSource,
    IngestionRun,
    Instrument,
    MarketHoliday,
    RejectedRow,
)
from apps.marketdata.selectors import source_lag_seconds
from apps.marketdata.services import sources as source_services


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "base_currency",
        "quote_currency",
        "digits",
        "pip_size",
        "contract_size",
        "lot_min",
        "lot_max",
        "margin_rate",
        "swap_long",
        "swap_short",
        "max_spread_pips",
        "enabled",
    ]
    list_filter = ["enabled", "base_currency", "quote_currency"]
    list_editable = ["enabled"]
    search_fields = ["symbol", "description"]
    fieldsets = (
        (None, {"fields": ("symbol", "description", "base_currency", "quote_currency", "enabled")}),
        (
            "Contract",
            {
                "fields": (
                    "digits",
                    "pip_size",
                    "contract_size",
                    "lot_min",
                    "lot_step",
                    "lot_max",
                    "margin_rate",
                )
            },
        ),
        ("Swaps and validation", {"fields": ("swap_long", "swap_short", "max_spread_pips")}),
        ("Trading session", {"fields": ("session_timezone", "week_open", "week_close")}),
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # stored prices refer to instruments: disable instead


@admin.register(MarketHoliday)
class MarketHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "scope"]
    search_fields = ["name"]
    date_hierarchy = "date"
    filter_horizontal = ["instruments"]

    @admin.display(description="Instruments")
    def scope(self, holiday: MarketHoliday) -> str:
        symbols = [i.symbol for i in holiday.instruments.all()]
        return ", ".join(symbols) if symbols else "all"


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "state",
        "simulated",
        "last_tick_at",
        "lag",
        "last_heartbeat_at",
        "short_error",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["name", "description"]
    filter_horizontal = ["instruments"]
    readonly_fields = [
        "state",
        "last_tick_at",
        "last_heartbeat_at",
        "last_error",
        "started_at",
        "stopped_at",
    ]
    actions = ["start_sources", "stop_sources"]

    @admin.display(boolean=True)
    def simulated(self, source: DataSource) -> bool:
        return source.is_simulated

    @admin.display(description="Lag (s)")
    def lag(self, source: DataSource):
        lag = source_lag_seconds(source)
        return None if lag is None else round(lag, 1)

    @admin.display(description="Last error")
    def short_error(self, source: DataSource) -> str:
        return source.last_error[:80]

    @admin.action(description="Start selected sources")
    def start_sources(self, request, queryset) -> None:
        for source in queryset:
            try:
                source_services.source_start(source=source)
                self.message_user(request, f"{source.name}: starting.", messages.SUCCESS)
            except SourceStateError as exc:
                self.message_user(request, f"{source.name}: {exc.message}", messages.WARNING)

    @admin.action(description="Stop selected sources")
    def stop_sources(self, request, queryset) -> None:
        for source in queryset:
            source_services.source_stop(source=source)
        self.message_user(request, f"Stopping {queryset.count()} source(s).", messages.SUCCESS)


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "source",
        "instrument",
        "status",
        "progress_pct",
        "accepted",
        "duplicates",
        "rejected_link",
        "file_name",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "source", "instrument"]
    search_fields = ["file_name", "error"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in IngestionRun._meta.fields]

    @admin.display(description="Rejected")
    def rejected_link(self, run: IngestionRun) -> str:
        if not run.rejected:
            return "0"
        url = reverse("admin:marketdata_rejectedrow_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{}</a>', url, run.rejected)

    @admin.display(description="Progress")
    def progress_pct(self, run: IngestionRun) -> str:
        return f"{run.progress * 100:.0f}%"

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(RejectedRow)
class RejectedRowAdmin(admin.ModelAdmin):
    list_display = ["run", "line", "time", "reason", "message", "raw"]
    list_filter = ["reason"]
    search_fields = ["raw", "message"]
    readonly_fields = ["run", "line", "time", "reason", "message", "raw", "created_at"]
    list_select_related = ["run"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Bar)
class BarAdmin(admin.ModelAdmin):
    list_display = [
        "instrument",
        "source",
        "timeframe",
        "time",
        "open",
        "high",
        "low",
        "close",
        "spread",
        "volume",
    ]
    list_filter = ["timeframe", "source", "instrument"]
    date_hierarchy = "time"
    readonly_fields = [
        "instrument",
        "source",
        "timeframe",
        "time",
        "open",
        "high",
        "low",
        "close",
        "spread",
        "volume",
    ]
    list_select_related = ["instrument", "source"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

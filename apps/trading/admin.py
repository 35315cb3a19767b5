from django.contrib import admin, messages

from apps.trading import algos
from apps.trading.models import (
    AlgoChild,
    AlgoOrder,
    Fill,
    LedgerEntry,
    Order,
    OrderEvent,
    Position,
    Reconciliation,
    SwapCharge,
    TradingAccount,
)
from fxsite.errors import ApplicationError


@admin.register(TradingAccount)
class TradingAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "broker",
        "currency",
        "balance",
        "leverage",
        "mode",
        "status",
        "created_at",
    ]
    list_filter = ["broker", "mode", "status", "currency"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [
        "balance",
        "broker_state",
        "created_at",
        "updated_at",
    ]  # balance moves only through the ledger
    list_select_related = ["owner"]
    actions = ["reconcile"]

    @admin.action(description="Reconcile with the broker now")
    def reconcile(self, request, queryset) -> None:
        from apps.trading import services

        for account in queryset:
            services.reconciliation_request(account=account, trigger="manual")
        self.message_user(
            request,
            f"Reconciliation queued for {queryset.count()} account(s); "
            "see Reconciliations for what it repaired.",
            messages.SUCCESS,
        )


@admin.register(Reconciliation)
class ReconciliationAdmin(admin.ModelAdmin):
    """What each comparison with the broker found and repaired (read-only)."""

    list_display = ["started_at", "account", "trigger", "status", "action_count", "error"]
    list_filter = ["status", "trigger", "account__broker"]
    search_fields = ["account__name", "account__owner__username"]
    date_hierarchy = "started_at"
    list_select_related = ["account"]
    readonly_fields = [
        "account",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "actions",
        "checked",
        "error",
    ]

    @admin.display(description="actions")
    def action_count(self, obj) -> int:
        return len(obj.actions or [])

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = ["time", "event", "from_status", "to_status", "actor", "correlation_id", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "client_order_id",
        "instrument",
        "side",
        "type",
        "quantity",
        "filled_quantity",
        "price",
        "stop_price",
        "status",
        "source",
        "created_at",
    ]
    list_filter = ["status", "type", "side", "source", "time_in_force", "instrument"]
    search_fields = ["client_order_id", "broker_order_id", "account__name"]
    date_hierarchy = "created_at"
    inlines = [OrderEventInline]
    list_select_related = ["account", "instrument"]
    readonly_fields = [
        "filled_quantity",
        "average_fill_price",
        "status",
        "broker_order_id",
        "reject_code",
        "reject_reason",
        "created_at",
        "updated_at",
        "accepted_at",
        "closed_at",
    ]

    actions = ["cancel_orders"]

    def has_add_permission(self, request) -> bool:
        return False  # orders are placed through the API, the dashboard or strategies

    def has_change_permission(self, request, obj=None) -> bool:
        # Orders change only through the trading services (state machine, audit
        # trail, broker): the page is the order's record, working orders are
        # cancelled with the action.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Cancel selected working orders (through their broker)")
    def cancel_orders(self, request, queryset) -> None:
        from apps.trading import services

        done, refused = 0, []
        for order in queryset.exclude(status__in=Order.FINAL):
            try:
                services.order_cancel(order=order, actor=f"admin:{request.user.username}")
                done += 1
            except ApplicationError as exc:
                refused.append(f"{order.client_order_id}: {exc.message}")
        self.message_user(request, f"Cancel sent for {done} order(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "; ".join(refused), messages.WARNING)


@admin.register(Fill)
class FillAdmin(admin.ModelAdmin):
    list_display = [
        "time",
        "account",
        "instrument",
        "side",
        "quantity",
        "price",
        "commission",
        "swap",
        "realized_pnl",
        "broker_deal_id",
    ]
    list_filter = ["side", "instrument"]
    search_fields = ["broker_deal_id", "order__client_order_id"]
    date_hierarchy = "time"
    list_select_related = ["account", "instrument"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "account",
        "instrument",
        "quantity",
        "average_price",
        "realized_pnl",
        "opened_at",
        "closed_at",
    ]
    list_filter = ["instrument", ("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["ticket", "broker_position_id", "account__name"]
    list_select_related = ["account", "instrument"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["time", "account", "kind", "amount", "balance_after", "note"]
    list_filter = ["kind"]
    search_fields = ["account__name", "note"]
    date_hierarchy = "time"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SwapCharge)
class SwapChargeAdmin(admin.ModelAdmin):
    list_display = ["rollover_date", "position", "nights", "amount", "created_at"]
    list_filter = ["rollover_date", "nights"]
    date_hierarchy = "rollover_date"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AlgoChildInline(admin.TabularInline):
    model = AlgoChild
    fields = ["slice_no", "order", "status", "quantity", "filled_quantity", "average_fill_price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description="status")
    def status(self, child: AlgoChild) -> str:
        return child.order.status

    @admin.display(description="quantity")
    def quantity(self, child: AlgoChild):
        return child.order.quantity

    @admin.display(description="filled")
    def filled_quantity(self, child: AlgoChild):
        return child.order.filled_quantity

    @admin.display(description="average price")
    def average_fill_price(self, child: AlgoChild):
        return child.order.average_fill_price


@admin.register(AlgoOrder)
class AlgoOrderAdmin(admin.ModelAdmin):
    """Algo orders are created through the API; here operators watch them and
    pause, resume or cancel them (through the same services)."""

    list_display = [
        "id",
        "client_id",
        "account",
        "instrument",
        "strategy",
        "side",
        "quantity",
        "filled_quantity",
        "average_price",
        "slices_sent",
        "next_slice_at",
        "status",
        "created_at",
    ]
    list_filter = ["status", "strategy", "side", "source", "instrument"]
    search_fields = ["client_id", "account__name", "account__owner__username"]
    date_hierarchy = "created_at"
    list_select_related = ["account", "instrument"]
    inlines = [AlgoChildInline]
    actions = ["pause", "resume", "cancel"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Algos change only through their services, under the algo's row lock
        # (a Save here would write the whole row over a step in progress).
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _run(self, request, queryset, service, done: str) -> None:
        ok = 0
        for algo in queryset:
            try:
                service(algo=algo, user=request.user)
                ok += 1
            except ApplicationError as exc:
                self.message_user(request, f"{algo.client_id}: {exc.message}", messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} algo order(s) {done}.", messages.SUCCESS)

    @admin.action(description="Pause the selected algo orders")
    def pause(self, request, queryset) -> None:
        self._run(request, queryset, algos.algo_pause, "paused")

    @admin.action(description="Resume the selected algo orders")
    def resume(self, request, queryset) -> None:
        self._run(request, queryset, algos.algo_resume, "resumed")

    @admin.action(description="Cancel the selected algo orders and their working children")
    def cancel(self, request, queryset) -> None:
        self._run(request, queryset, algos.algo_cancel, "cancelled")

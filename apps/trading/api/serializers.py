from rest_framework import serializers

from apps.trading.models import (
    Fill,
    Order,
    OrderEvent,
    Position,
    Reconciliation,
    TradingAccount,
)
from apps.trading.services import BATCH_MAX

# Where a client may say an order comes from (strategies and algos place their own).
PLACE_SOURCES = [("api", "API"), ("ui", "Dashboard")]


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    equity = serializers.CharField(read_only=True)
    margin = serializers.CharField(read_only=True)
    free_margin = serializers.CharField(read_only=True)
    margin_level = serializers.CharField(read_only=True, allow_null=True)
    open_pnl = serializers.CharField(read_only=True)

    class Meta:
        model = TradingAccount
        fields = [
            "id",
            "name",
            "owner",
            "broker",
            "currency",
            "balance",
            "equity",
            "margin",
            "free_margin",
            "margin_level",
            "open_pnl",
            "leverage",
            "mode",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["time", "event", "from_status", "to_status", "actor", "correlation_id", "data"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "account",
            "client_order_id",
            "symbol",
            "side",
            "type",
            "quantity",
            "filled_quantity",
            "average_fill_price",
            "price",
            "stop_price",
            "time_in_force",
            "expire_at",
            "stop_loss",
            "take_profit",
            "trailing_stop",
            "role",
            "parent",
            "source",
            "source_ref",
            "status",
            "cancel_requested",
            "reject_code",
            "reject_reason",
            "broker_order_id",
            "created_at",
            "accepted_at",
            "closed_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "events"]
        read_only_fields = fields


class OrderItemSerializer(serializers.Serializer):
    """An order to place, without its account (an item of a batch)."""

    symbol = serializers.CharField()
    side = serializers.ChoiceField(choices=Order.Side.choices)
    type = serializers.ChoiceField(choices=Order.Type.choices, default=Order.Type.MARKET)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    price = serializers.DecimalField(
        max_digits=20, decimal_places=10, required=False, allow_null=True
    )
    stop_price = serializers.DecimalField(
        max_digits=20, decimal_places=10, required=False, allow_null=True
    )
    time_in_force = serializers.ChoiceField(
        choices=Order.TimeInForce.choices, default=Order.TimeInForce.GTC
    )
    expire_at = serializers.DateTimeField(required=False, allow_null=True)
    stop_loss = serializers.DecimalField(
        max_digits=20, decimal_places=10, required=False, allow_null=True
    )
    take_profit = serializers.DecimalField(
        max_digits=20, decimal_places=10, required=False, allow_null=True
    )
    trailing_stop = serializers.DecimalField(
        max_digits=20, decimal_places=10, required=False, allow_null=True
    )
    client_order_id = serializers.CharField(max_length=64, required=False)
    source = serializers.ChoiceField(choices=PLACE_SOURCES, default="api")


class OrderPlaceSerializer(OrderItemSerializer):
    account = serializers.IntegerField()


# One of each for every order placed (the view and the order gateway): a
# serializer builds its fields on first use, which costs several times
# validating or rendering one order, and neither keeps anything of a call.
PLACE = OrderPlaceSerializer()
ORDER = OrderSerializer()


class OrderBatchSerializer(serializers.Serializer):
    """Orders to place together on one account (see ``orders_place_batch``)."""

    account = serializers.IntegerField()
    orders = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=BATCH_MAX
    )


class BatchErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BatchResultSerializer(serializers.Serializer):
    """One item's outcome: ``status`` 201 (placed), 200 (its ``client_order_id``
    was already used: the existing order) or 4xx with its ``error``."""

    status = serializers.IntegerField()
    order = OrderSerializer(required=False)
    error = BatchErrorSerializer(required=False)


class BatchResponseSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True)


class FillSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)

    class Meta:
        model = Fill
        fields = [
            "id",
            "account",
            "order",
            "symbol",
            "side",
            "quantity",
            "price",
            "commission",
            "swap",
            "realized_pnl",
            "broker_deal_id",
            "time",
        ]
        read_only_fields = fields


class PositionSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)
    unrealized_pnl = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Position
        fields = [
            "id",
            "account",
            "ticket",
            "symbol",
            "quantity",
            "average_price",
            "unrealized_pnl",
            "realized_pnl",
            "commission",
            "swap",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class OrderAmendSerializer(serializers.Serializer):
    """Give only what changes; the merged order is validated like a new one."""

    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    price = serializers.DecimalField(max_digits=20, decimal_places=10, required=False)
    stop_price = serializers.DecimalField(max_digits=20, decimal_places=10, required=False)
    expire_at = serializers.DateTimeField(required=False)
    trailing_stop = serializers.DecimalField(max_digits=20, decimal_places=10, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one field to change.")
        return attrs


class ReconciliationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "account",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "actions",
            "checked",
            "error",
        ]
        read_only_fields = fields

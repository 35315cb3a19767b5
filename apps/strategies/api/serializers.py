from rest_framework import serializers

from apps.strategies.models import Backtest, SavedStrategy


class SavedStrategySerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedStrategy
        fields = ["id", "name", "strategy", "params", "description", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class BacktestRequestSerializer(serializers.Serializer):
    """The request; checked as a whole by ``config.parse`` (field errors with
    dotted names such as ``params.fast`` or ``sizing.value``)."""

    strategy = serializers.CharField(help_text="Built-in key (sma_cross ...) or a saved id.")
    params = serializers.DictField(required=False)
    symbol = serializers.CharField(required=False)
    symbols = serializers.ListField(child=serializers.CharField(), required=False)
    timeframe = serializers.CharField(default="H1")
    start = serializers.CharField(help_text="ISO date or date-time, UTC unless an offset is given.")
    end = serializers.CharField()
    initial_balance = serializers.DecimalField(max_digits=20, decimal_places=2, required=False)
    account_currency = serializers.CharField(required=False, default="USD")
    leverage = serializers.FloatField(required=False)
    sizing = serializers.DictField(
        required=False, help_text='{"mode": "units"|"lots"|"risk_percent"|"fraction", "value": n}'
    )
    commission = serializers.DictField(
        required=False, help_text='{"mode": "per_lot"|"notional", "value": n}'
    )
    spread = serializers.JSONField(
        required=False, help_text='"bars" (default) or {"mode": "fixed", "pips": 1.2}'
    )
    slippage = serializers.FloatField(
        required=False, help_text="Pips against market and stop fills."
    )
    swap = serializers.BooleanField(required=False, default=True)
    stop_out_level = serializers.FloatField(required=False)
    path = serializers.ChoiceField(choices=["auto", "vectorised", "bar"], required=False)


class BacktestSerializer(serializers.ModelSerializer):
    class Meta:
        model = Backtest
        fields = [
            "id",
            "strategy",
            "saved_strategy",
            "params",
            "symbols",
            "timeframe",
            "start",
            "end",
            "settings",
            "path",
            "status",
            "progress",
            "cancel_requested",
            "error",
            "error_code",
            "path_used",
            "bars",
            "seconds",
            "metrics",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class TradeSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    side = serializers.CharField()
    lots = serializers.FloatField()
    units = serializers.FloatField()
    entry_time = serializers.DateTimeField()
    entry_price = serializers.FloatField()
    exit_time = serializers.DateTimeField()
    exit_price = serializers.FloatField()
    gross_pnl = serializers.FloatField()
    commission = serializers.FloatField()
    swap = serializers.FloatField()
    net_pnl = serializers.FloatField()
    reason = serializers.CharField()
    bars = serializers.IntegerField()


class BacktestDetailSerializer(BacktestSerializer):
    equity = serializers.SerializerMethodField()
    trades = serializers.SerializerMethodField()

    class Meta(BacktestSerializer.Meta):
        fields = [*BacktestSerializer.Meta.fields, "equity", "monthly", "notes", "trades"]
        read_only_fields = fields

    def get_equity(self, obj) -> list[dict]:
        """The curve downsampled for display: ``time`` (ISO), ``equity``, ``drawdown``."""
        from apps.strategies.api.views import iso_ms

        e = obj.equity or {}
        return [
            {"time": iso_ms(t), "equity": v, "drawdown": d}
            for t, v, d in zip(
                e.get("time", []), e.get("equity", []), e.get("drawdown", []), strict=True
            )
        ]

    def get_trades(self, obj) -> list[dict]:
        """Every trade (``trades/`` pages through them)."""
        from apps.strategies.api.views import trade_rows

        return trade_rows(obj)

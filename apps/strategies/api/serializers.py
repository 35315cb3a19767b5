from rest_framework import serializers

from apps.strategies.models import Backtest, Deployment, Optimisation, SavedStrategy, Trial


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
    ticks = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Fill inside bars from the stored ticks where present: stops, targets and "
        "resting orders trigger tick by tick, and a strategy's on_tick sees each tick.",
    )
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


class OptimisationRequestSerializer(BacktestRequestSerializer):
    """A backtest request plus the search: ``space``, ``method``, ``trials``,
    ``objective``, ``min_trades``, ``walk_forward``, ``seed``, ``parallel``."""

    space = serializers.DictField(
        help_text='Per parameter: {"values": [...]} or {"min": 5, "max": 30, "step": 5}.'
    )
    method = serializers.ChoiceField(choices=["grid", "random", "optuna"], default="grid")
    trials = serializers.IntegerField(required=False, help_text="Random and Optuna (per window).")
    objective = serializers.ChoiceField(
        choices=[
            "sharpe",
            "sortino",
            "calmar",
            "total_return",
            "annual_return",
            "profit_factor",
            "expectancy",
            "net_profit",
        ],
        default="sharpe",
    )
    min_trades = serializers.IntegerField(required=False, default=10)
    walk_forward = serializers.DictField(
        required=False,
        allow_null=True,
        help_text='{"mode": "rolling"|"anchored", "in_sample_days": 180, "out_of_sample_days": 60}',
    )
    seed = serializers.IntegerField(required=False, default=0)
    parallel = serializers.IntegerField(required=False, help_text="Optuna trials per batch.")


class OptimisationSerializer(serializers.ModelSerializer):
    trials_done = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Optimisation
        fields = [
            "id",
            "strategy",
            "params",
            "space",
            "method",
            "trials_wanted",
            "objective",
            "min_trades",
            "seed",
            "symbols",
            "timeframe",
            "start",
            "end",
            "settings",
            "walk_forward",
            "status",
            "progress",
            "cancel_requested",
            "error",
            "best_params",
            "best_value",
            "created_at",
            "finished_at",
            "trials_done",
        ]
        read_only_fields = fields


class OptimisationDetailSerializer(OptimisationSerializer):
    class Meta(OptimisationSerializer.Meta):
        fields = [*OptimisationSerializer.Meta.fields, "result"]
        read_only_fields = fields


class TrialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Trial
        fields = [
            "id",
            "window",
            "phase",
            "number",
            "params",
            "status",
            "value",
            "metrics",
            "error",
            "worker",
            "seconds",
            "finished_at",
        ]
        read_only_fields = fields


class DeploymentRequestSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    strategy = serializers.CharField()
    params = serializers.DictField(required=False)
    account = serializers.IntegerField()
    symbol = serializers.CharField()
    timeframe = serializers.CharField(default="H1")
    source = serializers.CharField(required=False, help_text="Data source name (default: any).")
    sizing = serializers.DictField(required=False, help_text='{"mode": "lots", "value": 0.1}')
    mode = serializers.ChoiceField(choices=["live", "replay"], default="live")
    start = serializers.CharField(required=False, help_text="Replay: first bar.")
    end = serializers.CharField(required=False, help_text="Replay: end (exclusive).")


class DeploymentSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    broker = serializers.CharField(source="account.broker", read_only=True)
    source_name = serializers.CharField(source="source.name", read_only=True, default=None)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "name",
            "strategy",
            "params",
            "account",
            "account_name",
            "broker",
            "symbol",
            "timeframe",
            "source_name",
            "sizing",
            "mode",
            "replay_start",
            "replay_end",
            "status",
            "bars_seen",
            "ticks_seen",
            "last_tick_at",
            "last_bar_at",
            "progress",
            "error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeploymentStatusSerializer(serializers.Serializer):
    close_positions = serializers.BooleanField(required=False, default=False)

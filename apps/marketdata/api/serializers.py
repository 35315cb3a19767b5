from rest_framework import serializers

from apps.marketdata import parsers
from apps.marketdata.models import DataSource, IngestionRun, Instrument, RejectedRow, Timeframe
from apps.marketdata.selectors import source_lag_seconds


class InstrumentSerializer(serializers.ModelSerializer):
    point = serializers.DecimalField(max_digits=12, decimal_places=8, read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "id",
            "symbol",
            "description",
            "base_currency",
            "quote_currency",
            "digits",
            "pip_size",
            "point",
            "contract_size",
            "lot_min",
            "lot_step",
            "lot_max",
            "margin_rate",
            "swap_long",
            "swap_short",
            "max_spread_pips",
            "session_timezone",
            "week_open",
            "week_close",
            "enabled",
        ]
        read_only_fields = ["id"]


class QuoteSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    bid = serializers.CharField(allow_null=True)
    ask = serializers.CharField(allow_null=True)
    time = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True)
    simulated = serializers.BooleanField(allow_null=True)


class BarSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    open = serializers.CharField()
    high = serializers.CharField()
    low = serializers.CharField()
    close = serializers.CharField()
    volume = serializers.IntegerField()
    spread = serializers.CharField(allow_null=True)


class TickSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    bid = serializers.CharField()
    ask = serializers.CharField()
    volume = serializers.CharField(allow_null=True)


class FromToMixin:
    """``from``/``to`` are the public parameter names (``from`` is a Python keyword)."""

    def to_internal_value(self, data):
        data = data.copy() if hasattr(data, "copy") else dict(data)
        for public, internal in (("from", "start"), ("to", "end")):
            if public in data and internal not in data:
                data[internal] = data[public]
        return super().to_internal_value(data)


class SeriesQuerySerializer(FromToMixin, serializers.Serializer):
    symbol = serializers.CharField()
    source = serializers.CharField(required=False)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1000)
    format = serializers.ChoiceField(
        choices=["rows", "columns", "csv"], required=False, default="rows"
    )

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"to": ["Must be after 'from'."]})
        return attrs


class BarQuerySerializer(SeriesQuerySerializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)


class GapQuerySerializer(FromToMixin, serializers.Serializer):
    symbol = serializers.CharField()
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)
    source = serializers.CharField(required=False)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    missing_bars = serializers.IntegerField()


class DataSourceSerializer(serializers.ModelSerializer):
    instruments = serializers.SlugRelatedField(
        slug_field="symbol", many=True, queryset=Instrument.objects.all(), required=False
    )
    simulated = serializers.BooleanField(source="is_simulated", read_only=True)
    lag_seconds = serializers.SerializerMethodField()
    config = serializers.JSONField(required=False)

    class Meta:
        model = DataSource
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "simulated",
            "instruments",
            "config",
            "state",
            "last_tick_at",
            "lag_seconds",
            "last_heartbeat_at",
            "last_error",
            "started_at",
            "stopped_at",
        ]
        read_only_fields = [
            "id",
            "state",
            "last_tick_at",
            "last_heartbeat_at",
            "last_error",
            "started_at",
            "stopped_at",
        ]

    def get_lag_seconds(self, source: DataSource) -> float | None:
        return source_lag_seconds(source)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        config = dict(data.get("config") or {})
        config.pop("checkpoint", None)  # runner state, not configuration
        data["config"] = config
        return data


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    symbol = serializers.CharField()
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)
    format = serializers.ChoiceField(choices=parsers.FORMATS, required=False)
    tz = serializers.CharField(required=False, max_length=64)


class ImportRunSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)
    rejected_rows_url = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = IngestionRun
        fields = [
            "id",
            "status",
            "progress",
            "symbol",
            "file_name",
            "file_size",
            "format",
            "data_kind",
            "timeframe",
            "tz",
            "accepted",
            "duplicates",
            "rejected",
            "first_time",
            "last_time",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "rejected_rows_url",
            "rejected_by_reason",
        ]
        read_only_fields = fields

    rejected_by_reason = serializers.SerializerMethodField()

    def get_rejected_by_reason(self, run: IngestionRun) -> dict[str, int]:
        """Rejected rows counted by reason (``{"inconsistent_ohlc": 2, ...}``)."""
        from apps.marketdata.selectors import rejected_counts

        return rejected_counts(run=run) if run.rejected else {}

    def get_rejected_rows_url(self, run: IngestionRun) -> str:
        path = f"/api/v1/marketdata/imports/{run.pk}/rejected/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class RejectedRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = RejectedRow
        fields = ["id", "line", "time", "reason", "message", "raw"]
        read_only_fields = fields

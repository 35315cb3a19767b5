from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.risk.models import AccountRisk, BreachAction, PlatformRisk, RiskEvent, TradingState
from apps.risk.models import TradingStateChange as StateChange

LIMIT_FIELDS = list(AccountRisk.LIMITS)


@extend_schema_field(
    {"type": "string", "enum": TradingState.values}, component_name="RiskTradingStateEnum"
)
class StateField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=TradingState.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": BreachAction.values}, component_name="RiskBreachActionEnum"
)
class ActionField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=BreachAction.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": ["", *BreachAction.values]},
    component_name="RiskBreachActionOverrideEnum",
)
class ActionOverrideField(serializers.ChoiceField):
    """A breach action, or "" to inherit the platform default."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("", "Inherit"), *BreachAction.choices], **kwargs)


@extend_schema_field({"type": "string", "enum": ["account", "all"]}, component_name="RiskScopeEnum")
class ScopeField(serializers.ChoiceField):
    """``account``: one account; ``all``: the platform."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("account", "Account"), ("all", "Platform")], **kwargs)


@extend_schema_field(
    {"type": "string", "enum": RiskEvent.Kind.values}, component_name="RiskEventKindEnum"
)
class EventKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=RiskEvent.Kind.choices, **kwargs)


class _LimitsSerializer(serializers.ModelSerializer):
    allowed_symbols = serializers.ListField(
        child=serializers.CharField(max_length=16), allow_null=True, required=False
    )


class AccountLimitsSerializer(_LimitsSerializer):
    """An account's overrides: empty (null, or "" for actions) inherits the default."""

    daily_loss_action = ActionOverrideField(required=False, allow_blank=True)
    drawdown_action = ActionOverrideField(required=False, allow_blank=True)
    margin_action = ActionOverrideField(required=False, allow_blank=True)
    exposure_action = ActionOverrideField(required=False, allow_blank=True)
    leverage_action = ActionOverrideField(required=False, allow_blank=True)

    class Meta:
        model = AccountRisk
        fields = LIMIT_FIELDS


class PlatformDefaultsSerializer(_LimitsSerializer):
    daily_loss_action = ActionField(required=False)
    drawdown_action = ActionField(required=False)
    margin_action = ActionField(required=False)
    exposure_action = ActionField(required=False)
    leverage_action = ActionField(required=False)
    state = StateField(read_only=True)

    class Meta:
        model = PlatformRisk
        fields = [
            *LIMIT_FIELDS,
            "state",
            "state_reason",
            "state_actor",
            "state_changed_at",
            "updated_at",
        ]
        read_only_fields = ["state_reason", "state_actor", "state_changed_at", "updated_at"]


class EffectiveLimitsSerializer(serializers.Serializer):
    """The limits in force (null: no limit); decimals as strings."""

    max_order_lots = serializers.CharField(allow_null=True)
    max_position_lots = serializers.CharField(allow_null=True)
    max_gross_exposure = serializers.CharField(allow_null=True)
    max_net_exposure = serializers.CharField(allow_null=True)
    max_leverage = serializers.CharField(allow_null=True)
    min_margin_level = serializers.CharField(allow_null=True)
    max_open_orders = serializers.IntegerField(allow_null=True)
    max_orders_per_minute = serializers.IntegerField(allow_null=True)
    max_daily_loss = serializers.CharField(allow_null=True)
    max_drawdown_pct = serializers.CharField(allow_null=True)
    allowed_symbols = serializers.ListField(child=serializers.CharField(), allow_null=True)
    hours_start = serializers.CharField(allow_null=True)
    hours_end = serializers.CharField(allow_null=True)
    hours_timezone = serializers.CharField()
    stop_out_level = serializers.CharField(allow_null=True)
    daily_loss_action = ActionField()
    drawdown_action = ActionField()
    margin_action = ActionField()
    exposure_action = ActionField()
    leverage_action = ActionField()


class AccountLimitsOutputSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    overrides = AccountLimitsSerializer()
    effective = EffectiveLimitsSerializer()


class UsageSerializer(serializers.Serializer):
    limit = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    used_pct = serializers.CharField(allow_null=True)
    breached = serializers.BooleanField()


class FiguresSerializer(serializers.Serializer):
    error = serializers.CharField(allow_null=True)
    balance = serializers.CharField(required=False)
    equity = serializers.CharField(required=False)
    margin = serializers.CharField(required=False)
    margin_level = serializers.CharField(required=False, allow_null=True)
    gross_notional = serializers.CharField(required=False)
    leverage = serializers.CharField(required=False, allow_null=True)
    day_start_equity = serializers.CharField(required=False)
    daily_pnl = serializers.CharField(required=False)
    peak_equity = serializers.CharField(required=False)
    drawdown_pct = serializers.CharField(required=False)


class ExposureSerializer(serializers.Serializer):
    currency = serializers.CharField()
    net = serializers.CharField(help_text="Signed, in the account currency.")
    gross = serializers.CharField()


class TailRiskSerializer(serializers.Serializer):
    level = serializers.CharField()
    var = serializers.CharField(help_text="Value at risk over one hour, account currency.")
    es = serializers.CharField(help_text="Expected shortfall beyond the VaR.")


class VarReportSerializer(serializers.Serializer):
    horizon = serializers.CharField()
    window = serializers.IntegerField(help_text="H1 returns asked for.")
    observations = serializers.IntegerField(help_text="H1 returns used.")
    currencies = serializers.ListField(child=serializers.CharField())
    levels = TailRiskSerializer(many=True)
    correlation = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        allow_null=True,
        help_text="Correlation of the currencies' hourly returns (rows and columns as "
        "`currencies`).",
    )


class AccountStatusSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    currency = serializers.CharField()
    state = StateField(help_text="In force: the stricter of the account's and the platform's.")
    state_scope = serializers.CharField(help_text="account or platform")
    account_state = StateField()
    platform_state = StateField()
    state_reason = serializers.CharField()
    limits = EffectiveLimitsSerializer()
    usage = serializers.DictField(child=UsageSerializer())
    figures = FiguresSerializer()
    exposures = ExposureSerializer(many=True)
    var = VarReportSerializer()
    monitored_at = serializers.DateTimeField(allow_null=True)


class AccountStateSerializer(serializers.Serializer):
    """An account's state and the figures of the last monitoring."""

    account = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    state = StateField()
    account_state = StateField()
    state_reason = serializers.CharField()
    breaches = serializers.ListField(child=serializers.CharField())
    figures = serializers.DictField()
    monitored_at = serializers.DateTimeField(allow_null=True)


class RiskEventSerializer(serializers.ModelSerializer):
    kind = EventKindField()

    class Meta:
        model = RiskEvent
        fields = ["id", "time", "account", "kind", "code", "message", "actor", "data"]
        read_only_fields = fields


class StateChangeSerializer(serializers.ModelSerializer):
    from_state = StateField()
    to_state = StateField()

    class Meta:
        model = StateChange
        fields = ["id", "time", "account", "from_state", "to_state", "actor", "reason", "data"]
        read_only_fields = fields


class PlatformStateSerializer(serializers.Serializer):
    state = StateField()
    state_reason = serializers.CharField()
    state_actor = serializers.CharField()
    state_changed_at = serializers.DateTimeField(allow_null=True)

"""Risk API: limits, account risk status and analytics, events, states, kill switch.

Traders read their own accounts' limits, states and events; operators read
everything, edit limits, change states and pull the kill switch.
"""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsOperator
from apps.risk import selectors, services
from apps.risk.api import serializers as s
from apps.risk.models import AccountRisk, PlatformRisk, RiskEvent, TradingStateChange
from apps.trading.models import TradingAccount


def _account_for(request, pk) -> TradingAccount:
    return get_object_or_404(selectors.risks_for(request.user), pk=pk)


def _limits_out(account: TradingAccount, platform: PlatformRisk) -> dict:
    risk = getattr(account, "risk", None) or AccountRisk(account=account)
    limits = selectors.limits_for(risk, platform)
    return {
        "account": account.pk,
        "account_name": account.name,
        "overrides": risk,
        "effective": limits.as_dict(),
    }


class DefaultsView(APIView):
    """The platform's default limits (an empty account limit inherits them)."""

    def get_permissions(self):
        if self.request.method in ("PUT", "PATCH"):
            return [IsOperator()]
        return super().get_permissions()

    @extend_schema(operation_id="risk_defaults_retrieve", responses=s.PlatformDefaultsSerializer)
    def get(self, request):
        return Response(s.PlatformDefaultsSerializer(selectors.platform_risk()).data)

    @extend_schema(
        operation_id="risk_defaults_partial_update",
        request=s.PlatformDefaultsSerializer,
        responses=s.PlatformDefaultsSerializer,
    )
    def patch(self, request):
        """Change default limits (operators); the change is recorded as a ``limits`` event."""
        data = s.PlatformDefaultsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = services.limits_update(changes=dict(data.validated_data), actor=request.user)
        return Response(s.PlatformDefaultsSerializer(row).data)


class LimitsViewSet(viewsets.GenericViewSet):
    """Each account's limit overrides and the limits in force."""

    serializer_class = s.AccountLimitsOutputSerializer
    lookup_url_kwarg = "account"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TradingAccount.objects.none()
        return selectors.risks_for(self.request.user)

    def get_permissions(self):
        if self.action == "partial_update":
            return [IsOperator()]
        return super().get_permissions()

    def list(self, request):
        platform = selectors.platform_risk()
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            self.get_serializer([_limits_out(a, platform) for a in page], many=True).data
        )

    def retrieve(self, request, account=None):
        out = _limits_out(_account_for(request, account), selectors.platform_risk())
        return Response(self.get_serializer(out).data)

    @extend_schema(request=s.AccountLimitsSerializer, responses=s.AccountLimitsOutputSerializer)
    def partial_update(self, request, account=None):
        """Change an account's overrides (operators): null (or "" for an action)
        inherits the platform default."""
        target = _account_for(request, account)
        data = s.AccountLimitsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.limits_update(
            account=target, changes=dict(data.validated_data), actor=request.user
        )
        target = _account_for(request, account)
        return Response(self.get_serializer(_limits_out(target, selectors.platform_risk())).data)


class AccountRiskViewSet(viewsets.GenericViewSet):
    """Accounts' trading states and monitored figures; one account's full risk status."""

    serializer_class = s.AccountStateSerializer
    filterset_fields = ["broker", "currency"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TradingAccount.objects.none()
        return selectors.risks_for(self.request.user)

    def list(self, request):
        platform = selectors.platform_risk()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = []
        for account in page:
            risk = getattr(account, "risk", None) or AccountRisk(account=account)
            state, scope = selectors.effective_state(risk, platform)
            rows.append(
                {
                    "pk": account.pk,
                    "name": account.name,
                    "owner": account.owner,
                    "state": state,
                    "account_state": risk.state,
                    "state_reason": (risk if scope == "account" else platform).state_reason,
                    "breaches": risk.breaches,
                    "figures": risk.figures,
                    "monitored_at": risk.monitored_at,
                }
            )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "window", int, description="H1 returns for VaR/ES (default 500, 10..10000)."
            )
        ],
        responses=s.AccountStatusSerializer,
    )
    def retrieve(self, request, pk=None):
        """Limits in force, states, the use of every limit, exposures per
        currency, VaR and ES (95%, 99%, one hour) of the positions from H1
        returns and the correlation of the exposed currencies."""
        account = _account_for(request, pk)
        try:
            window = int(request.query_params.get("window", 500))
        except ValueError:
            raise serializers.ValidationError({"window": ["A whole number."]}) from None
        if not 10 <= window <= 10_000:
            raise serializers.ValidationError({"window": ["Between 10 and 10000."]})
        data = selectors.account_status(account, window=window)
        return Response(s.AccountStatusSerializer(data).data)


class _PlatformFilter(django_filters.FilterSet):
    platform = django_filters.BooleanFilter(
        field_name="account",
        lookup_expr="isnull",
        help_text="true: only platform-wide rows; false: only account rows.",
    )


class RiskEventFilter(_PlatformFilter):
    class Meta:
        model = RiskEvent
        fields = ["account", "kind", "code", "platform"]


class StateChangeFilter(_PlatformFilter):
    class Meta:
        model = TradingStateChange
        fields = ["account", "to_state", "platform"]


class RiskEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Breaches (and their end), stop-outs, kill switches, state and limit
    changes; ``?platform=true`` for the platform-wide ones."""

    serializer_class = s.RiskEventSerializer
    filterset_class = RiskEventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RiskEvent.objects.none()
        return selectors.events_for(self.request.user)


class StateChangeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The history of trading states: who or what changed them, and why
    (``account`` empty: the platform)."""

    serializer_class = s.StateChangeSerializer
    filterset_class = StateChangeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TradingStateChange.objects.none()
        return selectors.state_changes_for(self.request.user)


class StateView(APIView):
    """The platform's trading state; operators change an account's or the platform's."""

    class InputSerializer(serializers.Serializer):
        scope = s.ScopeField()
        account = serializers.IntegerField(required=False, allow_null=True)
        state = s.StateField()
        reason = serializers.CharField(max_length=300)

        def validate(self, attrs):
            if attrs["scope"] == "account" and not attrs.get("account"):
                raise serializers.ValidationError({"account": ["Required for scope account."]})
            return attrs

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsOperator()]
        return super().get_permissions()

    @extend_schema(operation_id="risk_state_retrieve", responses=s.PlatformStateSerializer)
    def get(self, request):
        return Response(s.PlatformStateSerializer(selectors.platform_risk()).data)

    @extend_schema(
        operation_id="risk_state_create",
        request=InputSerializer,
        responses={200: s.StateChangeSerializer, 204: None},
    )
    def post(self, request):
        """Set a state (operators). ``halted`` cancels working orders;
        ``active`` or ``reducing`` lifts a stricter state. 204 when the
        state was already the one asked for."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        account = _account_for(request, v["account"]) if v["scope"] == "account" else None
        change = services.trading_state_set(
            state=v["state"], account=account, actor=request.user, reason=v["reason"]
        )
        if change is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.StateChangeSerializer(change).data)


class KillSwitchView(APIView):
    """Halt an account or the whole platform at once (operators)."""

    permission_classes = [IsOperator]

    class InputSerializer(serializers.Serializer):
        scope = s.ScopeField()
        account = serializers.IntegerField(required=False, allow_null=True)
        flatten = serializers.BooleanField(default=False)
        reason = serializers.CharField(max_length=300)

        def validate(self, attrs):
            if attrs["scope"] == "account" and not attrs.get("account"):
                raise serializers.ValidationError({"account": ["Required for scope account."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        scope = serializers.CharField()
        accounts = serializers.IntegerField()
        state_changed = serializers.BooleanField()
        cancelled = serializers.IntegerField(help_text="Working orders cancelled (or requested).")
        closing = serializers.IntegerField(help_text="Positions being closed.")
        algos_cancelled = serializers.IntegerField()

    @extend_schema(
        operation_id="risk_kill_switch", request=InputSerializer, responses=OutputSerializer
    )
    def post(self, request):
        """Halt, cancel every working order (MT5 orders through the terminal)
        and running algo, and with ``flatten`` close every position.
        Idempotent."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        account = _account_for(request, v["account"]) if v["scope"] == "account" else None
        result = services.kill_switch(
            scope=v["scope"],
            account=account,
            flatten=v["flatten"],
            actor=request.user,
            reason=v["reason"],
        )
        return Response(self.OutputSerializer(result).data)

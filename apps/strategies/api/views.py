"""Strategies API: built-in strategies and indicators, saved strategies,
backtests (202 + a run on the ``backtests`` worker; progress on
``/ws/trading/`` as ``backtest`` messages), their trades and HTML report."""

from datetime import UTC, datetime

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsTrader
from apps.strategies import deploy, indicators, optimise, selectors, services
from apps.strategies.api import serializers as s
from apps.strategies.models import Deployment
from apps.strategies.report import html_report


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def trade_rows(backtest) -> list[dict]:
    rows = selectors.trades_of(backtest)
    for row in rows:
        row["entry_time"] = iso_ms(row["entry_time"])
        row["exit_time"] = iso_ms(row["exit_time"])
    return rows


class StrategyClassesView(APIView):
    """Built-in strategies with their parameter schemas (types, ranges, defaults)."""

    @extend_schema(operation_id="strategies_classes_list", responses=dict)
    def get(self, request):
        return Response(selectors.strategy_classes())


class IndicatorsView(APIView):
    """Every indicator: parameters, outputs, inputs, group."""

    @extend_schema(operation_id="strategies_indicators_list", responses=dict)
    def get(self, request):
        return Response(indicators.describe())


class SavedStrategyViewSet(viewsets.ModelViewSet):
    serializer_class = s.SavedStrategySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.SavedStrategy.objects.none()
        return selectors.strategies_for(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "update", "partial_update", "destroy"):
            return [IsTrader()]
        return super().get_permissions()

    def _save(self, request, instance=None, partial=False):
        data = s.SavedStrategySerializer(instance, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = services.strategy_save(
            owner=request.user,
            name=v.get("name", instance.name if instance else ""),
            strategy=v.get("strategy", instance.strategy if instance else ""),
            params=v.get("params", instance.params if instance else {}),
            description=v.get("description", instance.description if instance else ""),
            instance=instance,
        )
        return s.SavedStrategySerializer(row).data

    def create(self, request, *args, **kwargs):
        return Response(self._save(request), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        return Response(self._save(request, self.get_object(), partial))


class BacktestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_fields = ["status", "strategy", "timeframe"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.Backtest.objects.none()
        qs = selectors.backtests_for(self.request.user)
        if self.action == "list":
            qs = qs.defer("equity", "trades", "monthly")
        return qs

    def get_serializer_class(self):
        return s.BacktestDetailSerializer if self.action == "retrieve" else s.BacktestSerializer

    def get_permissions(self):
        if self.action in ("create", "cancel"):
            return [IsTrader()]
        return super().get_permissions()

    @extend_schema(request=s.BacktestRequestSerializer, responses={202: s.BacktestSerializer})
    def create(self, request):
        """Queue a backtest: 202 with its id; poll ``GET .../{id}/`` or watch
        ``backtest`` messages on ``/ws/trading/``."""
        backtest = services.backtest_request(user=request.user, data=request.data)
        return Response(s.BacktestSerializer(backtest).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.BacktestSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop a queued or running backtest (a finished one is unchanged)."""
        backtest = services.backtest_cancel(backtest=self.get_object())
        return Response(s.BacktestSerializer(backtest).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=s.TradeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def trades(self, request, pk=None):
        """The trade list, a page at a time."""
        rows = trade_rows(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.TradeSerializer(page, many=True).data)

    @extend_schema(responses={(200, "text/html"): str})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """A self-contained HTML report with the equity and drawdown curves."""
        return HttpResponse(html_report(self.get_object()), content_type="text/html")


class OptimisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Grid, random or Optuna searches, optionally walk-forward."""

    filterset_fields = ["status", "strategy", "method"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.Optimisation.objects.none()
        return selectors.optimisations_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.OptimisationDetailSerializer
        return s.OptimisationSerializer

    def get_permissions(self):
        if self.action in ("create", "cancel"):
            return [IsTrader()]
        return super().get_permissions()

    @extend_schema(
        request=s.OptimisationRequestSerializer, responses={202: s.OptimisationSerializer}
    )
    def create(self, request):
        """Queue a search: 202; progress as ``optimisation`` messages on ``/ws/trading/``."""
        row = optimise.request(user=request.user, data=request.data)
        return Response(s.OptimisationSerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.OptimisationSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        row = optimise.cancel(optimisation=self.get_object())
        return Response(s.OptimisationSerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=s.TrialSerializer(many=True),
        parameters=[],
    )
    @action(detail=True, methods=["get"])
    def trials(self, request, pk=None):
        """Trials a page at a time; ``ordering`` by ``value``, ``-value``, ``number`` or a
        metric (``metrics__sharpe``); ``window`` and ``phase`` filter."""
        qs = selectors.trials_of(
            self.get_object(),
            ordering=request.query_params.get("ordering", "-value"),
            window=request.query_params.get("window"),
            phase=request.query_params.get("phase"),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.TrialSerializer(page, many=True).data)


class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Strategies trading an account on closed bars (live) or over stored bars (replay)."""

    serializer_class = s.DeploymentSerializer
    filterset_fields = ["status", "strategy", "mode"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deployment.objects.none()
        return selectors.deployments_for(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "pause", "resume", "stop"):
            return [IsTrader()]
        return super().get_permissions()

    @extend_schema(request=s.DeploymentRequestSerializer, responses={201: s.DeploymentSerializer})
    def create(self, request):
        row = deploy.create(user=request.user, data=request.data)
        return Response(s.DeploymentSerializer(row).data, status=status.HTTP_201_CREATED)

    def _status(self, request, to: str):
        data = s.DeploymentStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = deploy.set_status(
            deployment=self.get_object(),
            status=to,
            user=request.user,
            close_positions=data.validated_data["close_positions"],
        )
        return Response(s.DeploymentSerializer(row).data)

    @extend_schema(request=None, responses=s.DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._status(request, "paused")

    @extend_schema(request=None, responses=s.DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._status(request, "running")

    @extend_schema(request=s.DeploymentStatusSerializer, responses=s.DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop: cancels its working orders; ``close_positions`` also closes the position."""
        return self._status(request, "stopped")

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def performance(self, request, pk=None):
        """Its own P&L (realised, open, commission, swap) and trade list from its fills."""
        return Response(selectors.deployment_performance(self.get_object()))

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def orders(self, request, pk=None):
        """Its orders, newest first (the trading API's order format)."""
        from apps.trading.api.serializers import OrderSerializer

        qs = selectors.deployment_orders(self.get_object()).order_by("-created_at")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

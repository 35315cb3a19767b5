"""Trading API: accounts with live figures, orders, fills and positions.

A user only ever sees and acts on their own accounts; operators see all.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.permissions import IsOperator, IsTrader
from apps.trading import selectors, services
from apps.trading.api import serializers as s
from apps.trading.models import Fill, Order, Position, TradingAccount
from fxsite.api.exceptions import error_body, validation_body


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Trading accounts with balance, equity, margin, free margin, margin level and open P&L."""

    serializer_class = s.AccountSerializer
    filterset_fields = ["broker", "status", "currency"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TradingAccount.objects.none()
        return selectors.accounts_for(self.request.user)

    def get_serializer(self, *args, **kwargs):
        if getattr(self, "swagger_fake_view", False) or not args:
            return super().get_serializer(*args, **kwargs)
        quotes = selectors.live_quotes()
        instances = args[0] if args else None
        for account in (
            instances if isinstance(instances, list | tuple) else [instances] if instances else []
        ):
            for key, value in selectors.account_summary(account, quotes).items():
                setattr(account, key, value)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses=s.OrderSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="close-all", permission_classes=[IsTrader])
    def close_all(self, request, pk=None):
        """Close every open position of the account with market orders."""
        orders = services.positions_close_all(account=self.get_object(), user=request.user)
        return Response(s.OrderSerializer(orders, many=True).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def reconcile(self, request, pk=None):
        """Compare the account with its broker now and repair what differs (operators)."""
        account = self.get_object()
        services.reconciliation_request(account=account)
        return Response({"queued": True, "account": account.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.ReconciliationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reconciliations(self, request, pk=None):
        """The latest reconciliations of the account and what each repaired."""
        records = self.get_object().reconciliations.all()[:50]
        return Response(s.ReconciliationSerializer(records, many=True).data)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Place orders (idempotent on ``client_order_id``), list, inspect their events, cancel."""

    filterset_fields = ["account", "status", "side", "type", "source", "instrument__symbol"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_for(self.request.user)

    def get_serializer_class(self):
        return s.OrderDetailSerializer if self.action == "retrieve" else s.OrderSerializer

    def get_permissions(self):
        if self.action in ("create", "batch", "cancel", "amend"):
            return [IsTrader()]
        return super().get_permissions()

    @extend_schema(
        request=s.OrderPlaceSerializer, responses={201: s.OrderSerializer, 200: s.OrderSerializer}
    )
    def create(self, request):
        """Place an order: 201 with it, or 200 with the existing order when
        its ``client_order_id`` was already used on the account. Orders that
        arrive for the account while one is being written are written
        together after it (one transaction and one task), each answered on
        its own."""
        item = dict(s.PLACE.run_validation(request.data))
        account = _own_account(request, item.pop("account"))
        placed = services.order_place_grouped(account=account, item=item, user=request.user)
        if placed.error is not None:
            raise placed.error
        return Response(
            s.ORDER.to_representation(placed.order),
            status=status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=s.OrderBatchSerializer,
        responses={201: s.BatchResponseSerializer, 200: s.BatchResponseSerializer},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Place up to 200 orders on one account in one request. Each
        item is an order as ``POST /orders/`` takes it (without ``account``)
        and gets its own outcome in ``results``, in the same order: 201 with
        the order, 200 with the existing order when its ``client_order_id``
        was already used, or 4xx with its error; an invalid item does not
        stop the others. The answer is 201 when at least one order was
        placed, 200 when none was new, 400 when every item was refused."""
        data = s.OrderBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = _own_account(request, data.validated_data["account"])
        items, results = [], []
        item = s.OrderItemSerializer()  # one instance: its fields are built once
        for raw in data.validated_data["orders"]:
            try:
                items.append(dict(item.run_validation(raw)))
                results.append(None)
            except serializers.ValidationError as exc:
                results.append({"status": 400, **validation_body(exc.detail)})
        placed = (
            services.orders_place_batch(account=account, orders=items, user=request.user)
            if items
            else []
        )
        bodies = iter(
            s.OrderSerializer([p.order for p in placed if p.error is None], many=True).data
        )
        outcomes = iter(placed)
        for index, result in enumerate(results):
            if result is None:
                results[index] = _outcome(next(outcomes), bodies)
        codes = {r["status"] for r in results}
        code = 201 if 201 in codes else 200 if 200 in codes else 400
        return Response({"results": results}, status=code)

    @extend_schema(request=None, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a working order: at once on paper, through the broker on MT5
        (``cancel_requested`` until it answers)."""
        order = services.order_cancel(order=self.get_object(), user=request.user)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.OrderAmendSerializer, responses={202: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """Change quantity, price, stop price, expiry or trailing distance of a
        working order (the order's events record the request and the answer)."""
        data = s.OrderAmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_amend(
            order=self.get_object(), changes=dict(data.validated_data), user=request.user
        )
        return Response(s.OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)


def _own_account(request, pk: int) -> TradingAccount:
    account = get_object_or_404(selectors.accounts_for(request.user), pk=pk)
    if account.owner_id != request.user.pk:
        raise serializers.ValidationError({"account": ["You can only trade your own accounts."]})
    return account


def _outcome(placed: services.Placed, bodies) -> dict:
    """A batch item's result; ``bodies`` yields the placed orders' bodies in turn."""
    if placed.error is not None:
        exc = placed.error
        return {
            "status": exc.status_code,
            **error_body(exc.code, exc.message, exc.fields, **exc.extra),
        }
    return {
        "status": 201 if placed.created else 200,
        "order": next(bodies),
    }


class FillViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.FillSerializer
    filterset_fields = ["account", "order", "side", "instrument__symbol"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Fill.objects.none()
        return selectors.fills_for(self.request.user)


class PositionViewSet(viewsets.ReadOnlyModelViewSet):
    """Positions with live unrealised P&L; open ones by default (``?closed=true`` for history)."""

    serializer_class = s.PositionSerializer
    filterset_fields = ["account", "instrument__symbol"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Position.objects.none()
        qs = selectors.positions_for(self.request.user)
        if self.request.query_params.get("closed", "false").lower() != "true":
            qs = qs.filter(closed_at__isnull=True)
        return qs

    def get_serializer(self, *args, **kwargs):
        if getattr(self, "swagger_fake_view", False) or not args:
            return super().get_serializer(*args, **kwargs)
        quotes = selectors.live_quotes()
        instances = args[0] if args else None
        for position in (
            instances if isinstance(instances, list | tuple) else [instances] if instances else []
        ):
            position.unrealized_pnl = selectors.position_unrealized(position, quotes)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses={202: s.OrderSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsTrader])
    def close(self, request, pk=None):
        order = services.position_close(position=self.get_object(), user=request.user)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)

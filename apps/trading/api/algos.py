"""Algo orders (TWAP, VWAP): create, list, inspect, pause, resume, cancel.

A user sees and acts on their own accounts' algos only; operators see all.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsTrader
from apps.marketdata.selectors import instrument_get
from apps.trading import algos, selectors
from apps.trading.api.serializers import PLACE_SOURCES, OrderSerializer
from apps.trading.models import AlgoOrder, Order


class AlgoProgressSerializer(serializers.Serializer):
    percent_filled = serializers.CharField()
    filled_quantity = serializers.CharField()
    remaining_quantity = serializers.CharField()
    average_price = serializers.CharField(allow_null=True)
    slices_sent = serializers.IntegerField()
    slices_total = serializers.IntegerField()
    next_slice_at = serializers.DateTimeField(allow_null=True)


class AlgoSliceSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    quantity = serializers.CharField()


@extend_schema_field(
    {"type": "string", "enum": AlgoOrder.Status.values}, component_name="AlgoStatusEnum"
)
class AlgoStatusField(serializers.CharField):
    """The algo's status, as its own ``AlgoStatusEnum`` component (the
    orders' and accounts' ``status`` enums take the plain names)."""


class AlgoSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", read_only=True)
    status = AlgoStatusField(read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = AlgoOrder
        fields = [
            "id",
            "account",
            "client_id",
            "symbol",
            "side",
            "strategy",
            "quantity",
            "start_at",
            "end_at",
            "slice_count",
            "interval_seconds",
            "limit_price",
            "status",
            "filled_quantity",
            "average_price",
            "slices_sent",
            "next_slice_at",
            "progress",
            "data",
            "source",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AlgoProgressSerializer)
    def get_progress(self, algo: AlgoOrder) -> dict:
        return algos.algo_progress(algo)


class AlgoDetailSerializer(AlgoSerializer):
    schedule = AlgoSliceSerializer(many=True, read_only=True)
    children = serializers.SerializerMethodField()

    class Meta(AlgoSerializer.Meta):
        fields = [*AlgoSerializer.Meta.fields, "schedule", "children"]
        read_only_fields = fields

    @extend_schema_field(OrderSerializer(many=True))
    def get_children(self, algo: AlgoOrder) -> list:
        return OrderSerializer(algos.algo_children(algo), many=True).data


def _algo(request, pk: int) -> AlgoOrder:
    return get_object_or_404(algos.algos_for(request.user), pk=pk)


class AlgoListCreateView(GenericAPIView):
    """Start a TWAP or VWAP algo order (idempotent on ``client_id``), or list them."""

    serializer_class = AlgoSerializer
    filterset_fields = ["account", "status", "strategy", "side", "instrument__symbol"]

    class InputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        symbol = serializers.CharField()
        side = serializers.ChoiceField(choices=Order.Side.choices)
        strategy = serializers.ChoiceField(choices=AlgoOrder.Strategy.choices)
        quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
        start_at = serializers.DateTimeField(required=False, allow_null=True)
        end_at = serializers.DateTimeField()
        slice_count = serializers.IntegerField(required=False, allow_null=True)
        interval_seconds = serializers.IntegerField(required=False, allow_null=True)
        limit_price = serializers.DecimalField(
            max_digits=20, decimal_places=10, required=False, allow_null=True
        )
        client_id = serializers.CharField(max_length=48, required=False)
        source = serializers.ChoiceField(choices=PLACE_SOURCES, default="api")

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsTrader()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AlgoOrder.objects.none()
        return algos.algos_for(self.request.user)

    @extend_schema(operation_id="trading_algos_list")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="trading_algos_create",
        request=InputSerializer,
        responses={201: AlgoSerializer, 200: AlgoSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        account = get_object_or_404(selectors.accounts_for(request.user), pk=v.pop("account"))
        algo, created = algos.algo_create(
            account=account, instrument=instrument_get(v.pop("symbol")), user=request.user, **v
        )
        return Response(
            AlgoSerializer(algo).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AlgoDetailView(APIView):
    """An algo order with its progress, planned slices and child orders."""

    @extend_schema(operation_id="trading_algos_retrieve", responses=AlgoDetailSerializer)
    def get(self, request, pk: int):
        return Response(AlgoDetailSerializer(_algo(request, pk)).data)


class AlgoPauseView(APIView):
    """Stop sending slices; children already sent keep working."""

    permission_classes = [IsTrader]

    @extend_schema(operation_id="trading_algos_pause", request=None, responses=AlgoSerializer)
    def post(self, request, pk: int):
        algo = algos.algo_pause(algo=_algo(request, pk), user=request.user)
        return Response(AlgoSerializer(algo).data)


class AlgoResumeView(APIView):
    """Carry on after a pause; the missed slices' quantity is spread over the rest."""

    permission_classes = [IsTrader]

    @extend_schema(operation_id="trading_algos_resume", request=None, responses=AlgoSerializer)
    def post(self, request, pk: int):
        algo = algos.algo_resume(algo=_algo(request, pk), user=request.user)
        return Response(AlgoSerializer(algo).data)


class AlgoCancelView(APIView):
    """Cancel the algo and its working child orders; fills stay."""

    permission_classes = [IsTrader]

    @extend_schema(operation_id="trading_algos_cancel", request=None, responses=AlgoSerializer)
    def post(self, request, pk: int):
        algo = algos.algo_cancel(algo=_algo(request, pk), user=request.user)
        return Response(AlgoSerializer(algo).data)

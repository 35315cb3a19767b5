"""Market data API: instruments, quotes, bars, ticks, gaps, sources, imports."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsOperator, IsTrader
from apps.marketdata import selectors
from apps.marketdata.api import serializers as s
from apps.marketdata.errors import SourceConfigError
from apps.marketdata.models import DataSource, IngestionRun, Instrument
from apps.marketdata.services import imports as import_services
from apps.marketdata.services import instruments as instrument_services
from apps.marketdata.services import sources as source_services


class OperatorWrites(IsAuthenticated):
    """Everyone signed in reads; operators change."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or IsOperator().has_permission(request, view)


class InstrumentViewSet(viewsets.ModelViewSet):
    """FX pairs and their contract specifications (operators edit)."""

    queryset = Instrument.objects.all()
    serializer_class = s.InstrumentSerializer
    permission_classes = [OperatorWrites]
    lookup_field = "symbol"
    lookup_value_regex = "[A-Za-z0-9._]+"
    filterset_fields = ["enabled", "base_currency", "quote_currency"]
    ordering_fields = ["symbol"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_object(self):
        self.kwargs["symbol"] = self.kwargs["symbol"].upper()
        return super().get_object()

    def perform_create(self, serializer):
        serializer.instance = instrument_services.instrument_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = instrument_services.instrument_update(
            instrument=serializer.instance, **serializer.validated_data
        )


def _symbols_param(request) -> list[str]:
    raw = request.query_params.get("symbols", "")
    symbols = [p for p in raw.split(",") if p.strip()]
    if not symbols:
        raise serializers.ValidationError(
            {"symbols": ["Give one or more symbols: ?symbols=EURUSD,USDJPY."]}
        )
    return symbols


class QuotesView(APIView):
    """Latest quotes from the live cache (null fields: no quote yet)."""

    @extend_schema(
        parameters=[OpenApiParameter("symbols", str, required=True, description="EURUSD,USDJPY")],
        responses=s.QuoteSerializer(many=True),
    )
    def get(self, request):
        instruments = selectors.instruments_by_symbols(_symbols_param(request))
        return Response(s.QuoteSerializer(selectors.quotes(instruments), many=True).data)


def _source(instrument: Instrument, name: str | None, timeframe: str | None = None):
    if name:
        try:
            return DataSource.objects.get(name=name)
        except DataSource.DoesNotExist as exc:
            raise serializers.ValidationError({"source": [f"Unknown source {name!r}."]}) from exc
    return selectors.default_source(instrument, timeframe)


def _fmt(value, digits: int) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def _csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def stream() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


SERIES_PARAMS = [
    OpenApiParameter("symbol", str, required=True),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Inclusive (ISO 8601)"),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Exclusive (ISO 8601)"),
    OpenApiParameter(
        "limit", int, description="Max rows (1..10000, default 1000); without 'from', the latest"
    ),
    OpenApiParameter(
        "source", str, description="Data source name; default: the one with the latest data"
    ),
    OpenApiParameter("format", str, enum=["rows", "columns", "csv"]),
]


class BarsView(APIView):
    """OHLC bars (bid) with spread and tick volume; rows, columns (charts) or CSV."""

    @extend_schema(
        parameters=[
            *SERIES_PARAMS,
            OpenApiParameter(
                "timeframe",
                str,
                required=True,
                enum=["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1"],
            ),
        ],
        responses=inline_serializer(
            "BarSeries",
            {
                "symbol": serializers.CharField(),
                "timeframe": serializers.CharField(),
                "source": serializers.CharField(allow_null=True),
                "simulated": serializers.BooleanField(allow_null=True),
                "digits": serializers.IntegerField(),
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "bars": s.BarSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        query = s.BarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        instrument = selectors.instrument_get(q["symbol"])
        source = _source(instrument, q.get("source"), q["timeframe"])
        digits = instrument.digits
        bars = (
            []
            if source is None
            else selectors.bars(
                instrument=instrument,
                source=source,
                timeframe=q["timeframe"],
                start=q.get("start"),
                end=q.get("end"),
                limit=q["limit"],
            )
        )
        if q["format"] == "csv":
            return _csv_response(
                f"{instrument.symbol}_{q['timeframe']}.csv",
                ["time", "open", "high", "low", "close", "volume", "spread"],
                (
                    [
                        b.time.isoformat(),
                        _fmt(b.open, digits),
                        _fmt(b.high, digits),
                        _fmt(b.low, digits),
                        _fmt(b.close, digits),
                        b.volume,
                        _fmt(b.spread, digits),
                    ]
                    for b in bars
                ),
            )
        head = {
            "symbol": instrument.symbol,
            "timeframe": q["timeframe"],
            "source": source.name if source else None,
            "simulated": source.is_simulated if source else None,
            "digits": digits,
            "count": len(bars),
        }
        if q["format"] == "columns":
            return Response(
                {
                    **head,
                    "time": [int(b.time.timestamp()) for b in bars],
                    "open": [float(b.open) for b in bars],
                    "high": [float(b.high) for b in bars],
                    "low": [float(b.low) for b in bars],
                    "close": [float(b.close) for b in bars],
                    "volume": [b.volume for b in bars],
                    "spread": [None if b.spread is None else float(b.spread) for b in bars],
                }
            )
        next_url = None
        if q.get("start") and len(bars) == q["limit"]:
            params = request.query_params.copy()
            params.pop("start", None)
            params["from"] = (bars[-1].time + timedelta(microseconds=1)).isoformat()
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        rows = [
            {
                "time": b.time,
                "open": _fmt(b.open, digits),
                "high": _fmt(b.high, digits),
                "low": _fmt(b.low, digits),
                "close": _fmt(b.close, digits),
                "volume": b.volume,
                "spread": _fmt(b.spread, digits),
            }
            for b in bars
        ]
        return Response({**head, "next": next_url, "bars": s.BarSerializer(rows, many=True).data})


class TicksView(APIView):
    """Stored ticks; rows, columns or a streamed CSV export of the whole range."""

    @extend_schema(
        parameters=SERIES_PARAMS,
        responses=inline_serializer(
            "TickSeries",
            {
                "symbol": serializers.CharField(),
                "source": serializers.CharField(allow_null=True),
                "simulated": serializers.BooleanField(allow_null=True),
                "digits": serializers.IntegerField(),
                "count": serializers.IntegerField(),
                "ticks": s.TickSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        query = s.SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        instrument = selectors.instrument_get(q["symbol"])
        source = _source(instrument, q.get("source"))
        digits = instrument.digits
        if q["format"] == "csv":
            rows = (
                []
                if source is None
                else selectors.iter_ticks(
                    instrument=instrument, source=source, start=q.get("start"), end=q.get("end")
                )
            )
            return _csv_response(
                f"{instrument.symbol}_ticks.csv",
                ["time", "bid", "ask", "volume"],
                ([t.isoformat(), _fmt(b, digits), _fmt(a, digits), v] for t, b, a, v in rows),
            )
        rows = (
            []
            if source is None
            else selectors.ticks_rows(
                instrument=instrument,
                source=source,
                start=q.get("start"),
                end=q.get("end"),
                limit=q["limit"],
            )
        )
        head = {
            "symbol": instrument.symbol,
            "source": source.name if source else None,
            "simulated": source.is_simulated if source else None,
            "digits": digits,
            "count": len(rows),
        }
        if q["format"] == "columns":
            return Response(
                {
                    **head,
                    "time": [t.timestamp() for t, *_ in rows],
                    "bid": [float(b) for _, b, _, _ in rows],
                    "ask": [float(a) for _, _, a, _ in rows],
                }
            )
        ticks = [
            {
                "time": t,
                "bid": _fmt(b, digits),
                "ask": _fmt(a, digits),
                "volume": None if v is None else str(v),
            }
            for t, b, a, v in rows
        ]
        return Response({**head, "ticks": s.TickSerializer(ticks, many=True).data})


class GapsView(APIView):
    """Periods of open market without bars (reported, never filled in)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("symbol", str, required=True),
            OpenApiParameter("timeframe", str, required=True),
            OpenApiParameter("from", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("to", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("source", str),
        ],
        responses=s.GapSerializer(many=True),
    )
    def get(self, request):
        query = s.GapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        instrument = selectors.instrument_get(q["symbol"])
        source = _source(instrument, q.get("source"), q["timeframe"])
        if source is None:
            return Response([])
        found = selectors.gaps(
            instrument=instrument,
            source=source,
            timeframe=q["timeframe"],
            start=q["start"],
            end=q["end"],
        )
        return Response(s.GapSerializer(found, many=True).data)


class DataSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Data sources with their state and lag; operators configure, start and stop them."""

    serializer_class = s.DataSourceSerializer
    permission_classes = [OperatorWrites]
    lookup_field = "name"
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        return selectors.source_list()

    def perform_create(self, serializer):
        if serializer.validated_data.get("kind") == DataSource.Kind.IMPORT:
            raise SourceConfigError("There is one history-import source; it is not created.")
        serializer.save()

    @extend_schema(request=None, responses=s.DataSourceSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, name=None):
        source = source_services.source_start(source=self.get_object())
        return Response(self.get_serializer(source).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.DataSourceSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, name=None):
        source = source_services.source_stop(source=self.get_object())
        return Response(self.get_serializer(source).data, status=status.HTTP_202_ACCEPTED)


class ImportListCreateView(GenericAPIView):
    """Upload a history file (processed in the background) or list your imports."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.ImportRunSerializer
    filterset_fields = ["status"]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsTrader()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return selectors.import_runs(user=self.request.user)

    @extend_schema(operation_id="marketdata_imports_list")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.ImportCreateSerializer, responses={202: s.ImportRunSerializer})
    def post(self, request):
        data = s.ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        run = import_services.import_create(
            user=request.user,
            upload=v["file"],
            instrument=selectors.instrument_get(v["symbol"]),
            timeframe=v.get("timeframe"),
            format=v.get("format"),
            tz=v.get("tz"),
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(GenericAPIView):
    serializer_class = s.ImportRunSerializer

    def get_queryset(self):
        return selectors.import_runs(user=self.request.user)

    def get(self, request, pk: int):
        return Response(self.get_serializer(get_object_or_404(self.get_queryset(), pk=pk)).data)


class ImportRejectedRowsView(GenericAPIView):
    """The rows of an import that were rejected, with line numbers and reasons."""

    serializer_class = s.RejectedRowSerializer
    filter_backends: list = []

    @extend_schema(parameters=[OpenApiParameter("reason", str)])
    def get(self, request, pk: int):
        run = get_object_or_404(selectors.import_runs(user=request.user), pk=pk)
        rows = selectors.rejected_rows(run=run, reason=request.query_params.get("reason"))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_queryset(self):
        return IngestionRun.objects.none()

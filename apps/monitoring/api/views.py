"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.monitoring import selectors


class HealthzView(APIView):
    """The process is alive (no dependencies checked)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses=inline_serializer("Health", {"status": serializers.CharField()}),
        operation_id="healthz",
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadyzView(APIView):
    """PostgreSQL, Redis, the channel layer and Celery workers per queue; 503 if any is down."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "Readiness",
                {"status": serializers.CharField(), "checks": serializers.DictField()},
            ),
            (503, "application/json"): inline_serializer(
                "ReadinessFailed",
                {"status": serializers.CharField(), "checks": serializers.DictField()},
            ),
        },
        operation_id="readyz",
    )
    def get(self, request):
        report = selectors.readiness()
        return Response(report, status=200 if report["status"] == "ok" else 503)


metrics_view = never_cache(ExportToDjangoView)

"""Top-level URLs: the versioned API, docs, admin, operations and the dashboard."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.monitoring.api.views import HealthzView, ReadyzView, metrics_view
from fxsite.views import api_not_found, frontend_index

api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("marketdata/", include("apps.marketdata.api.urls")),
    path("trading/", include("apps.trading.api.urls")),
    path("risk/", include("apps.risk.api.urls")),
    path("strategies/", include("apps.strategies.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
    path("healthz", HealthzView.as_view(), name="healthz"),
    path("readyz", ReadyzView.as_view(), name="readyz"),
    path("metrics", metrics_view, name="prometheus-metrics"),
    # The React dashboard handles every other path (client-side routing).
    re_path(r"^(?!static/|media/|ws/).*$", frontend_index, name="frontend"),
]

handler404 = "fxsite.views.handler404"
handler500 = "fxsite.views.handler500"

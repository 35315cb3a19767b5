from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.marketdata.api import views

app_name = "marketdata"

router = SimpleRouter()
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("sources", views.DataSourceViewSet, basename="source")

urlpatterns = [
    path("quotes/", views.QuotesView.as_view(), name="quotes"),
    path("bars/", views.BarsView.as_view(), name="bars"),
    path("bars/gaps/", views.GapsView.as_view(), name="gaps"),
    path("ticks/", views.TicksView.as_view(), name="ticks"),
    path("imports/", views.ImportListCreateView.as_view(), name="imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path(
        "imports/<int:pk>/rejected/", views.ImportRejectedRowsView.as_view(), name="import-rejected"
    ),
    *router.urls,
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.risk.api import views

app_name = "risk"

router = SimpleRouter()
router.register("limits", views.LimitsViewSet, basename="limits")
router.register("accounts", views.AccountRiskViewSet, basename="account")
router.register("events", views.RiskEventViewSet, basename="event")
router.register("state-changes", views.StateChangeViewSet, basename="state-change")

urlpatterns = [
    path("defaults/", views.DefaultsView.as_view(), name="defaults"),
    path("state/", views.StateView.as_view(), name="state"),
    path("kill-switch/", views.KillSwitchView.as_view(), name="kill-switch"),
    *router.urls,
]

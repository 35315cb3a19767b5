from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.trading.api import algos, views

app_name = "trading"

router = SimpleRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("orders", views.OrderViewSet, basename="order")
router.register("fills", views.FillViewSet, basename="fill")
router.register("positions", views.PositionViewSet, basename="position")

urlpatterns = [
    *router.urls,
    path("algos/", algos.AlgoListCreateView.as_view(), name="algo-list"),
    path("algos/<int:pk>/", algos.AlgoDetailView.as_view(), name="algo-detail"),
    path("algos/<int:pk>/pause/", algos.AlgoPauseView.as_view(), name="algo-pause"),
    path("algos/<int:pk>/resume/", algos.AlgoResumeView.as_view(), name="algo-resume"),
    path("algos/<int:pk>/cancel/", algos.AlgoCancelView.as_view(), name="algo-cancel"),
]

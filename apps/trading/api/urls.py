from rest_framework.routers import SimpleRouter

from apps.trading.api import views

app_name = "trading"

router = SimpleRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("orders", views.OrderViewSet, basename="order")
router.register("fills", views.FillViewSet, basename="fill")
router.register("positions", views.PositionViewSet, basename="position")

urlpatterns = router.urls

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.strategies.api import views

app_name = "strategies"

router = SimpleRouter()
router.register("saved", views.SavedStrategyViewSet, basename="saved")
router.register("backtests", views.BacktestViewSet, basename="backtest")
router.register("optimisations", views.OptimisationViewSet, basename="optimisation")
router.register("deployments", views.DeploymentViewSet, basename="deployment")

urlpatterns = [
    path("classes/", views.StrategyClassesView.as_view(), name="classes"),
    path("indicators/", views.IndicatorsView.as_view(), name="indicators"),
    *router.urls,
]

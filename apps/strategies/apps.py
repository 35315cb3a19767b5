from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.strategies"

    def ready(self) -> None:
        from apps.marketdata.signals import bars_closed, ticks_stored
        from apps.strategies.tasks import on_bars_closed, on_ticks_stored

        bars_closed.connect(on_bars_closed, dispatch_uid="strategies-deployments")
        ticks_stored.connect(on_ticks_stored, dispatch_uid="strategies-deployment-ticks")

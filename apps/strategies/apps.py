from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.strategies"

    def ready(self) -> None:
        from apps.marketdata.signals import bars_closed
        from apps.strategies.tasks import on_bars_closed

        bars_closed.connect(on_bars_closed, dispatch_uid="strategies-deployments")

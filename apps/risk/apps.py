from django.apps import AppConfig


class RiskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.risk"

    def ready(self) -> None:
        from apps.marketdata.signals import ticks_stored
        from apps.risk.tasks import on_ticks_stored

        ticks_stored.connect(on_ticks_stored, dispatch_uid="risk-monitor-prices")

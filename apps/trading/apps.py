from django.apps import AppConfig


class TradingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.trading"

    def ready(self) -> None:
        from apps.marketdata.signals import ticks_stored
        from apps.trading.tasks import on_ticks_stored

        ticks_stored.connect(on_ticks_stored, dispatch_uid="trading-paper-match")

        import apps.trading.algo_tasks  # noqa: F401  (registers the algo tasks with workers)

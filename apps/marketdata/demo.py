"""The demo set-up of market data: the synthetic feed of the majors, running."""

from django.conf import settings

from apps.marketdata.models import DataSource
from apps.marketdata.services.sources import source_start


def setup_demo() -> str:
    if not settings.MARKETDATA_DEMO_FEED:
        return "synthetic feed not started (MARKETDATA_DEMO_FEED is off)"
    source = source_start(source=DataSource.objects.get(name="synthetic"))
    symbols = ", ".join(source.instruments.values_list("symbol", flat=True))
    return f"synthetic (simulated) feed {source.state} for {symbols}"

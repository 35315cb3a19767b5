"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.local")

app = Celery("fxsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request-id propagation, JSON logging and metrics for every worker process.
import apps.monitoring.celery_signals  # noqa: E402,F401

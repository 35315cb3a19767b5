"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.local")

app = Celery("fxsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request-id propagation, JSON logging and metrics for every worker process.
import apps.monitoring.celery_signals  # noqa: E402,F401


@signals.task_postrun.connect
def release_database_connections(task=None, **kwargs) -> None:
    """After each task, hand its connections back to the process's pool (or,
    without a pool, close what ``CONN_MAX_AGE`` says to close; also any that
    broke). Not for eager calls: they run inside the caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()

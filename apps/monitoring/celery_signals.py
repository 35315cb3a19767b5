"""Celery signal handlers: JSON logging, request-id propagation, task metrics.

Imported by ``fxsite/celery.py`` so that every web process (publisher) and
worker process has them.
"""

import logging.config
import os
import time

from celery import signals

from apps.monitoring.context import get_request_id, reset_request_id, set_request_id

HEADER = "fx_request_id"
_started: dict[str, tuple[float, object]] = {}


@signals.setup_logging.connect
def configure_logging(**kwargs) -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def propagate_request_id(headers=None, **kwargs) -> None:
    request_id = get_request_id()
    if headers is not None and request_id:
        headers.setdefault(HEADER, request_id)


def task_request_id(task) -> str:
    """The id of the request that enqueued ``task``, else the task's own id."""
    request = task.request
    return getattr(request, HEADER, None) or (request.headers or {}).get(HEADER) or request.id


@signals.task_prerun.connect
def bind_request_id(task_id=None, task=None, **kwargs) -> None:
    token = set_request_id(task_request_id(task))
    _started[task_id] = (time.monotonic(), token)


@signals.task_postrun.connect
def unbind_request_id(task_id=None, task=None, state=None, **kwargs) -> None:
    from apps.monitoring.metrics import CELERY_TASK_SECONDS, CELERY_TASKS

    started, token = _started.pop(task_id, (None, None))
    if started is not None:
        CELERY_TASK_SECONDS.labels(task=task.name).observe(time.monotonic() - started)
    CELERY_TASKS.labels(task=task.name, state=state or "UNKNOWN").inc()
    if token is not None:
        try:
            reset_request_id(token)
        except ValueError:  # set in another context (thread pools)
            set_request_id(None)


@signals.worker_process_shutdown.connect
def mark_metrics_process_dead(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())

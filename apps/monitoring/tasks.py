"""Monitoring tasks: a heartbeat pushed to WebSocket clients, and a ping."""

import logging
import os
import socket

from celery import shared_task
from django.utils import timezone

from apps.monitoring import services
from apps.monitoring.context import get_request_id

logger = logging.getLogger(__name__)


@shared_task(name="apps.monitoring.tasks.heartbeat", ignore_result=True, expires=25)
def heartbeat() -> None:
    services.heartbeat_publish()


@shared_task(name="apps.monitoring.tasks.ping")
def ping(value: str = "pong") -> dict:
    """Round-trip probe: echoes ``value`` with where and for whom it ran."""
    logger.info("ping %s", value)
    return {
        "value": value,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "request_id": get_request_id(),
        "at": timezone.now().isoformat(),
    }

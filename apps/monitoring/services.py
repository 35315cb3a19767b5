"""Writes of the monitoring domain."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

HEARTBEAT_GROUP = "heartbeat"


def heartbeat_publish() -> None:
    """Push a heartbeat to every ``/ws/echo/`` client (proves worker → Redis → WS)."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        HEARTBEAT_GROUP, {"type": "heartbeat", "ts": timezone.now().isoformat()}
    )

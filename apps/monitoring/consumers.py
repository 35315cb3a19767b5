"""``/ws/echo/``: authenticated echo and heartbeat, for clients and probes."""

from django.utils import timezone

from apps.accounts.websocket import AuthenticatedJsonConsumer
from apps.monitoring.services import HEARTBEAT_GROUP


class EchoConsumer(AuthenticatedJsonConsumer):
    async def on_authenticated(self) -> None:
        await self.join(HEARTBEAT_GROUP)
        await self.send_json(
            {
                "type": "welcome",
                "user": self.user.username,
                "server_time": timezone.now().isoformat(),
            }
        )

    async def handle_message(self, content: dict) -> None:
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong", "ts": timezone.now().isoformat()})
        elif kind == "echo":
            await self.send_json({"type": "echo", "data": content.get("data")})
        else:
            await super().handle_message(content)

    async def heartbeat(self, event: dict) -> None:
        await self.send_json({"type": "heartbeat", "ts": event["ts"]})

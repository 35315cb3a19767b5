"""``/ws/trading/``: the signed-in user's orders, fills, positions and account
changes, pushed when they are committed. Never another user's data: each
socket joins only its own user's group."""

from apps.accounts.websocket import AuthenticatedJsonConsumer
from apps.trading.events import user_group


class TradingConsumer(AuthenticatedJsonConsumer):
    async def on_authenticated(self) -> None:
        await self.join(user_group(self.user.pk))
        await self.send_json({"type": "welcome", "user": self.user.username})

    async def handle_message(self, content: dict) -> None:
        if (content.get("action") or content.get("type")) == "ping":
            await self.send_json({"type": "pong"})
        else:
            await super().handle_message(content)

    async def trading_events(self, message: dict) -> None:
        for event in message["events"]:
            await self.send_json(event)

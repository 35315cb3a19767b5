"""``/ws/trading/``: the signed-in user's orders, fills, positions and account
changes, pushed when they are committed. Never another user's account data:
each socket joins its own user's group; an operator's also joins the
operators' group (risk events of every account)."""

from channels.db import database_sync_to_async

from apps.accounts.roles import PERM_OPERATE
from apps.accounts.websocket import AuthenticatedJsonConsumer
from apps.trading.events import OPERATORS_GROUP, user_group


class TradingConsumer(AuthenticatedJsonConsumer):
    async def on_authenticated(self) -> None:
        await self.join(user_group(self.user.pk))
        if await database_sync_to_async(self.user.has_perm)(PERM_OPERATE):
            await self.join(OPERATORS_GROUP)
        await self.send_json({"type": "welcome", "user": self.user.username})

    async def handle_message(self, content: dict) -> None:
        if (content.get("action") or content.get("type")) == "ping":
            await self.send_json({"type": "pong"})
        else:
            await super().handle_message(content)

    async def trading_events(self, message: dict) -> None:
        for event in message["events"]:
            if event.get("type") == "risk":
                self._remember(event.get("id"))
            await self.send_json(event)

    def _remember(self, event_id) -> None:
        seen = self.__dict__.setdefault("_risk_seen", {})
        seen[event_id] = None
        if len(seen) > 500:
            del seen[next(iter(seen))]

    async def trading_operator_events(self, message: dict) -> None:
        """Other users' events (an operator's own come through its own group)."""
        seen = self.__dict__.get("_risk_seen", {})
        for event in message["events"]:
            if event.get("owner") != self.user.pk and event.get("id") not in seen:
                await self.send_json(event)

"""WebSocket authentication shared by every consumer.

A client authenticates with a JWT access token or an API key, either in the
query string (``/ws/...?token=...``) or as its first message
(``{"type": "auth", "token": "..."}``). Unauthenticated connections are closed
with code 4401.
"""

import asyncio
import json
from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from apps.accounts import services

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _resolve(raw_token: str):
    return services.token_resolve(raw_token=raw_token)


class TokenAuthMiddleware(AuthMiddleware):
    """Populate ``scope["user"]`` (and ``scope["api_key"]``) from ``?token=``."""

    def populate_scope(self, scope) -> None:
        scope.setdefault("user", AnonymousUser())
        scope.setdefault("api_key", None)

    async def resolve_scope(self, scope) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        if token:
            resolved = await _resolve(token)
            if resolved is not None:
                scope["user"], scope["api_key"] = resolved


class AllowedHostsOrNoOriginValidator(OriginValidator):
    """Browsers must come from an allowed host; clients that send no Origin
    (bots, scripts: not subject to cross-site attacks) are let through to
    token authentication."""

    def __init__(self, application):
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


class AuthenticatedJsonConsumer(AsyncJsonWebsocketConsumer):
    """Base consumer: authentication, then JSON messages to ``handle_message``.

    Subclasses implement ``on_authenticated`` (join groups, send a snapshot)
    and ``handle_message``; they relay and never hold business logic.
    """

    async def connect(self) -> None:
        self.groups_joined: list[str] = []
        self._auth_deadline: asyncio.Task | None = None
        self._renewal: asyncio.Task | None = None
        await self.accept()
        if self.user.is_authenticated:
            await self.on_authenticated()
        else:
            self._auth_deadline = asyncio.create_task(self._close_if_not_authenticated())

    @property
    def user(self):
        return self.scope.get("user") or AnonymousUser()

    async def _close_if_not_authenticated(self) -> None:
        await asyncio.sleep(settings.WEBSOCKET_AUTH_TIMEOUT)
        if not self.user.is_authenticated:
            await self.send_error("not_authenticated", "Authentication timed out.")
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data or (bytes_data or b"").decode() or "null")
        except (ValueError, UnicodeDecodeError):
            await self.send_error("invalid_json", "Messages must be JSON objects.")
            return
        if not isinstance(content, dict):
            await self.send_error("invalid_message", "Messages must be JSON objects.")
            return
        if not self.user.is_authenticated:
            await self._authenticate(content)
            return
        await self.handle_message(content)

    async def _authenticate(self, content: dict) -> None:
        token = content.get("token") if content.get("type") == "auth" else None
        resolved = await _resolve(token) if isinstance(token, str) and token else None
        if resolved is None:
            await self.send_error("not_authenticated", "A valid token is required.")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.scope["user"], self.scope["api_key"] = resolved
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
        await self.on_authenticated()

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        if self._renewal is None:
            self._renewal = asyncio.create_task(self._renew_groups())

    async def _renew_groups(self) -> None:
        """Memberships lapse after the layer's ``group_expiry`` (so a dead
        server's channels drop out of their groups); a live socket renews its
        own three times per period."""
        period = max(getattr(self.channel_layer, "group_expiry", 86400) / 3, 0.1)
        while True:
            await asyncio.sleep(period)
            for group in list(self.groups_joined):
                await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code) -> None:
        if getattr(self, "_auth_deadline", None) is not None:
            self._auth_deadline.cancel()
        if getattr(self, "_renewal", None) is not None:
            self._renewal.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "error": {"code": code, "message": message}})

    async def on_authenticated(self) -> None:
        await self.send_json({"type": "welcome", "user": self.user.username})

    async def handle_message(self, content: dict) -> None:
        await self.send_error("unknown_message", f"Unknown message type {content.get('type')!r}.")

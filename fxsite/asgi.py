"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fxsite.settings.local")


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with each request's sync work in one thread hop
    on a thread kept for reuse.

    Django's own handler builds an async middleware chain: every
    ``MiddlewareMixin`` middleware hops to a thread for its
    ``process_request`` and again for its ``process_response``, and each
    sync-only middleware and the sync view hop back and forth again, about
    twenty thread switches per request; and each request's
    ``ThreadSensitiveContext`` starts a new thread. Every middleware here can
    run sync and every view is sync (DRF), so the chain runs as under WSGI,
    in one hop, on a thread borrowed from a free list for the request (its
    ``request_started``/``request_finished`` connection handling runs on that
    same thread, the one that used the connection).
    """

    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._idle_threads: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = (
            self._idle_threads.pop()
            if self._idle_threads
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="http")
        )
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        except BaseException:
            # Cancelled (the server gave up on the request) or failed: the
            # thread may still be running the view; it ends once that is done.
            thread.shutdown(wait=False)
            raise
        self._idle_threads.append(thread)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def _memoize_content_type_parsing() -> None:
    """Twisted parses every request's ``Content-Type`` with the email package
    (to spot form posts), about a tenth of an order request's CPU in Daphne;
    the header takes a handful of values, so its parse is remembered."""
    from twisted.web import http

    parse = getattr(http, "_parseContentType", None)
    if parse is not None and not hasattr(parse, "cache_info"):
        http._parseContentType = functools.lru_cache(maxsize=256)(parse)


_memoize_content_type_parsing()

# Django must be set up before importing consumers (they import models).
django.setup(set_prefix=False)
django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.accounts.websocket import (  # noqa: E402
    AllowedHostsOrNoOriginValidator,
    TokenAuthMiddleware,
)
from apps.trading.api.gateway import OrderGateway  # noqa: E402
from fxsite.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Order placements are taken by the order gateway, the rest by Django.
        "http": OrderGateway(django_asgi_app),
        "websocket": AllowedHostsOrNoOriginValidator(
            TokenAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

"""The order gateway: ``POST /api/v1/trading/orders/`` answered without a
Django request per order.

Placing one order through Django costs a whole request: the middleware
chain, DRF's dispatch, three queries before the order is even looked at (the
token's user, its permissions, the account) and a thread hop, several times
what writing the order costs once placements are grouped. The gateway sits in
front of Django in the ASGI application and takes the requests that are
plainly well formed:

- on the event loop it checks the host, the content type, the ``Accept``
  header and the ``Bearer`` token's signature and expiry (no query), and
  validates the body with the endpoint's own serializer;
- it queues the order for this process's writer thread, which takes every
  order queued while it wrote the previous round and, for the round, loads
  the users and accounts in two queries, checks each request as DRF would
  (an active user, the token not revoked, the trader role, the account its
  own, the per-user throttle) and places each account's orders with
  ``orders_place_group``: one transaction, one account lock and one task per
  account and user (group commit, as ``order_place_grouped`` does in the
  view; a lone order goes through ``order_place``);
- it answers each request with the view's body, status and headers: 201 with
  the order, 200 with the existing order for a ``client_order_id`` already
  used, or the order's own error.

Anything else (another authentication, a body the serializer refuses, a token
or user that does not pass, an account not the user's, a throttled caller, a
host Django would refuse, a redirect to HTTPS) goes to Django unchanged, its
body replayed, and gets Django's answer: the gateway only ever accepts what
the view would accept, and never refuses anything itself. Nothing is written
before those checks pass, so a request handed on is handled exactly once.

``TRADING_ORDER_GATEWAY=False`` sends every request through Django.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from rest_framework import exceptions as drf_exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework_simplejwt.authentication import AUTH_HEADER_TYPE_BYTES, JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import User
from apps.accounts.roles import PERM_TRADE
from apps.monitoring.context import clean_request_id, reset_request_id, set_request_id
from apps.monitoring.middleware import HEADER as REQUEST_ID_HEADER
from apps.trading import services
from apps.trading.api import serializers as s
from apps.trading.models import TradingAccount
from fxsite.api.exceptions import exception_handler
from fxsite.api.throttling import PrincipalRateThrottle

logger = logging.getLogger(__name__)

PATH = "/api/v1/trading/orders/"
VIEW_NAME = "trading:order-list"
#: Bodies larger than this (or of unknown length) go to Django.
MAX_BODY = 64 * 1024
#: What DRF answers in ``Allow`` for the orders list route.
ALLOW = "GET, POST, HEAD, OPTIONS"

_RENDERER = JSONRenderer()
_JWT = JWTAuthentication()


class _Tokens:
    """Access tokens already validated by this process, until they expire:
    checking a token's signature costs more than the rest of the gateway's
    work for a request, and a client sends the same token with every order.
    Only the event loop's thread uses it."""

    SIZE = 4096

    def __init__(self) -> None:
        self._valid: dict[bytes, Any] = {}

    def validated(self, raw: bytes):
        token = self._valid.get(raw)
        if token is not None and time.time() < token["exp"]:
            return token
        token = _JWT.get_validated_token(raw)  # raises when not valid
        if len(self._valid) >= self.SIZE:
            self._valid.clear()
        self._valid[raw] = token
        return token


_TOKENS = _Tokens()


def _strict_constant(value: str):
    raise ValueError(f"{value} is not valid JSON")  # as DRF's STRICT_JSON parser


@dataclass(eq=False)
class _Order:
    """A well-formed order request waiting for the writer."""

    user_id: Any
    token: Any
    account_id: int
    item: dict
    request_id: str
    secure: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(init=False)

    def __post_init__(self) -> None:
        self.future = self.loop.create_future()


@dataclass
class _Answer:
    status: int
    body: bytes


def _headers(scope: dict) -> dict[bytes, bytes] | None:
    """The request's headers, or None when one that matters here repeats."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        if name in headers and name in (
            b"host",
            b"authorization",
            b"content-type",
            b"content-length",
            b"accept",
            b"x-request-id",
        ):
            return None
        headers[name] = value
    return headers


def _secure(scope: dict, headers: dict[bytes, bytes]) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = headers.get(name, b"").decode("latin-1").split(",")[0].strip()
        return value == proxy[1]
    return False


def _host_allowed(headers: dict[bytes, bytes]) -> bool:
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        return False  # Django decides
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _accepts_json(headers: dict[bytes, bytes]) -> bool:
    accept = headers.get(b"accept")
    if accept is None:
        return True
    media = [part.split(b";")[0].strip() for part in accept.split(b",")]
    return any(m in (b"application/json", b"application/*", b"*/*") for m in media)


def parse(scope: dict, headers: dict[bytes, bytes], body: bytes, loop) -> _Order | None:
    """The order of a request the gateway can take, or None for Django."""
    if not _host_allowed(headers) or not _accepts_json(headers):
        return None
    secure = _secure(scope, headers)
    if settings.SECURE_SSL_REDIRECT and not secure:
        return None
    content_type = headers.get(b"content-type", b"").split(b";")
    if content_type[0].strip().lower() != b"application/json":
        return None
    params = [p.strip().lower() for p in content_type[1:]]
    if any(p and p not in (b"charset=utf-8", b'charset="utf-8"') for p in params):
        return None
    authorization = headers.get(b"authorization", b"").split()
    if len(authorization) != 2 or authorization[0] not in AUTH_HEADER_TYPE_BYTES:
        return None
    try:
        token = _TOKENS.validated(authorization[1])
        # As the user lookup would read it (simplejwt puts it as a string).
        user_id = User._meta.get_field(jwt_settings.USER_ID_FIELD).to_python(
            token[jwt_settings.USER_ID_CLAIM]
        )
        data = json.loads(body.decode("utf-8"), parse_constant=_strict_constant)
        if not isinstance(data, dict):
            return None
        item = dict(s.PLACE.run_validation(data))
    except (
        drf_exceptions.APIException,
        DjangoValidationError,
        KeyError,
        ValueError,
        UnicodeDecodeError,
    ):
        return None
    account_id = item.pop("account")
    request_id = clean_request_id(
        headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1") or None
    )
    return _Order(user_id, token, account_id, item, request_id, secure, loop)


class _ThrottleRequest:
    """What ``PrincipalRateThrottle`` reads of a request."""

    def __init__(self, user) -> None:
        self.user = user
        self.auth = None
        self.META: dict = {}


def _user_passes(order: _Order, user: User | None) -> bool:
    """What ``JWTAuthentication.get_user`` and ``IsTrader`` check."""
    if user is None:
        return False
    if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
        return False
    if jwt_settings.CHECK_REVOKE_TOKEN and order.token.get(
        jwt_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        return False
    return user.has_perm(PERM_TRADE)


def _render(data: Any, status: int) -> _Answer:
    return _Answer(status, _RENDERER.render(data))


def admit(orders: list[_Order]) -> tuple[dict, dict, dict[tuple, list[int]]]:
    """The checks DRF makes before the view, for a round: the users and
    accounts (two queries) and, per account and user, the indexes of the
    orders that pass. Writes nothing but the throttle's history."""
    field = jwt_settings.USER_ID_FIELD
    users = {
        getattr(u, field): u
        for u in User.objects.filter(**{f"{field}__in": {o.user_id for o in orders}})
    }
    accounts = {
        a.pk: a for a in TradingAccount.objects.filter(pk__in={o.account_id for o in orders})
    }
    passes: dict[Any, bool] = {}
    mine: dict[Any, list[int]] = {}  # per user, the orders that pass but the throttle
    for index, order in enumerate(orders):
        user = users.get(order.user_id)
        if order.user_id not in passes:
            passes[order.user_id] = _user_passes(order, user)
        account = accounts.get(order.account_id)
        if passes[order.user_id] and account is not None and account.owner_id == user.pk:
            mine.setdefault(order.user_id, []).append(index)
    groups: dict[tuple, list[int]] = {}
    throttle = PrincipalRateThrottle()
    for user_id, indexes in mine.items():
        allowed = throttle.allow_many(_ThrottleRequest(users[user_id]), None, len(indexes))
        for index in indexes[:allowed]:  # in order of arrival; the rest get Django's 429
            groups.setdefault((orders[index].account_id, user_id), []).append(index)
    return users, accounts, groups


def place(group: list[_Order], account: TradingAccount, user: User) -> list[_Answer]:
    """Place one account's and user's orders together; each gets its answer
    (the view's). A failure answers every order of the group, as it would
    each request that waited for it in the view; it is never handed on, since
    part of the group may have been written."""
    token = set_request_id(group[0].request_id)  # the id the group's task carries
    try:
        placed = services.orders_place_group(
            account=account,
            orders=[{**o.item, "correlation_id": o.request_id} for o in group],
            user=user,
        )
        answers = []
        for outcome in placed:
            if outcome.error is not None:
                answers.append(_error(outcome.error))
            else:
                body = s.ORDER.to_representation(outcome.order)
                answers.append(_render(body, 201 if outcome.created else 200))
        return answers
    except Exception as exc:
        return [_error(exc)] * len(group)
    finally:
        reset_request_id(token)


def _error(exc: Exception) -> _Answer:
    response = exception_handler(exc, {})  # logs what is unexpected
    return _render(response.data, response.status_code)


def write_round(orders: list[_Order]) -> list[_Answer | None]:
    """Each order's answer, or None for Django to answer it."""
    answers: list[_Answer | None] = [None] * len(orders)
    try:
        users, accounts, groups = admit(orders)
    except Exception:
        # Nothing was written (e.g. the database is away): Django answers.
        logger.exception("Order gateway could not check a round; Django takes its requests")
        return answers
    for (account_id, user_id), indexes in groups.items():
        group = [orders[i] for i in indexes]
        answers_of_group = place(group, accounts[account_id], users[user_id])
        for i, answer in zip(indexes, answers_of_group, strict=True):
            answers[i] = answer
    return answers


class _Writer:
    """This process's writer thread: it writes what is queued, round by round."""

    ROUND_MAX = services.BATCH_MAX

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Order] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, order: _Order) -> asyncio.Future:
        self._queue.put(order)
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="order-gateway", daemon=True
                    )
                    self._thread.start()
        return order.future

    def _run(self) -> None:
        while True:
            orders = [self._queue.get()]
            while len(orders) < self.ROUND_MAX:
                try:
                    orders.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                answers = write_round(orders)
            except Exception as exc:  # unexpected: what was written is unknown, so no retry
                answers = [_error(exc)] * len(orders)
            finally:
                connections.close_all()  # back to the pool, as at a request's end
            for order, answer in zip(orders, answers, strict=True):
                order.loop.call_soon_threadsafe(_settle, order.future, answer)


def _settle(future: asyncio.Future, answer: _Answer | None) -> None:
    if not future.done():
        future.set_result(answer)


class _BareRequest(HttpRequest):
    """What the response middlewares read of a request: whether it is secure."""

    def __init__(self, secure: bool) -> None:
        super().__init__()
        self._secure = secure

    def is_secure(self) -> bool:
        return self._secure


_RESPONSE_MIDDLEWARE: list | None = None


def _response_headers(order: _Order, answer: _Answer) -> list[tuple[bytes, bytes]]:
    """The answer's headers as the view's response gets them: DRF's, then the
    security and frame options middlewares' (Django's own), the request id
    and the length."""
    global _RESPONSE_MIDDLEWARE
    if _RESPONSE_MIDDLEWARE is None:
        _RESPONSE_MIDDLEWARE = [
            SecurityMiddleware(lambda request: None),
            XFrameOptionsMiddleware(lambda request: None),
        ]
    response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
    response["Allow"] = ALLOW
    request = _BareRequest(order.secure)
    for middleware in _RESPONSE_MIDDLEWARE:
        response = middleware.process_response(request, response)
    response["Content-Length"] = str(len(answer.body))
    response[REQUEST_ID_HEADER] = order.request_id
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]


class _Metrics:
    """The request metrics django-prometheus's middleware records for a request."""

    def __init__(self) -> None:
        from django_prometheus.middleware import Metrics

        self.m = Metrics.get_instance()

    def record(self, body_bytes: int, answer: _Answer, started: float) -> None:
        m = self.m
        status = str(answer.status)
        elapsed = time.perf_counter() - started
        m.requests_total.inc()
        m.requests_by_method.labels(method="POST").inc()
        m.requests_by_transport.labels(transport="http").inc()
        m.requests_body_bytes.observe(body_bytes)
        m.requests_by_view_transport_method.labels(
            view=VIEW_NAME, transport="http", method="POST"
        ).inc()
        m.responses_total.inc()
        m.responses_by_status.labels(status=status).inc()
        m.responses_by_status_view_method.labels(status=status, view=VIEW_NAME, method="POST").inc()
        m.responses_by_charset.labels(charset="utf-8").inc()
        m.responses_body_bytes.observe(len(answer.body))
        m.requests_latency_before.observe(elapsed)
        m.requests_latency_by_view_method.labels(view=VIEW_NAME, method="POST").observe(elapsed)


class OrderGateway:
    """ASGI: order placements through the gateway, everything else to ``app``."""

    def __init__(self, app) -> None:
        self.app = app
        self.writer = _Writer()
        self._metrics: _Metrics | None = None

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or not getattr(settings, "TRADING_ORDER_GATEWAY", True)
        ):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = _headers(scope)
        length = _content_length(headers)
        if length is None or length > MAX_BODY:
            return await self.app(scope, receive, send)
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: Django sees it too
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        order = None
        if messages[-1]["type"] == "http.request" and len(body) == length:
            order = parse(scope, headers, body, asyncio.get_running_loop())
        if order is not None:
            answer = await self.writer.submit(order)
            if answer is not None:
                await self._answer(send, order, answer, len(body), started)
                return
        await self.app(scope, _replay(messages, receive), send)

    async def _answer(self, send, order: _Order, answer: _Answer, size: int, started) -> None:
        headers = _response_headers(order, answer)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        if self._metrics is None:
            self._metrics = _Metrics()
        self._metrics.record(size, answer, started)


def _content_length(headers: dict[bytes, bytes] | None) -> int | None:
    """The body's declared length; None when unknown or the headers repeat."""
    value = headers.get(b"content-length", b"") if headers is not None else b""
    return int(value) if value.isdigit() else None


def _replay(messages: list[dict], receive):
    """``receive`` that gives the messages already read again, then the rest."""
    pending = list(messages)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed

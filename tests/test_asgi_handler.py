"""The ASGI HTTP handler: each request's sync work in one hop, on a reused thread."""

import asyncio
import json
import threading

import pytest
from django.db import connections

from apps.accounts import services
from apps.accounts.tests.factories import UserFactory
from fxsite import asgi
from tests.asgi_client import asgi_request

pytestmark = pytest.mark.django_db(transaction=True)


def _http_threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.name.startswith("http")}


def test_requests_run_through_the_middleware_and_reuse_their_threads():
    user = UserFactory(username="asgi-user", roles=["trader"])
    token = services.token_pair_for(user=user)["access"]
    auth = [(b"authorization", f"Bearer {token}".encode()), (b"x-request-id", b"req-1")]
    # Threads kept from earlier tests' concurrent requests end first.
    while asgi.django_asgi_app._idle_threads:
        asgi.django_asgi_app._idle_threads.pop().shutdown(wait=True)

    async def scenario():
        first = await asgi_request("/api/v1/me/", headers=auth)
        threads = _http_threads()
        for _ in range(20):
            again = await asgi_request("/api/v1/me/", headers=auth)
            assert again["status"] == 200
        return first, threads, _http_threads()

    first, after_one, after_many = asyncio.run(scenario())
    assert first["status"] == 200, first["body"]
    assert json.loads(first["body"])["username"] == "asgi-user"
    assert first["headers"][b"x-request-id"] == b"req-1"  # the middleware ran
    # One request at a time: one thread serves them all (Django's own handler
    # starts a new thread for each request).
    assert len(after_one) == 1 and after_many == after_one


def test_concurrent_requests_each_get_a_thread_and_errors_keep_their_format():
    async def scenario():
        return await asyncio.gather(
            *(asgi_request("/api/v1/does-not-exist/") for _ in range(4)),
            asgi_request("/api/v1/me/"),
        )

    *missing, anonymous = asyncio.run(scenario())
    for response in missing:
        assert response["status"] == 404
        assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert anonymous["status"] == 401
    assert len(asgi.django_asgi_app._idle_threads) >= 2


def test_the_request_thread_gives_its_database_connection_back():
    """``request_finished`` closes the connection on the thread that opened it
    (with the pool: returns it), so a thread waiting for its next request
    holds none."""

    async def scenario():
        response = await asgi_request("/api/v1/auth/token/", method="POST", body=b"{}")
        assert response["status"] == 400
        return asgi.django_asgi_app._idle_threads[-1]

    thread = asyncio.run(scenario())
    assert thread.submit(lambda: connections["default"].connection is None).result(5)


def test_a_cancelled_request_does_not_give_back_a_thread_that_may_be_busy():
    async def scenario():
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "path": "/healthz",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
        }
        idle_before = list(asgi.django_asgi_app._idle_threads)
        never = asyncio.Event()

        async def receive():
            await never.wait()  # the body never comes

        async def send(message):
            pass

        task = asyncio.create_task(asgi.application(scope, receive, send))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return idle_before, list(asgi.django_asgi_app._idle_threads)

    before, after = asyncio.run(scenario())
    # Its thread was taken from the idle list (or made) and not put back.
    assert len(after) == max(len(before) - 1, 0)
    assert all(thread in before for thread in after)

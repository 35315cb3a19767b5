"""The order gateway (``apps/trading/api/gateway.py``): ``POST
/api/v1/trading/orders/`` through the whole ASGI application, in process,
against the real database and Redis.

What the gateway answers must be what the view answers (body, status and
headers); what it cannot take must reach the view and get the view's answer;
and nothing may be placed twice."""

import asyncio
import json
import time
from datetime import timedelta
from decimal import Decimal as D
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings
from prometheus_client import REGISTRY
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts import services as accounts
from apps.accounts.tests.factories import UserFactory
from apps.trading import services
from apps.trading.api import gateway
from apps.trading.api.serializers import OrderSerializer
from apps.trading.models import Order, OrderEvent
from apps.trading.tasks import execute_order, execute_orders
from apps.trading.tests.test_batch import quote
from apps.trading.tests.test_grouped_placement import account_locked
from tests.asgi_client import asgi_request

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/trading/orders/"
# Headers whose values differ from one request to the next.
VARYING = {b"content-length", b"x-request-id"}


@pytest.fixture
def account(trader):
    quote("EURUSD", "1.10000", "1.10010")
    cache.clear()  # throttle histories of earlier tests
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


@pytest.fixture
def tasks():
    """The execution tasks sent: ``single`` (a lone order) and ``grouped``."""
    with (
        mock.patch.object(execute_order, "apply_async") as single,
        mock.patch.object(execute_orders, "apply_async") as grouped,
    ):
        yield mock.Mock(single=single, grouped=grouped)


def bearer(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {accounts.token_pair_for(user=user)['access']}".encode())


def order(account, **fields) -> dict:
    return {"account": account.pk, "symbol": "EURUSD", "side": "buy", "quantity": "0.10", **fields}


def post(data, *headers, request_id: str = "req-1", content_type=b"application/json"):
    """POST one order through the ASGI application; ``data`` as JSON unless bytes."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return asgi_request(
        PATH,
        method="POST",
        body=body,
        headers=[
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
            *headers,
        ],
    )


def run(*requests):
    async def together():
        return await asyncio.gather(*requests)

    answers = asyncio.run(together())
    return answers[0] if len(answers) == 1 else answers


def through_django(*requests):
    with override_settings(TRADING_ORDER_GATEWAY=False):
        return run(*requests)


def gateway_requests() -> float:
    value = REGISTRY.get_sample_value(
        "django_http_requests_total_by_view_transport_method_total",
        {"view": gateway.VIEW_NAME, "transport": "http", "method": "POST"},
    )
    return value or 0.0


def test_an_order_is_placed_and_answered_as_the_view_answers(account, tasks):
    counted = gateway_requests()
    with mock.patch("django.core.handlers.base.BaseHandler.get_response") as django:
        answer = run(post(order(account, client_order_id="gw-1"), bearer(account.owner)))
    django.assert_not_called()  # the gateway answered, not Django
    assert answer["status"] == 201, answer["body"]
    placed = Order.objects.get(account=account, client_order_id="gw-1")
    assert json.loads(answer["body"]) == json.loads(json.dumps(OrderSerializer(placed).data))
    assert answer["headers"][b"x-request-id"] == b"req-1"
    submitted = OrderEvent.objects.get(order=placed, event="submitted")
    assert submitted.correlation_id == "req-1"
    assert tasks.single.call_args.args[0] == (placed.pk,)  # alone: the single path
    assert gateway_requests() == counted + 1  # in the request metrics like any request

    # The same order through Django: the same status, body and headers.
    view = through_django(post(order(account, client_order_id="gw-1"), bearer(account.owner)))
    again = run(post(order(account, client_order_id="gw-1"), bearer(account.owner)))
    assert view["status"] == again["status"] == 200
    assert json.loads(view["body"]) == json.loads(again["body"]) == json.loads(answer["body"])
    assert {k: v for k, v in view["headers"].items() if k not in VARYING} == {
        k: v for k, v in again["headers"].items() if k not in VARYING
    }
    assert Order.objects.filter(account=account).count() == 1


def test_a_refused_order_gets_the_view_s_error(account, tasks):
    unknown = order(account, symbol="XXXYYY")
    answer = run(post(unknown, bearer(account.owner)))
    view = through_django(post(unknown, bearer(account.owner)))
    assert answer["status"] == view["status"] == 400
    assert json.loads(answer["body"]) == json.loads(view["body"])
    assert json.loads(answer["body"])["error"]["code"] == "unknown_symbol"
    assert not Order.objects.exists()


def test_what_the_gateway_cannot_take_gets_django_s_answer(account, trader, viewer, tasks):
    """Each of these reaches the view, which answers it; none is placed."""
    owner = bearer(trader)
    someone = UserFactory(username="someone-else", roles=["trader"])
    theirs = services.account_open(owner=someone, name="Theirs", deposit=D("1000"))
    inactive = UserFactory(username="gone", roles=["trader"])
    inactive_token = bearer(inactive)
    inactive.is_active = False
    inactive.save()
    cases = [
        (post(order(account, side="up"), owner), 400, "validation_error"),
        (post(order(account), content_type=b"application/json"), 401, "not_authenticated"),
        (post(order(account), (b"authorization", b"Bearer not-a-token")), 401, "token_not_valid"),
        (post(order(account), inactive_token), 401, "user_inactive"),
        (post(order(account), bearer(viewer)), 403, "permission_denied"),
        (post(order(theirs), owner), 404, "not_found"),
        (post(b"{not json", owner), 400, "parse_error"),
        (post(b"account=1&symbol=EURUSD", owner, content_type=b"text/plain"), 415, None),
    ]
    with mock.patch.object(gateway, "place", wraps=gateway.place) as placed:
        answers = run(*(request for request, _, _ in cases))
    placed.assert_not_called()
    for (_, status, code), answer in zip(cases, answers, strict=True):
        assert answer["status"] == status, answer["body"]
        if code:
            assert json.loads(answer["body"])["error"]["code"] == code
        assert answer["headers"][b"x-request-id"] == b"req-1"
    assert not Order.objects.exists()


def test_an_operator_is_told_to_trade_their_own_accounts(account, operator, tasks):
    answer = run(post(order(account), bearer(operator)))
    assert answer["status"] == 400
    assert json.loads(answer["body"])["error"]["fields"] == {
        "account": ["You can only trade your own accounts."]
    }
    assert not Order.objects.exists()


def test_a_throttled_caller_gets_429_and_the_rest_of_the_round_is_kept(account, tasks):
    rates = {"principal": "3/min", "anon": "100/min", "login": "100/min"}
    with override_settings(REST_FRAMEWORK={**_rest(), "DEFAULT_THROTTLE_RATES": rates}):
        answers = run(
            *(post(order(account), bearer(account.owner), request_id=f"t{i}") for i in range(5))
        )
    statuses = sorted(a["status"] for a in answers)
    assert statuses == [201, 201, 201, 429, 429]
    refused = next(a for a in answers if a["status"] == 429)
    assert json.loads(refused["body"])["error"]["code"] == "throttled"
    assert Order.objects.filter(account=account).count() == 3


def _rest() -> dict:
    from django.conf import settings

    return settings.REST_FRAMEWORK


def test_an_expired_token_is_not_taken_from_the_gateway_s_memory(account, tasks):
    token = AccessToken.for_user(account.owner)
    token.set_exp(lifetime=timedelta(seconds=2))
    header = (b"authorization", f"Bearer {token}".encode())
    assert run(post(order(account), header))["status"] == 201
    time.sleep(2.1)
    expired = run(post(order(account), header))
    assert expired["status"] == 401
    assert json.loads(expired["body"])["error"]["code"] == "token_not_valid"
    assert Order.objects.filter(account=account).count() == 1


def test_orders_arriving_while_a_round_is_written_are_written_together(account, tasks):
    """The first round waits at the account's lock (held here) while the
    others arrive; they are written in the next round, with one task, each
    with its own request id, duplicates included."""
    token = bearer(account.owner)

    async def scenario():
        first = asyncio.create_task(post(order(account), token, request_id="r0"))
        await asyncio.sleep(0.5)  # the first round is at the lock
        rest = [
            asyncio.create_task(
                post(
                    order(account, side="sell" if i % 2 else "buy", quantity=f"0.{i}0"),
                    token,
                    request_id=f"r{i}",
                )
            )
            for i in range(1, 6)
        ]
        rest.append(
            asyncio.create_task(
                post(order(account, client_order_id="r0-again"), token, request_id="r6")
            )
        )
        rest.append(
            asyncio.create_task(
                post(order(account, client_order_id="r0-again"), token, request_id="r7")
            )
        )
        await asyncio.sleep(0.5)  # all queued behind it
        release.set()
        return [await first, *[await task for task in rest]]

    with account_locked(account) as release:
        answers = asyncio.run(scenario())
    assert [a["status"] for a in answers] == [201] * 7 + [200]
    ids = [json.loads(a["body"])["id"] for a in answers]
    assert ids[6] == ids[7]  # one order for the repeated client order id
    # the first round alone, then the seven behind it together (six new orders)
    assert tasks.single.call_count == 1
    assert tasks.grouped.call_count == 1
    assert len(tasks.grouped.call_args.args[0][0]) == 6
    for index, order_id in enumerate(ids[:7]):
        event = OrderEvent.objects.get(order_id=order_id, event="submitted")
        assert event.correlation_id == f"r{index}"
    assert Order.objects.filter(account=account).count() == 7


def test_a_round_that_fails_answers_500_and_is_not_placed_again(account, tasks):
    """Part of a failed round may have been written: its requests are not
    handed to Django to be placed a second time."""
    failure = RuntimeError("the database went away")
    with (
        mock.patch.object(services, "orders_place_group", side_effect=failure),
        mock.patch("django.core.handlers.base.BaseHandler.get_response") as django,
    ):
        answer = run(post(order(account), bearer(account.owner)))
    django.assert_not_called()
    assert answer["status"] == 500
    assert json.loads(answer["body"])["error"]["code"] == "server_error"
    # and the next one goes on
    assert run(post(order(account), bearer(account.owner)))["status"] == 201


def test_the_switch_sends_every_order_through_django(account, tasks):
    with mock.patch.object(gateway, "parse") as parse:
        answer = through_django(post(order(account), bearer(account.owner)))
    parse.assert_not_called()
    assert answer["status"] == 201

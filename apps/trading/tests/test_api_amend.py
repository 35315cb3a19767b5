"""REST: amend and cancel working orders; operators reconcile accounts."""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from apps.marketdata import live
from apps.trading import services
from apps.trading.models import Order, Reconciliation
from apps.trading.tasks import execute_order
from conftest import jwt_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/trading/orders/"


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


@pytest.fixture
def resting(trader_client, account):
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": "1.08500",
            "ask": "1.08510",
            "time": "t",
            "ts": 1,
            "source": "t",
        }
    )
    body = {
        "account": account.pk,
        "symbol": "EURUSD",
        "side": "buy",
        "type": "limit",
        "quantity": "1.00",
        "price": "1.08000",
    }
    order = trader_client.post(URL, body, format="json").json()
    execute_order(order["id"])
    return Order.objects.get(pk=order["id"])


def test_amend_a_resting_limit(trader_client, resting):
    response = trader_client.post(
        f"{URL}{resting.pk}/amend/", {"price": "1.08100", "quantity": "2.00"}, format="json"
    )
    assert response.status_code == 202, response.json()
    assert response.json()["price"] == "1.0810000000"
    assert response.json()["quantity"] == "2.00"
    detail = trader_client.get(f"{URL}{resting.pk}/").json()
    amended = [e for e in detail["events"] if e["event"] == "amended"]
    assert amended[0]["data"]["before"] == {"price": "1.0800000000", "quantity": "1.00"}
    assert amended[0]["data"]["after"] == {"price": "1.0810000000", "quantity": "2.00"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price": "1.080001"}, "price"),  # off the price grid
        ({"quantity": "0.001"}, "quantity"),
        ({"stop_price": "1.07"}, "stop_price"),  # a limit has no stop price
        ({"expire_at": "2030-01-01T00:00:00Z"}, "expire_at"),  # only GTD orders expire
    ],
)
def test_bad_amendments_get_per_field_errors(trader_client, resting, body, field):
    response = trader_client.post(f"{URL}{resting.pk}/amend/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"], error
    resting.refresh_from_db()
    assert resting.price == D("1.08") and resting.quantity == D("1")


def test_an_empty_amendment_is_refused(trader_client, resting):
    response = trader_client.post(f"{URL}{resting.pk}/amend/", {}, format="json")
    assert response.status_code == 400


def test_a_final_order_cannot_be_amended_or_cancelled(trader_client, resting):
    assert trader_client.post(f"{URL}{resting.pk}/cancel/").status_code == 202
    response = trader_client.post(f"{URL}{resting.pk}/amend/", {"price": "1.081"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert trader_client.post(f"{URL}{resting.pk}/cancel/").status_code == 409


def test_another_user_cannot_amend(resting, viewer, password):
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(other, viewer.username)['access']}")
    response = other.post(f"{URL}{resting.pk}/amend/", {"price": "1.081"}, format="json")
    assert response.status_code in (403, 404)


def test_operators_reconcile_traders_read_the_record(
    trader_client, account, operator, django_capture_on_commit_callbacks
):
    url = f"/api/v1/trading/accounts/{account.pk}/reconcile/"
    assert trader_client.post(url).status_code == 403
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_for(client, operator.username)['access']}")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url)
    assert response.status_code == 202
    assert len(callbacks) == 1
    services.reconciliation_record(
        account=account, trigger="manual", actions=[{"action": "x"}], checked={}
    )
    records = trader_client.get(f"/api/v1/trading/accounts/{account.pk}/reconciliations/").json()
    assert records[0]["status"] == Reconciliation.Status.REPAIRED
    assert records[0]["actions"] == [{"action": "x"}]

"""The algo orders API: create, validation, pause/resume/cancel, isolation."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.trading import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/trading/algos/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


def body(account, **kw) -> dict:
    now = timezone.now()
    return {
        "account": account.pk,
        "symbol": "EURUSD",
        "side": "buy",
        "strategy": "twap",
        "quantity": "1.00",
        "start_at": (now + timedelta(minutes=1)).isoformat(),
        "end_at": (now + timedelta(minutes=11)).isoformat(),
        "slice_count": 5,
        **kw,
    }


def test_create_answers_201_with_the_plan_and_200_for_the_same_client_id(trader, account):
    client = client_for(trader)
    response = client.post(URL, body(account, client_id="t-1", limit_price="1.10500"))
    assert response.status_code == 201, response.content
    algo = response.json()
    assert algo["status"] == "pending" and algo["symbol"] == "EURUSD"
    assert algo["limit_price"] == "1.1050000000" and algo["client_id"] == "t-1"
    assert algo["progress"] == {
        "percent_filled": "0.00",
        "filled_quantity": "0.00",
        "remaining_quantity": "1.00",
        "average_price": None,
        "slices_sent": 0,
        "slices_total": 5,
        "next_slice_at": algo["next_slice_at"].replace("+00:00", "Z"),
    }
    again = client.post(URL, body(account, client_id="t-1", quantity="2.00"))
    assert again.status_code == 200 and again.json()["id"] == algo["id"]

    detail = client.get(f"{URL}{algo['id']}/").json()
    assert [s["quantity"] for s in detail["schedule"]] == ["0.20"] * 5
    assert detail["children"] == [] and detail["data"]["profile"] == {"kind": "time"}
    listed = client.get(URL, {"status": "pending", "strategy": "twap"}).json()
    assert [a["id"] for a in listed["results"]] == [algo["id"]]


def test_bad_algos_get_400_with_per_field_errors(trader, account):
    client = client_for(trader)
    now = timezone.now()
    response = client.post(
        URL,
        body(
            account,
            quantity="0.00",
            end_at=(now - timedelta(minutes=5)).isoformat(),
            interval_seconds=60,
            limit_price="1.100001",
        ),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_algo"
    assert set(error["fields"]) == {
        "quantity",
        "end_at",
        "slice_count",
        "interval_seconds",
        "limit_price",
    }
    missing = client.post(URL, {"account": account.pk, "symbol": "EURUSD", "side": "buy"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "validation_error"
    assert {"strategy", "quantity", "end_at"} <= set(missing.json()["error"]["fields"])
    unknown = client.post(URL, body(account, symbol="EURXXX"))
    assert unknown.status_code == 400 and "symbol" in unknown.json()["error"]["fields"]


def test_pause_resume_and_cancel(trader, account):
    client = client_for(trader)
    algo_id = client.post(URL, body(account)).json()["id"]
    paused = client.post(f"{URL}{algo_id}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["progress"]["next_slice_at"] is None
    resumed = client.post(f"{URL}{algo_id}/resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "pending"  # not started
    cancelled = client.post(f"{URL}{algo_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"{URL}{algo_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_users_see_and_act_on_their_own_algos_only(trader, account, viewer, operator):
    algo_id = client_for(trader).post(URL, body(account)).json()["id"]
    other = client_for(UserFactory(username="other-trader", roles=["trader"]))
    assert other.get(f"{URL}{algo_id}/").status_code == 404
    for action in ("pause", "resume", "cancel"):
        assert other.post(f"{URL}{algo_id}/{action}/").status_code == 404
    assert other.get(URL).json()["count"] == 0
    # Nor can they start one on someone else's account.
    assert other.post(URL, body(account)).status_code == 404
    # A viewer reads but does not trade.
    assert client_for(viewer).post(URL, body(account)).status_code == 403
    # Operators see everyone's algos, but trade only their own accounts.
    ops = client_for(operator)
    assert [a["id"] for a in ops.get(URL).json()["results"]] == [algo_id]
    refused = ops.post(URL, body(account))
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"account"}

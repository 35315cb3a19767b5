"""Every order passes the pre-trade risk check; a refusal is a rejected order
with the limit's code, and nothing is sent to the broker."""

from decimal import Decimal as D

import pytest

from apps.marketdata import live
from apps.risk import services as risk
from apps.trading import services
from apps.trading.models import Order, OrderEvent
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/trading/orders/"


@pytest.fixture
def account(trader):
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": "1.10000",
            "ask": "1.10010",
            "time": "t",
            "ts": 1,
            "source": "t",
        }
    )
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


def test_an_oversized_order_is_rejected_with_the_limits_code(trader_client, account):
    risk.limits_update(account=account, changes={"max_order_lots": D("1")}, actor="test")
    body = {"account": account.pk, "symbol": "EURUSD", "side": "buy", "quantity": "2.00"}
    response = trader_client.post(URL, body, format="json")
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "rejected"
    assert order["reject_code"] == "RISK_MAX_ORDER_SIZE"
    assert "1" in order["reject_reason"] and "2" in order["reject_reason"]
    event = OrderEvent.objects.get(order_id=order["id"], event="rejected")
    assert event.actor == "risk" and event.data["code"] == "RISK_MAX_ORDER_SIZE"
    assert execute_order(order["id"]) == "rejected"  # never sent
    # Just below the limit passes.
    body["quantity"] = "1.00"
    assert trader_client.post(URL, body, format="json").json()["status"] == "new"


def test_a_halted_account_still_closes_positions(trader_client, account, operator):
    order, _ = services.order_place(
        account=account, instrument=_eurusd(), side="buy", type="market", quantity=D("0.10")
    )
    execute_order(order.pk)
    risk.trading_state_set(state="halted", account=account, actor=operator, reason="test")
    refused, _ = services.order_place(
        account=account, instrument=_eurusd(), side="buy", type="market", quantity=D("0.10")
    )
    assert (refused.status, refused.reject_code) == (Order.Status.REJECTED, "RISK_HALTED")
    position = account.positions.get(closed_at__isnull=True)
    close = services.position_close(position=position)
    assert close.status == Order.Status.NEW
    assert execute_order(close.pk) == "filled"


@pytest.mark.django_db(transaction=True)
def test_the_account_summary_is_pushed_with_each_fill(account):
    from apps.trading.tests.test_events import listen

    order, _ = services.order_place(
        account=account, instrument=_eurusd(), side="buy", type="market", quantity=D("1")
    )
    receive = listen(account.owner_id)
    execute_order(order.pk)
    first, then = receive()["events"], receive()["events"]
    assert [e["type"] for e in first] == ["order", "fill", "position"]
    (summary,) = then  # valued once the fill was committed, and sent after it
    assert summary["type"] == "account"
    assert summary["balance"] == "100000.00000000"
    assert summary["currency"] == "USD"
    assert {"equity", "margin", "free_margin", "margin_level", "open_pnl"} <= set(summary)
    assert D(summary["equity"]) == D("100000") - D("10.00")  # bought at the ask, marked at the bid


def _eurusd():
    from apps.marketdata.models import Instrument

    return Instrument.objects.get(symbol="EURUSD")

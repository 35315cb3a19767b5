from decimal import Decimal

import pytest

from apps.marketdata.models import Instrument
from apps.monitoring.context import reset_request_id, set_request_id
from apps.trading import services
from apps.trading.errors import InvalidTransition
from apps.trading.models import LedgerEntry, Order, OrderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=Decimal("100000"))


@pytest.fixture
def order(account):
    return Order.objects.create(
        account=account,
        client_order_id="c-1",
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=Decimal("1"),
    )


def test_account_opens_with_a_ledgered_deposit(account):
    assert account.balance == Decimal("100000")
    entry = LedgerEntry.objects.get(account=account)
    assert entry.kind == "deposit" and entry.balance_after == Decimal("100000")
    services.ledger_post(account=account, kind="commission", amount=Decimal("-3.5"))
    account.refresh_from_db()
    assert account.balance == Decimal("99996.5")


def test_transitions_write_the_audit_trail_with_actor_and_correlation_id(order):
    token = set_request_id("req-42")
    try:
        services.order_transition(order=order, to_status="accepted", actor="broker:paper")
        services.order_transition(
            order=order, to_status="filled", actor="broker:paper", data={"price": "1.1"}
        )
    finally:
        reset_request_id(token)
    order.refresh_from_db()
    assert order.status == "filled" and order.accepted_at and order.closed_at
    events = list(
        OrderEvent.objects.filter(order=order).values_list(
            "from_status", "to_status", "actor", "correlation_id"
        )
    )
    assert events == [
        ("new", "accepted", "broker:paper", "req-42"),
        ("accepted", "filled", "broker:paper", "req-42"),
    ]


def test_refused_transitions_raise_and_leave_no_trace(order):
    services.order_transition(
        order=order,
        to_status="rejected",
        actor="risk",
        reject_code="RISK_MAX_ORDER_SIZE",
        reject_reason="too big",
    )
    with pytest.raises(InvalidTransition) as error:
        services.order_transition(order=order, to_status="accepted", actor="broker:paper")
    assert error.value.code == "invalid_transition" and error.value.status_code == 409
    order.refresh_from_db()
    assert order.status == "rejected" and order.reject_code == "RISK_MAX_ORDER_SIZE"
    assert OrderEvent.objects.filter(order=order).count() == 1

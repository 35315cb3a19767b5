from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.utils import timezone

from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.errors import InvalidOrder
from apps.trading.models import Order, OrderEvent


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


def place(account, **kw):
    defaults = dict(
        account=account,
        instrument=Instrument.objects.get(symbol=kw.pop("symbol", "EURUSD")),
        side="buy",
        type="market",
        quantity=D("1"),
    )
    return services.order_place(**{**defaults, **kw})


@pytest.mark.django_db
def test_a_market_order_is_placed_with_its_audit_trail(account, trader):
    order, created = place(account, user=trader)
    assert created and order.status == "new" and len(order.client_order_id) == 20
    event = OrderEvent.objects.get(order=order)
    assert event.event == "submitted" and event.actor == "user:trader1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes,field",
    [
        ({"quantity": D("0.015")}, "quantity"),
        ({"quantity": D("1000")}, "quantity"),
        ({"type": "limit"}, "price"),
        ({"type": "stop_limit", "price": D("1.10000")}, "stop_price"),
        ({"price": D("1.1")}, "price"),
        ({"type": "limit", "price": D("1.100001")}, "price"),
        ({"time_in_force": "GTD"}, "expire_at"),
        ({"time_in_force": "GTD", "expire_at": timezone.now() - timedelta(minutes=1)}, "expire_at"),
        ({"type": "limit", "price": D("1.10000"), "stop_loss": D("1.10100")}, "stop_loss"),
        ({"type": "limit", "price": D("1.10000"), "take_profit": D("1.09000")}, "take_profit"),
        (
            {"side": "sell", "type": "limit", "price": D("1.10000"), "stop_loss": D("1.09000")},
            "stop_loss",
        ),
        ({"symbol": "USDJPY", "type": "limit", "price": D("150.0001")}, "price"),
    ],
)
def test_invalid_orders_are_refused_per_field(account, changes, field):
    with pytest.raises(InvalidOrder) as error:
        place(account, **changes)
    assert field in error.value.fields
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_same_client_order_id_returns_the_existing_order(account):
    first, created = place(account, client_order_id="abc")
    again, created_again = place(account, client_order_id="abc", quantity=D("5"))
    assert created and not created_again and again.pk == first.pk and again.quantity == D("1")


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_duplicates_create_one_order(account):
    def attempt(_):
        try:
            order, created = place(account, client_order_id="race-1")
            return order.pk, created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(50)))
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Order.objects.filter(account=account, client_order_id="race-1").count() == 1

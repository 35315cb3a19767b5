"""Orders placed and executed in batches: ``orders_place_batch``,
``execute_orders`` / ``paper.submit_many`` / ``services.Booking``, and
``POST /api/v1/trading/orders/batch/``.

A batch books exactly what the same orders book one by one: the same fills,
positions, ledger (each entry's balance after it), order states and audit
trail."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from unittest import mock

import pytest
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.risk.services import limits_update
from apps.trading import services
from apps.trading.models import Fill, LedgerEntry, Order, OrderEvent, Position, TradingAccount
from apps.trading.tasks import execute_order, execute_orders

URL = "/api/v1/trading/orders/batch/"


def quote(symbol: str, bid: str, ask: str) -> None:
    live.quote_store(
        {
            "symbol": symbol,
            "bid": bid,
            "ask": ask,
            "time": "t",
            "ts": 1_900_000_000_000,
            "source": "t",
            "simulated": True,
        }
    )


@pytest.fixture
def quotes():
    quote("EURUSD", "1.10000", "1.10010")
    quote("USDJPY", "150.000", "150.020")
    quote("EURJPY", "165.000", "165.030")


def open_account(owner, name: str = "Paper") -> TradingAccount:
    account = services.account_open(owner=owner, name=name, deposit=D("100000"))
    TradingAccount.objects.filter(pk=account.pk).update(commission_per_lot=D("3.5"))
    account.refresh_from_db()
    return account


@pytest.fixture
def account(trader):
    return open_account(trader)


def item(symbol="EURUSD", side="buy", quantity="1.00", **kw) -> dict:
    return {"symbol": symbol, "side": side, "type": "market", "quantity": D(quantity), **kw}


def place_one(account: TradingAccount, spec: dict):
    """Place an ``item`` on its own, as ``POST /orders/`` does."""
    fields = {k: v for k, v in spec.items() if k != "symbol"}
    instrument = Instrument.objects.get(symbol=spec["symbol"])
    return services.order_place(account=account, instrument=instrument, **fields)


# A sequence that opens, adds to, reduces, flips and closes positions in
# USD- and JPY-quoted pairs, with an IOC that cannot fill and a resting limit.
SEQUENCE = [
    item("EURUSD", "buy", "1.00"),
    item("EURUSD", "sell", "0.50"),
    item("USDJPY", "buy", "2.00"),
    item("EURJPY", "sell", "0.30"),
    item("EURUSD", "sell", "2.50"),
    item("USDJPY", "sell", "2.00"),
    item("EURUSD", "buy", "0.40", type="limit", price=D("1.09000"), time_in_force="IOC"),
    item("EURUSD", "buy", "0.40", type="limit", price=D("1.09000")),
    item("EURJPY", "buy", "0.30"),
    item("EURUSD", "buy", "2.00"),
]


def books(account: TradingAccount) -> dict:
    """Everything a batch must book like single orders, without ids and times."""
    account.refresh_from_db()
    orders = list(Order.objects.filter(account=account).order_by("pk"))
    return {
        "balance": account.balance,
        "orders": [
            (o.instrument_id, o.side, o.status, o.filled_quantity, o.average_fill_price)
            for o in orders
        ],
        "events": [
            [(e.event, e.from_status, e.to_status, e.actor) for e in o.events.order_by("pk")]
            for o in orders
        ],
        "fills": list(
            Fill.objects.filter(account=account)
            .order_by("pk")
            .values_list("side", "quantity", "price", "commission", "realized_pnl", "swap")
        ),
        "ledger": list(
            LedgerEntry.objects.filter(account=account)
            .order_by("pk")
            .values_list("kind", "amount", "balance_after")
        ),
        "positions": list(
            Position.objects.filter(account=account)
            .order_by("pk")
            .values_list("instrument_id", "quantity", "average_price", "realized_pnl", "commission")
        ),
        "closed": [
            p.closed_at is None for p in Position.objects.filter(account=account).order_by("pk")
        ],
    }


@pytest.mark.django_db
def test_a_batch_books_exactly_what_the_same_orders_book_one_by_one(trader, quotes):
    single, batch = open_account(trader, "Single"), open_account(trader, "Batch")
    for spec in SEQUENCE:
        order, _ = place_one(single, spec)
        execute_order(order.pk)
    placed = services.orders_place_batch(account=batch, orders=SEQUENCE)
    assert [p.created for p in placed] == [True] * len(SEQUENCE)
    assert execute_orders([p.order.pk for p in placed]) == {"orders": len(SEQUENCE)}

    expected, got = books(single), books(batch)
    assert got == expected
    # and the figures are the right ones, not merely equal: the balance is the
    # deposit plus the realised P&L less commission of every fill
    fills = Fill.objects.filter(account=batch)
    assert fills.count() == 8
    assert got["balance"] == D("100000") + sum(f.realized_pnl - f.commission for f in fills)
    statuses = [o[2] for o in got["orders"]]
    assert statuses.count("filled") == 8 and statuses[6] == "cancelled"
    assert statuses[7] == "accepted"  # the limit rests


@pytest.mark.django_db
def test_executing_a_batch_again_or_order_by_order_books_nothing_twice(account, quotes):
    placed = services.orders_place_batch(
        account=account, orders=[item(side="buy"), item(side="sell", quantity="0.40")]
    )
    ids = [p.order.pk for p in placed]
    execute_orders(ids)
    before = books(account)
    assert execute_orders(ids) == {"orders": 0}
    assert [execute_order(pk) for pk in ids] == ["filled", "filled"]
    assert books(account) == before
    assert Fill.objects.filter(account=account).count() == 2


@pytest.mark.django_db
def test_a_bracket_entry_in_a_batch_places_its_protection(account, quotes):
    placed = services.orders_place_batch(
        account=account,
        orders=[
            item(quantity="0.50"),
            item(stop_loss=D("1.09500"), take_profit=D("1.10500")),
            item(quantity="0.20"),
        ],
    )
    execute_orders([p.order.pk for p in placed])
    entry = placed[1].order
    entry.refresh_from_db()
    assert entry.status == "filled"
    legs = Order.objects.filter(parent=entry)
    assert {leg.role for leg in legs} == {"stop_loss", "take_profit"}
    assert len({leg.oco_group for leg in legs}) == 1
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == D("1.70")
    account.refresh_from_db()
    assert account.balance == D("100000") - D("1.70") * D("3.5")


@pytest.mark.django_db
def test_a_position_closed_by_a_batch_cancels_its_protection(account, quotes):
    entry, _ = place_one(account, item(stop_loss=D("1.09500")))
    execute_order(entry.pk)
    stop = Order.objects.get(parent=entry)
    execute_order(stop.pk)
    placed = services.orders_place_batch(account=account, orders=[item(side="sell")])
    execute_orders([placed[0].order.pk])
    stop.refresh_from_db()
    assert stop.status == "cancelled"
    assert stop.events.last().data == {"reason": "position closed"}
    assert not Position.objects.filter(account=account, closed_at__isnull=True).exists()


@pytest.mark.django_db
def test_bad_items_are_refused_alone_and_duplicates_return_the_first(account, quotes):
    first, _ = place_one(account, item(client_order_id="known"))
    with mock.patch.object(execute_orders, "apply_async") as dispatch:
        placed = services.orders_place_batch(
            account=account,
            orders=[
                item(client_order_id="a"),
                item(symbol="XXXYYY"),
                item(quantity="0.015"),
                item(client_order_id="known", quantity="5.00"),
                item(client_order_id="a", side="sell"),
                item(type="limit"),
                {"symbol": "EURUSD"},
            ],
        )
    assert [(p.created, p.error and p.error.code) for p in placed] == [
        (True, None),
        (False, "unknown_symbol"),
        (False, "invalid_order"),
        (False, None),
        (False, None),
        (False, "invalid_order"),
        (False, "invalid_order"),
    ]
    assert placed[6].error.fields == {"side": ["Required."], "quantity": ["Required."]}
    assert placed[1].error.fields == {"symbol": ["Unknown or disabled symbol(s): XXXYYY."]}
    assert set(placed[2].error.fields) == {"quantity"}
    assert set(placed[5].error.fields) == {"price"}
    assert placed[3].order.pk == first.pk and placed[3].order.quantity == D("1")
    assert placed[4].order is placed[0].order
    assert Order.objects.filter(account=account).count() == 2
    events = OrderEvent.objects.get(order=placed[0].order)
    assert events.event == "submitted" and events.to_status == "new"
    # not run here (no commit in this test's transaction), so nothing sent yet
    dispatch.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_one_task_sends_the_whole_batch_once_it_commits(trader, quotes):
    account = open_account(trader)
    with mock.patch.object(execute_orders, "apply_async") as dispatch:
        placed = services.orders_place_batch(
            account=account, orders=[item(), item(side="sell"), item(symbol="XXXYYY")]
        )
    dispatch.assert_called_once_with(
        ([placed[0].order.pk, placed[1].order.pk],), queue="execution", ignore_result=True
    )


@pytest.mark.django_db
def test_risk_limits_count_the_orders_before_each_in_the_batch(account, quotes, operator):
    limits_update(account=account, changes={"max_position_lots": D("2")}, actor=operator)
    placed = services.orders_place_batch(
        account=account, orders=[item(), item(), item(), item(side="sell", quantity="0.50")]
    )
    statuses = [(p.order.status, p.order.reject_code) for p in placed]
    assert statuses == [
        ("new", ""),
        ("new", ""),
        ("rejected", "RISK_MAX_POSITION"),
        ("new", ""),
    ]
    rejected = placed[2].order
    assert [e.event for e in rejected.events.order_by("pk")] == ["submitted", "rejected"]
    assert "take the EURUSD position to +3.00 lots" in rejected.reject_reason


@pytest.mark.django_db
def test_a_batch_over_the_limit_is_refused_whole(account):
    from apps.trading.errors import InvalidOrder

    with pytest.raises(InvalidOrder) as error:
        services.orders_place_batch(account=account, orders=[item()] * (services.BATCH_MAX + 1))
    assert error.value.code == "batch_too_large"
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_copies_of_a_batch_place_it_once(trader, quotes):
    account = open_account(trader)
    orders = [item(client_order_id=f"c-{i}", side="buy" if i % 2 else "sell") for i in range(10)]

    def attempt(_):
        try:
            placed = services.orders_place_batch(account=account, orders=orders)
            return [(p.order.pk, p.created) for p in placed]
        finally:
            connection.close()

    # patched once, around all threads: a patch per thread could restore
    # another thread's mock last and leave it in place for later tests
    with (
        mock.patch.object(execute_orders, "apply_async") as dispatch,
        ThreadPoolExecutor(max_workers=20) as pool,
    ):
        outcomes = list(pool.map(attempt, range(20)))
    assert dispatch.call_count == 1  # one batch placed, one task
    ids = {tuple(pk for pk, _ in outcome) for outcome in outcomes}
    assert len(ids) == 1
    assert sum(created for outcome in outcomes for _, created in outcome) == 10
    assert Order.objects.filter(account=account).count() == 10


# --- the API ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_places_a_batch_with_an_outcome_per_item(trader_client, account, quotes):
    body = {
        "account": account.pk,
        "orders": [
            {"symbol": "EURUSD", "side": "buy", "quantity": "0.10", "client_order_id": "b-1"},
            {"symbol": "EURUSD", "side": "up", "quantity": "many"},
            {"symbol": "NOPE", "side": "buy", "quantity": "0.10"},
            {"symbol": "eurusd", "side": "sell", "quantity": "0.10", "type": "limit"},
            {"symbol": "EURUSD", "side": "buy", "quantity": "0.30", "client_order_id": "b-1"},
        ],
    }
    response = trader_client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 400, 400, 200]
    placed = results[0]["order"]
    assert placed["client_order_id"] == "b-1" and placed["status"] == "new"
    assert placed["quantity"] == "0.10" and placed["symbol"] == "EURUSD"
    assert results[4]["order"]["id"] == placed["id"]
    assert results[1]["error"]["code"] == "validation_error"
    assert set(results[1]["error"]["fields"]) == {"side", "quantity"}
    assert results[2]["error"]["code"] == "unknown_symbol"
    assert results[3]["error"]["fields"] == {"price": ["Required for limit orders."]}

    again = trader_client.post(URL, {**body, "orders": body["orders"][:1]}, format="json")
    assert again.status_code == 200
    assert again.json()["results"][0]["order"]["id"] == placed["id"]


@pytest.mark.django_db
def test_the_api_refuses_a_batch_that_places_nothing(trader_client, account):
    bad = {"symbol": "EURUSD", "side": "buy", "quantity": "0"}
    response = trader_client.post(URL, {"account": account.pk, "orders": [bad]}, format="json")
    assert response.status_code == 400
    assert response.json()["results"][0]["error"]["fields"] == {"quantity": ["Must be positive."]}
    empty = trader_client.post(URL, {"account": account.pk, "orders": []}, format="json")
    assert empty.status_code == 400 and "orders" in empty.json()["error"]["fields"]
    many = trader_client.post(
        URL, {"account": account.pk, "orders": [bad] * (services.BATCH_MAX + 1)}, format="json"
    )
    assert many.status_code == 400 and "orders" in many.json()["error"]["fields"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_only_the_owner_places_a_batch_on_an_account(api_client, account, viewer, operator):
    from conftest import jwt_for

    body = {"account": account.pk, "orders": [{"symbol": "EURUSD", "side": "buy", "quantity": "1"}]}
    assert api_client.post(URL, body, format="json").status_code == 401
    other = UserFactory(username="trader2", roles=["trader"])
    for user, status in ((other, 404), (viewer, 403), (operator, 400)):
        api_client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {jwt_for(api_client, user.username)['access']}"
        )
        response = api_client.post(URL, body, format="json")
        assert response.status_code == status, (user.username, response.content)
    assert not Order.objects.exists()


def test_the_schema_documents_the_batch(tmp_path):
    import yaml
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    operation = schema["paths"]["/api/v1/trading/orders/batch/"]["post"]
    assert set(operation["responses"]) >= {"200", "201"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/OrderBatchRequest")
    assert set(schema["components"]["schemas"]["OrderBatchRequest"]["properties"]) == {
        "account",
        "orders",
    }

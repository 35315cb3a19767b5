"""``fxsite.db``: many rows' fields in one ``UPDATE ... FROM unnest(...)``; new rows with one ``COPY``."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.trading import services
from apps.trading.models import LedgerEntry, OrderEvent, TradingAccount
from fxsite.db import COPY_MIN_ROWS, insert_rows, update_rows

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_one_statement(trader):
    accounts = [
        services.account_open(owner=trader, name=f"A{i}", deposit=D("100")) for i in range(3)
    ]
    untouched = services.account_open(owner=trader, name="Other", deposit=D("7"))
    before = {a.pk: a.updated_at for a in accounts}
    for i, account in enumerate(accounts):
        account.balance = D("0.12345678") * (i + 1)
        account.leverage = D("50")
        account.broker_config = {"note": "ignored: not among the fields"}
    accounts[1].name = "not written either"
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(accounts, ["balance", "leverage", "updated_at"]) == 3
    assert len(queries) == 1 and "FROM unnest(" in queries[0]["sql"]
    rows = {a.pk: a for a in TradingAccount.objects.filter(pk__in=before)}
    assert [rows[a.pk].balance for a in accounts] == [
        D("0.12345678"),
        D("0.24691356"),
        D("0.37037034"),
    ]
    assert {rows[a.pk].leverage for a in accounts} == {D("50")}
    assert all(rows[pk].updated_at > before[pk] for pk in before)  # auto_now, as save() does
    assert rows[accounts[1].pk].name == "A1" and rows[accounts[0].pk].broker_config == {}
    untouched_row = TradingAccount.objects.get(pk=untouched.pk)
    assert untouched_row.balance == D("7")


def _market_order(trader, account_name: str):
    from apps.marketdata.models import Instrument

    account = services.account_open(owner=trader, name=account_name, deposit=D("1"))
    order, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=D("1"),
    )
    return order


def test_nulls_and_nothing_to_do(trader):
    from django.utils import timezone

    order = _market_order(trader, "A")
    assert update_rows([], ["balance"]) == 0
    order.accepted_at = timezone.now()
    assert update_rows([order], ["accepted_at"]) == 1
    order.refresh_from_db()
    assert order.accepted_at is not None
    order.accepted_at = None
    assert update_rows([order], ["accepted_at"]) == 1
    order.refresh_from_db()
    assert order.accepted_at is None


def test_update_writes_json(trader):
    accounts = [services.account_open(owner=trader, name=f"J{i}", deposit=D("1")) for i in range(2)]
    accounts[0].broker_config = {"login": 7, "nested": {"price": "1.10"}}
    accounts[1].broker_config = []
    assert update_rows(accounts, ["broker_config"]) == 2
    rows = {
        a.pk: a.broker_config
        for a in TradingAccount.objects.filter(pk__in=[a.pk for a in accounts])
    }
    assert rows == {accounts[0].pk: {"login": 7, "nested": {"price": "1.10"}}, accounts[1].pk: []}


def _events(order, n):
    return [
        OrderEvent(
            order=order,
            event="note",
            actor="system",
            correlation_id="" if i else "req-1",
            data={"i": i, "text": 'tab\there "quoted" \\ back\nslash'},
        )
        for i in range(n)
    ]


def test_insert_sets_keys_defaults_and_writes_every_value(trader):
    order = _market_order(trader, "I")
    events = _events(order, COPY_MIN_ROWS)
    with CaptureQueriesContext(connection) as queries:
        insert_rows(events)
    assert len(queries) == 2 and queries[1]["sql"].startswith('COPY "trading_orderevent"')
    assert all(e.pk is not None and not e._state.adding for e in events)
    assert len({e.pk for e in events}) == COPY_MIN_ROWS
    stored = {e.pk: e for e in OrderEvent.objects.filter(pk__in=[e.pk for e in events])}
    for event in events:
        row = stored[event.pk]
        assert row.time == event.time is not None  # auto_now_add, as bulk_create sets it
        assert (row.event, row.actor, row.data, row.correlation_id) == (
            event.event,
            event.actor,
            event.data,
            event.correlation_id,
        )
    # Keys come from the table's sequence: an ordinary insert follows them.
    later = OrderEvent.objects.create(order=order, event="note", actor="system")
    assert later.pk > max(e.pk for e in events)


def test_a_few_rows_are_inserted_in_one_statement(trader):
    account = services.account_open(owner=trader, name="F", deposit=D("1"))
    entries = [
        LedgerEntry(account=account, kind="deposit", amount=D(i), balance_after=D(i))
        for i in range(COPY_MIN_ROWS - 1)
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_rows(entries)
    assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "trading_ledgerentry"')
    rows = LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("pk")
    assert [r.amount for r in rows] == [D(i) for i in range(COPY_MIN_ROWS - 1)]


def test_insert_takes_keys_of_related_rows_saved_since_and_refuses_unsaved_ones(trader):
    from apps.marketdata.models import Instrument
    from apps.trading.models import Position

    account = services.account_open(owner=trader, name="R", deposit=D("1"))
    eurusd = Instrument.objects.get(symbol="EURUSD")
    positions = [
        Position(account=account, instrument=eurusd, netting=False, quantity=D("-0.5") * i)
        for i in range(COPY_MIN_ROWS)
    ]
    ledger = [
        LedgerEntry(
            account=account,
            kind="commission",
            amount=D("-1.5"),
            balance_after=D(i),
            position=position,
        )
        for i, position in enumerate(positions)
    ]
    with pytest.raises(ValueError, match="unsaved related object 'position'"):
        insert_rows(ledger)
    insert_rows(positions)
    assert all(p.pk and p.opened_at and p.ticket for p in positions)
    insert_rows(ledger)
    rows = LedgerEntry.objects.filter(pk__in=[e.pk for e in ledger]).order_by("balance_after")
    assert [(r.position_id, r.amount, r.fill_id) for r in rows] == [
        (p.pk, D("-1.5"), None) for p in positions
    ]
    stored = Position.objects.filter(pk__in=[p.pk for p in positions]).order_by("pk")
    assert [p.quantity for p in stored] == [p.quantity for p in positions]
    with pytest.raises(ValueError, match="new rows only"):
        insert_rows(positions)
    insert_rows([])


def test_insert_prepares_values_of_another_type_as_the_field_would(trader):
    from django.core.exceptions import ValidationError

    account = services.account_open(owner=trader, name="P", deposit=D("1"))
    entries = [
        LedgerEntry(account=account, kind="deposit", amount="2.50", balance_after=i)
        for i in range(COPY_MIN_ROWS)
    ]
    insert_rows(entries)
    rows = LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("pk")
    assert [(r.amount, r.balance_after) for r in rows] == [
        (D("2.5"), D(i)) for i in range(COPY_MIN_ROWS)
    ]
    bad = [
        LedgerEntry(account=account, kind="deposit", amount=D("NaN"), balance_after=D("1"))
        for _ in range(COPY_MIN_ROWS)
    ]
    with pytest.raises(ValidationError):
        insert_rows(bad)

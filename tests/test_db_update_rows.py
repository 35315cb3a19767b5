"""``fxsite.db.update_rows``: many rows' fields in one ``UPDATE ... FROM (VALUES ...)``."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.trading import services
from apps.trading.models import TradingAccount
from fxsite.db import update_rows

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
    assert len(queries) == 1 and "FROM (VALUES" in queries[0]["sql"]
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


def test_nulls_and_nothing_to_do(trader):
    from django.utils import timezone

    from apps.marketdata.models import Instrument

    account = services.account_open(owner=trader, name="A", deposit=D("1"))
    order, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=D("1"),
    )
    assert update_rows([], ["balance"]) == 0
    order.accepted_at = timezone.now()
    assert update_rows([order], ["accepted_at"]) == 1
    order.refresh_from_db()
    assert order.accepted_at is not None
    order.accepted_at = None
    assert update_rows([order], ["accepted_at"]) == 1
    order.refresh_from_db()
    assert order.accepted_at is None

"""Reads: the trade date of an instant, the snapshot the pre-trade check reads."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from apps.marketdata import calendar
from apps.risk import selectors
from apps.risk.tests.conftest import hold, limits, working
from apps.trading import services as trading
from apps.trading.models import LedgerEntry, Order


def test_trade_date_rolls_at_17_new_york_like_the_calendar():
    start = datetime(2024, 3, 8, tzinfo=UTC)  # across the March DST change
    for minutes in range(0, 60 * 24 * 5, 17):
        moment = start + timedelta(minutes=minutes)
        expected = calendar.trade_dates(np.array([calendar.datetime_to_us(moment)]))[0]
        assert selectors.trade_date(moment) == expected.astype(object)
    assert str(selectors.trade_date(datetime(2024, 7, 10, 20, 59, 59, tzinfo=UTC))) == "2024-07-10"
    assert str(selectors.trade_date(datetime(2024, 7, 10, 21, 0, tzinfo=UTC))) == "2024-07-11"


@pytest.mark.django_db
def test_snapshot_reads_everything_at_once(account, django_assert_num_queries):
    limits(account, max_orders_per_minute=5, max_order_lots=D("7"))
    hold(account, "EURUSD", "1.00")
    hold(account, "USDJPY", "-0.50")
    working(account, "EURUSD", "buy", "0.30")
    working(account, "EURUSD", "sell", "0.20", price="2.00000")
    from apps.risk import services

    services.account_monitor(account.pk)
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.DEPOSIT, amount=D("250.50"))
    with django_assert_num_queries(1):
        snap = selectors.snapshot(account)
    assert snap.risk.max_order_lots == D("7") and snap.risk.peak_equity == D("100000")
    assert snap.platform.stop_out_level == 50
    assert [(p.spec.symbol, p.lots) for p in snap.book.positions] == [
        ("EURUSD", D("1")),
        ("USDJPY", D("-0.5")),
    ]
    assert snap.book.working_buys == {"EURUSD": D("0.30")}
    assert snap.book.working_sells == {"EURUSD": D("0.20")}
    assert snap.book.working_count == 2
    assert snap.recent_orders == 4  # two fills' orders and two working, all this minute
    assert snap.flows == D("250.50")
    assert "EURUSD" in snap.symbols
    Order.objects.filter(account=account).update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert selectors.snapshot(account).recent_orders == 0

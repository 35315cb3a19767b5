"""What executing a paper market order costs the database.

The execution task is the hot path of the order round trip; these numbers are
pinned so that a change adding queries to it is seen (and the bench's
"queries per order" figure stays true). Raise them only knowingly.
"""

from decimal import Decimal as D

import pytest

from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.models import LedgerEntry, Order, OrderEvent, Position
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db

# BEGIN, order (locked), account (locked), open position (locked), position
# insert, fill, order update (accepted and filled in one) and its two events,
# then the account summary pushed on /ws/trading/ (open positions, and the
# symbols it may convert through), COMMIT
OPENING = 11
# ... the position updated instead of inserted, plus its ledger entry, the
# balance and the look-up of orders protecting the closed position; no
# symbols to read for the summary (no open position left).
CLOSING = 13


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


@pytest.fixture
def eurusd():
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": "1.10000",
            "ask": "1.10010",
            "time": "t",
            "ts": 1_704_189_600_000,
            "source": "t",
            "simulated": True,
        }
    )
    return Instrument.objects.get(symbol="EURUSD")


def place(account, eurusd, side):
    order, _ = services.order_place(
        account=account, instrument=eurusd, side=side, type="market", quantity=D("1")
    )
    return order


def test_a_paper_market_order_executes_in_a_fixed_number_of_queries(
    account, eurusd, django_assert_max_num_queries
):
    buy = place(account, eurusd, "buy")
    with django_assert_max_num_queries(OPENING):
        assert execute_order(buy.pk) == Order.Status.FILLED
    with django_assert_max_num_queries(3):  # delivered again: read under lock, nothing to do
        assert execute_order(buy.pk) == Order.Status.FILLED

    sell = place(account, eurusd, "sell")
    with django_assert_max_num_queries(CLOSING):
        assert execute_order(sell.pk) == Order.Status.FILLED

    # Same bookings as ever: every transition audited, P&L ledgered, flat.
    assert list(
        OrderEvent.objects.filter(order=sell).order_by("id").values_list("event", flat=True)
    ) == ["submitted", "accepted", "fill"]
    position = Position.objects.get(account=account)
    assert position.quantity == 0 and position.closed_at is not None
    assert position.realized_pnl == D("-10.00000000")  # bought at the ask, sold at the bid
    entry = LedgerEntry.objects.filter(account=account).latest("id")
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.REALIZED_PNL, D("-10.00000000"))
    account.refresh_from_db()
    assert account.balance == entry.balance_after == D("99990.00000000")

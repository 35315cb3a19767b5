from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.accounting import Quote
from apps.trading.models import LedgerEntry, Position, SwapCharge

pytestmark = pytest.mark.django_db

QUOTES = {"EURUSD": Quote(D("1.10000"), D("1.10010")), "USDJPY": Quote(D("150.000"), D("150.020"))}


@pytest.fixture
def position(trader):
    account = services.account_open(owner=trader, name="Paper", deposit=D("100000"))
    order, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="market",
        quantity=D("2"),
    )
    services.order_transition(order=order, to_status="accepted", actor="test")
    services.fill_apply(
        order=order,
        quantity=D("2"),
        price=D("1.1"),
        time=datetime(2024, 1, 8, tzinfo=UTC),
        broker_deal_id="d1",
        quotes=QUOTES,
    )
    position = Position.objects.get(account=account)
    Position.objects.filter(pk=position.pk).update(opened_at=datetime(2024, 1, 8, tzinfo=UTC))
    return position


def test_rollover_charges_once_and_triples_on_wednesday(position):
    tuesday, wednesday = date(2024, 1, 9), date(2024, 1, 10)
    assert services.swaps_charge(rollover_date=tuesday, quotes=QUOTES) == 1
    assert services.swaps_charge(rollover_date=tuesday, quotes=QUOTES) == 0  # once only
    assert services.swaps_charge(rollover_date=wednesday, quotes=QUOTES) == 1
    position.refresh_from_db()
    # EURUSD long swap −6.5 points: 2 lots × 100,000 × 0.00001 × −6.5 = −13 USD a night; Wednesday ×3
    assert position.swap == D("-13") + D("-39")
    assert list(SwapCharge.objects.order_by("rollover_date").values_list("nights", flat=True)) == [
        1,
        3,
    ]
    position.account.refresh_from_db()
    assert position.account.balance == D("100000") - D("52")
    assert LedgerEntry.objects.filter(kind="swap").count() == 2


def test_latest_rollover_date():
    assert services.latest_rollover_date(datetime(2024, 1, 9, 21, 59, tzinfo=UTC)) == date(
        2024, 1, 8
    )  # 16:59 NY
    assert services.latest_rollover_date(datetime(2024, 1, 9, 22, 0, tzinfo=UTC)) == date(
        2024, 1, 9
    )  # 17:00 NY
    assert services.latest_rollover_date(datetime(2024, 1, 14, 12, 0, tzinfo=UTC)) == date(
        2024, 1, 12
    )  # Sunday → Friday

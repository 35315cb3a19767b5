"""Booking fills: positions, realised P&L, commission and balance, exactly."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.accounting import Quote
from apps.trading.models import Fill, LedgerEntry, Order, Position

pytestmark = pytest.mark.django_db

QUOTES = {
    "EURUSD": Quote(D("1.10000"), D("1.10010")),
    "USDJPY": Quote(D("150.000"), D("150.020")),
    "EURJPY": Quote(D("165.000"), D("165.030")),
}
T = datetime(2024, 1, 9, 12, tzinfo=UTC)


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


def order(account, symbol="EURUSD", side="buy", quantity="1", **kw) -> Order:
    placed, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol=symbol),
        side=side,
        type="market",
        quantity=D(quantity),
        **kw,
    )
    services.order_transition(order=placed, to_status="accepted", actor="broker:paper")
    return placed


def fill(o, price, quantity=None, deal=None, **kw):
    return services.fill_apply(
        order=o,
        quantity=D(quantity) if quantity else o.quantity - o.filled_quantity,
        price=D(price),
        time=T,
        broker_deal_id=deal or f"d-{o.pk}-{o.filled_quantity}",
        quotes=QUOTES,
        **kw,
    )


def test_round_trip_on_eurusd_books_100_usd(account):
    fill(order(account), "1.10010")
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == D("1") and position.average_price == D("1.10010")
    fill(order(account, side="sell"), "1.10110")
    account.refresh_from_db()
    assert account.balance == D("100100.00000000")
    position.refresh_from_db()
    assert position.quantity == 0 and position.closed_at == T and position.realized_pnl == D("100")
    assert list(
        LedgerEntry.objects.filter(account=account, kind="realized_pnl").values_list(
            "amount", flat=True
        )
    ) == [D("100")]


def test_jpy_profit_is_converted_at_usdjpy_and_commission_is_charged(account):
    account.commission_per_lot = D("3.50")
    account.save()
    fill(order(account, symbol="USDJPY", quantity="2"), "150.000")
    fill(order(account, symbol="USDJPY", side="sell", quantity="2"), "150.500")
    account.refresh_from_db()
    # 2 × 100,000 × 0.5 = 100,000 JPY / 150.010 = 666.62222518 USD; commission 2 × 3.50 × 2 fills
    assert account.balance == D("100000") + D("666.62222518") - D("14.00")
    kinds = sorted(LedgerEntry.objects.filter(account=account).values_list("kind", flat=True))
    assert kinds == ["commission", "commission", "deposit", "realized_pnl"]


def test_partial_fills_and_a_duplicate_deal(account):
    o = order(account, quantity="3")
    first = fill(o, "1.10000", quantity="1", deal="deal-1")
    o.refresh_from_db()
    assert o.status == "partially_filled" and o.filled_quantity == D("1")
    assert fill(o, "1.10000", quantity="1", deal="deal-1").pk == first.pk  # delivered twice
    fill(o, "1.10030", quantity="2", deal="deal-2")
    o.refresh_from_db()
    assert o.status == "filled" and o.average_fill_price == D("1.10020")
    assert Fill.objects.filter(order=o).count() == 2
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == D("3") and position.average_price == D("1.10020")
    with pytest.raises(services.FillError):
        fill(o, "1.1", quantity="1", deal="deal-3")


def test_hedging_account_keeps_a_position_per_ticket(trader):
    hedging = services.account_open(owner=trader, name="Hedge", deposit=D("1000"), mode="hedging")
    fill(order(hedging), "1.10000")
    fill(order(hedging, side="sell"), "1.10000")
    positions = Position.objects.filter(account=hedging, closed_at__isnull=True).order_by("id")
    assert [p.quantity for p in positions] == [D("1"), D("-1")]


def test_positions_equal_the_sum_of_fills(account):
    for side, qty, price in [
        ("buy", "1", "1.1"),
        ("buy", "2", "1.2"),
        ("sell", "1.5", "1.3"),
        ("sell", "2", "1.0"),
    ]:
        fill(order(account, side=side, quantity=qty), price)
    net = sum(
        f.quantity if f.side == "buy" else -f.quantity for f in Fill.objects.filter(account=account)
    )
    open_positions = Position.objects.filter(account=account, closed_at__isnull=True)
    assert sum(p.quantity for p in open_positions) == net == D("-0.5")

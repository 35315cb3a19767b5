"""The paper broker: market fills at submission, resting orders from stored ticks."""

from decimal import Decimal as D

import numpy as np
import pytest

from apps.marketdata import live
from apps.marketdata.batches import TickBatch
from apps.marketdata.models import DataSource, Instrument
from apps.marketdata.services.ingest import ticks_ingest
from apps.trading import services
from apps.trading.brokers import paper
from apps.trading.models import Fill, Position
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db

T0 = 1_704_189_600_000_000  # 2024-01-02 10:00 UTC


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


@pytest.fixture
def eurusd():
    return Instrument.objects.get(symbol="EURUSD")


def quote(bid, ask, ts=T0 // 1000):
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": bid,
            "ask": ask,
            "time": "t",
            "ts": ts,
            "source": "t",
            "simulated": True,
        }
    )


def stored_ticks(eurusd, bids, start=None):
    """Ticks after the orders were placed, from the (always open) synthetic source."""
    import time

    start = start or time.time_ns() // 1000 + 1_000_000
    source = DataSource.objects.get(name="synthetic")
    bids = np.array(bids, dtype=float)
    batch = TickBatch(
        time_us=start + np.arange(len(bids), dtype=np.int64) * 1_000_000,
        bid=bids,
        ask=bids + 0.0001,
    )
    ticks_ingest(instrument=eurusd, source=source, batch=batch, publish=False, now=start + 10**10)
    return source, int(batch.time_us[0]), int(batch.time_us[-1])


def place(account, eurusd, **kw):
    order, _ = services.order_place(account=account, instrument=eurusd, quantity=D("1"), **kw)
    assert execute_order(order.pk) in (
        "accepted",
        "filled",
        "partially_filled",
        "cancelled",
        "rejected",
    )
    assert (
        execute_order(order.pk) == order.__class__.objects.get(pk=order.pk).status
    )  # twice: no-op
    order.refresh_from_db()
    return order


def test_market_order_fills_at_the_ask_once(account, eurusd):
    quote("1.10000", "1.10010")
    order = place(account, eurusd, side="buy", type="market")
    assert order.status == "filled" and order.average_fill_price == D("1.10010")
    assert Fill.objects.filter(order=order).count() == 1


def test_market_order_without_a_quote_waits_and_ioc_is_cancelled(account, eurusd):
    order = place(account, eurusd, side="buy", type="market", time_in_force="IOC")
    assert order.status == "cancelled"


def test_resting_limit_and_stop_fill_from_stored_ticks(account, eurusd):
    quote("1.10000", "1.10010")
    limit = place(account, eurusd, side="buy", type="limit", price=D("1.09950"))
    stop = place(
        account, eurusd, side="sell", type="stop", stop_price=D("1.09900"), client_order_id="s1"
    )
    assert limit.status == "accepted" and stop.status == "accepted"
    assert paper.has_working(eurusd.pk)
    source, first, last = stored_ticks(eurusd, [1.09990, 1.09940, 1.09890, 1.09950])
    assert (
        paper.match_ticks(
            instrument_id=eurusd.pk, source_id=source.pk, first_us=first, last_us=last
        )
        == 2
    )
    limit.refresh_from_db()
    stop.refresh_from_db()
    # The limit rested, then the ask 1.09950 reached it: filled at its own price.
    assert limit.status == "filled" and limit.average_fill_price == D("1.09950")
    # The stop triggered when the bid fell to 1.09890 and sold at that bid.
    assert stop.status == "filled" and stop.average_fill_price == D("1.09890")
    position = Position.objects.get(account=account, closed_at__isnull=False)
    assert position.realized_pnl == D("-60.00000000")  # 100,000 × (1.09890 − 1.09950)
    assert (
        paper.match_ticks(
            instrument_id=eurusd.pk, source_id=source.pk, first_us=first, last_us=last
        )
        == 0
    )
    assert not paper.has_working(eurusd.pk)


def test_gtd_order_expires_on_the_first_tick_after_its_time(account, eurusd):
    from datetime import UTC, datetime, timedelta

    quote("1.10000", "1.10010")
    future = datetime.now(UTC) + timedelta(days=1)
    order = place(
        account,
        eurusd,
        side="buy",
        type="limit",
        price=D("1.09000"),
        time_in_force="GTD",
        expire_at=future,
    )
    source, first, last = stored_ticks(
        eurusd, [1.10000, 1.10001], start=int(future.timestamp() * 1e6) + 1
    )
    paper.match_ticks(instrument_id=eurusd.pk, source_id=source.pk, first_us=first, last_us=last)
    order.refresh_from_db()
    assert order.status == "expired"


def test_bracket_places_an_oco_pair_and_the_take_profit_cancels_the_stop(account, eurusd):
    from apps.trading.models import Order

    quote("1.10000", "1.10010")
    entry = place(
        account, eurusd, side="buy", type="market", stop_loss=D("1.09500"), take_profit=D("1.10500")
    )
    assert entry.status == "filled"
    legs = {o.role: o for o in Order.objects.filter(parent=entry)}
    assert set(legs) == {"stop_loss", "take_profit"}
    assert legs["stop_loss"].oco_group == legs["take_profit"].oco_group is not None
    for leg in legs.values():
        execute_order(leg.pk)
    source, first, last = stored_ticks(eurusd, [1.10200, 1.10510])
    paper.match_ticks(instrument_id=eurusd.pk, source_id=source.pk, first_us=first, last_us=last)
    for leg in legs.values():
        leg.refresh_from_db()
    assert legs["take_profit"].status == "filled" and legs["take_profit"].average_fill_price == D(
        "1.10500"
    )
    assert legs["stop_loss"].status == "cancelled"
    account.refresh_from_db()
    assert account.balance == D("100000") + D("490")  # 100,000 × (1.10500 − 1.10010)


def test_closing_a_position_cancels_its_protection(account, eurusd):
    from apps.trading.models import Order

    quote("1.10000", "1.10010")
    entry = place(account, eurusd, side="buy", type="market", stop_loss=D("1.09500"))
    stop = Order.objects.get(parent=entry)
    execute_order(stop.pk)
    close = services.position_close(
        position=Position.objects.get(account=account, closed_at__isnull=True)
    )
    execute_order(close.pk)
    stop.refresh_from_db()
    assert stop.status == "cancelled"
    assert stop.events.last().data == {"reason": "position closed"}


def test_trailing_stop_follows_the_market_and_exits(account, eurusd):
    from apps.trading.models import Order

    quote("1.10000", "1.10010")
    entry = place(account, eurusd, side="buy", type="market", trailing_stop=D("0.00100"))
    trail = Order.objects.get(parent=entry)
    assert trail.stop_price == D("1.09910")  # fill 1.10010 − 0.00100
    execute_order(trail.pk)
    source, first, last = stored_ticks(eurusd, [1.10300, 1.10500, 1.10450, 1.10390])
    paper.match_ticks(instrument_id=eurusd.pk, source_id=source.pk, first_us=first, last_us=last)
    trail.refresh_from_db()
    # It trailed up to 1.10500 − 0.00100 = 1.10400, then the bid 1.10390 hit it.
    assert trail.status == "filled" and trail.average_fill_price == D("1.10390")

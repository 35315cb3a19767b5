"""Risk test helpers: live quotes, accounts holding positions booked through
the trading services, limits set through the risk service."""

import itertools
import time
import uuid
from decimal import Decimal as D

import pytest
from django.utils import timezone

from apps.marketdata import live
from apps.marketdata.models import Instrument
from apps.risk import services as risk
from apps.trading import services as trading
from apps.trading.models import Order, TradingAccount
from apps.trading.selectors import live_quotes

_ts = itertools.count(time.time_ns() // 1_000_000)

# Consistent crosses: EURGBP = EURUSD / GBPUSD, EURJPY = EURUSD * USDJPY.
PRICES = {
    "EURUSD": "1.25000",
    "GBPUSD": "1.56250",
    "EURGBP": "0.80000",
    "USDJPY": "100.000",
    "EURJPY": "125.000",
}


def set_quotes(**prices) -> None:
    """Store live quotes; a price is ``"1.25"`` (bid = ask) or ``(bid, ask)``."""
    for symbol, price in prices.items():
        bid, ask = price if isinstance(price, tuple) else (price, price)
        live.quote_store(
            {
                "symbol": symbol,
                "bid": bid,
                "ask": ask,
                "time": "t",
                "ts": next(_ts),
                "source": "test",
                "simulated": True,
            }
        )


def instrument(symbol: str) -> Instrument:
    return Instrument.objects.get(symbol=symbol)


def hold(account, symbol: str, lots: str, price: str | None = None):
    """Book a position change of ``lots`` (signed) at ``price`` through the
    trading services: a market order, accepted, then filled."""
    lots = D(lots)
    order, _ = trading.order_place(
        account=account,
        instrument=instrument(symbol),
        side="buy" if lots > 0 else "sell",
        type="market",
        quantity=abs(lots),
    )
    trading.order_transition(order=order, to_status=Order.Status.ACCEPTED, actor="test")
    trading.fill_apply(
        order=order,
        quantity=abs(lots),
        price=D(price or PRICES[symbol]),
        time=timezone.now(),
        broker_deal_id=uuid.uuid4().hex,
        quotes=live_quotes(),
    )
    return order


def working(account, symbol: str, side: str, lots: str, price: str = "0.50000", **kw):
    """A working (not yet sent) limit order."""
    order, _ = trading.order_place(
        account=account,
        instrument=instrument(symbol),
        side=side,
        type="limit",
        quantity=D(lots),
        price=D(price),
        **kw,
    )
    return order


def check(account, symbol: str, side: str, lots: str, **kw) -> None:
    """The check as the trading service calls it: on the account's current row."""
    risk.pre_trade_check(
        account=TradingAccount.objects.get(pk=account.pk),
        instrument=instrument(symbol),
        side=side,
        quantity=D(lots),
        order_type=kw.pop("order_type", "market"),
        **kw,
    )


def limits(account=None, **changes) -> None:
    risk.limits_update(account=account, changes=changes, actor="test")


@pytest.fixture
def quotes():
    set_quotes(**PRICES)
    return PRICES


@pytest.fixture
def account(trader, quotes):
    return trading.account_open(owner=trader, name="Risky", deposit=D("100000"), leverage=D("100"))

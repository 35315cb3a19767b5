"""The pre-trade check: every limit refuses at its boundary and passes just
inside it, with its code and a message naming the limit, the value and the
order's effect."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.marketdata.models import Instrument
from apps.risk import services as risk
from apps.risk.errors import RiskRejected
from apps.risk.models import TradingState
from apps.risk.tests.conftest import check, hold, limits, set_quotes, working
from apps.trading import services as trading
from apps.trading.models import LedgerEntry, Order

pytestmark = pytest.mark.django_db


def rejected(account, symbol, side, lots, **kw) -> RiskRejected:
    with pytest.raises(RiskRejected) as caught:
        check(account, symbol, side, lots, **kw)
    return caught.value


def test_no_limits_nothing_refused(account):
    check(account, "EURUSD", "buy", "50")


def test_max_order_size(account):
    limits(account, max_order_lots=D("1.00"))
    check(account, "EURUSD", "buy", "1.00")
    error = rejected(account, "EURUSD", "sell", "1.01")
    assert error.code == "RISK_MAX_ORDER_SIZE"
    assert "1.00 lots" in error.message and "1.01 EURUSD" in error.message
    assert error.extra == {"limit": "max_order_lots", "limit_value": "1.00", "value": "1.01"}


def test_platform_default_applies_until_the_account_overrides_it(account):
    limits(None, max_order_lots=D("2.00"))
    check(account, "EURUSD", "buy", "2.00")
    assert rejected(account, "EURUSD", "buy", "2.01").code == "RISK_MAX_ORDER_SIZE"
    limits(account, max_order_lots=D("3.00"))
    check(account, "EURUSD", "buy", "3.00")
    limits(account, max_order_lots=None)  # back to the default
    assert rejected(account, "EURUSD", "buy", "2.01").code == "RISK_MAX_ORDER_SIZE"


def test_max_position_counts_the_position_and_working_orders(account):
    limits(account, max_position_lots=D("2.00"))
    hold(account, "EURUSD", "1.50")
    working(account, "EURUSD", "buy", "0.30")
    check(account, "EURUSD", "buy", "0.20")  # 1.50 + 0.30 + 0.20 = 2.00
    error = rejected(account, "EURUSD", "buy", "0.21")
    assert error.code == "RISK_MAX_POSITION"
    assert "+2.01 lots (now +1.50, working orders +0.30)" in error.message
    # Selling: the working buy does not count against a short.
    check(account, "EURUSD", "sell", "3.50")  # 1.50 - 3.50 = -2.00
    assert rejected(account, "EURUSD", "sell", "3.51").code == "RISK_MAX_POSITION"


def test_a_working_order_counts_so_two_orders_cannot_together_breach(account):
    """What the caller's account lock makes safe: the first order is in the
    table (working) when the second is checked."""
    limits(account, max_position_lots=D("1.00"))
    check(account, "EURUSD", "buy", "0.60")
    working(account, "EURUSD", "buy", "0.60")
    assert rejected(account, "EURUSD", "buy", "0.60").code == "RISK_MAX_POSITION"
    check(account, "EURUSD", "buy", "0.40")


def test_net_exposure_per_currency_in_account_currency(account):
    # EURUSD 1.25: 1 lot long is EUR +125,000 USD and USD -125,000 USD.
    limits(account, max_net_exposure=D("250000"))
    hold(account, "EURUSD", "1.00")
    check(account, "EURUSD", "buy", "1.00")  # EUR +250,000: at the limit
    error = rejected(account, "EURUSD", "buy", "1.01")
    assert error.code == "RISK_EXPOSURE"
    assert "net EUR exposure from +125,000.00 to +251,250.00 USD" in error.message
    assert error.extra["currency"] == "EUR"


def test_exposure_nets_across_pairs(account):
    """Long EURUSD and short EURGBP: EUR nets out, USD short, GBP long."""
    limits(account, max_net_exposure=D("200000"))
    hold(account, "EURUSD", "1.00")
    hold(account, "EURGBP", "-1.00")  # EUR -125,000 USD, GBP +125,000 USD
    # Another lot of EURUSD: EUR +125,000 (would be 250,000 without the
    # EURGBP short); USD goes to -250,000 and is refused.
    error = rejected(account, "EURUSD", "buy", "1.00")
    assert (error.code, error.extra["currency"]) == ("RISK_EXPOSURE", "USD")
    # Buying GBPUSD adds to the GBP long (and the USD short).
    check(account, "GBPUSD", "buy", "0.40")  # GBP 125,000 + 62,500; USD -187,500
    assert rejected(account, "GBPUSD", "buy", "0.49").extra["currency"] == "GBP"
    # Selling GBPUSD brings both towards 0: GBP +25,000, USD -25,000.
    check(account, "GBPUSD", "sell", "0.64")


def test_net_exposure_already_over_only_refuses_orders_that_add_to_it(account):
    hold(account, "EURUSD", "2.00")
    limits(account, max_net_exposure=D("100000"))
    assert rejected(account, "EURUSD", "buy", "0.01").code == "RISK_EXPOSURE"
    check(account, "USDJPY", "buy", "0.50")  # USD back towards 0, JPY -50,000


def test_gross_exposure(account):
    limits(account, max_gross_exposure=D("300000"))
    hold(account, "EURUSD", "1.00")
    hold(account, "EURGBP", "-1.00")  # EUR gross 250,000 USD
    check(account, "EURUSD", "buy", "0.40")  # EUR gross 300,000
    error = rejected(account, "EURUSD", "buy", "0.41")
    assert error.code == "RISK_EXPOSURE" and error.extra["limit"] == "max_gross_exposure"
    assert "gross EUR exposure from 250,000.00 to 301,250.00 USD" in error.message


def test_max_leverage(account):
    limits(account, max_leverage=D("10"))
    check(account, "EURUSD", "buy", "8.00")  # 1,000,000 / 100,000 = 10
    error = rejected(account, "EURUSD", "buy", "8.01")
    assert error.code == "RISK_LEVERAGE"
    assert "leverage to 10.01" in error.message and "1,001,250.00 USD" in error.message


def test_min_margin_level(account):
    Instrument.objects.filter(symbol="EURUSD").update(margin_rate=D("0.01"))
    limits(account, min_margin_level=D("200"))
    # 1 lot: 100,000 EUR x 1% = 1,250 USD; 40 lots: 50,000 USD, level 200%.
    check(account, "EURUSD", "buy", "40.00")
    error = rejected(account, "EURUSD", "buy", "40.01")
    assert error.code == "RISK_MARGIN"
    assert "margin level to 199.95%" in error.message


def test_order_price_values_an_instrument_without_a_quote(account):
    from apps.marketdata import live

    live.client().delete(live.quote_key("EURJPY"))
    limits(account, max_leverage=D("10"))
    check(account, "EURJPY", "buy", "8.00", order_type="limit", price=D("125.000"))
    assert rejected(account, "EURJPY", "buy", "8.01", price=D("125.000")).code == ("RISK_LEVERAGE")
    error = rejected(account, "EURJPY", "buy", "1.00")  # no quote, no price
    assert error.code == "RISK_LEVERAGE" and "no quote for EURJPY" in error.message


def test_max_open_orders(account):
    limits(account, max_open_orders=3)
    working(account, "EURUSD", "buy", "0.10")
    working(account, "EURUSD", "sell", "0.10", price="2.00000")
    check(account, "EURUSD", "buy", "0.10")  # would be the 3rd
    working(account, "GBPUSD", "buy", "0.10")
    error = rejected(account, "EURUSD", "buy", "0.10")
    assert error.code == "RISK_OPEN_ORDERS"
    assert "has 3 working orders" in error.message
    Order.objects.filter(account=account).update(status=Order.Status.FILLED)
    check(account, "EURUSD", "buy", "0.10")


def test_max_orders_per_minute(account):
    limits(account, max_orders_per_minute=3)
    now = timezone.now()
    orders = [working(account, "EURUSD", "buy", "0.10") for _ in range(3)]
    Order.objects.filter(pk=orders[0].pk).update(created_at=now - timedelta(seconds=59.999))
    error = rejected(account, "EURUSD", "buy", "0.10", now=now)
    assert error.code == "RISK_ORDER_RATE"
    assert "placed 3 orders in the last minute" in error.message
    Order.objects.filter(pk=orders[0].pk).update(created_at=now - timedelta(seconds=60))
    check(account, "EURUSD", "buy", "0.10", now=now)


def test_allowed_instruments(account):
    limits(account, allowed_symbols=["eurusd", "GBPUSD"])
    check(account, "EURUSD", "buy", "1.00")
    error = rejected(account, "USDJPY", "buy", "1.00")
    assert error.code == "RISK_INSTRUMENT"
    assert "USDJPY is not among the instruments allowed" in error.message
    assert "EURUSD, GBPUSD" in error.message


def test_allowed_trading_hours(account):
    limits(
        account,
        hours_start=time(8, 0),
        hours_end=time(17, 0),
        hours_timezone="Europe/London",
    )
    london = ZoneInfo("Europe/London")
    check(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 10, 8, 0, tzinfo=london))
    check(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 10, 16, 59, 59, tzinfo=london))
    error = rejected(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 10, 17, 0, tzinfo=london))
    assert error.code == "RISK_HOURS"
    assert "from 08:00 to 17:00 Europe/London; it is 17:00 there" in error.message
    assert (
        rejected(
            account, "EURUSD", "buy", "1", now=datetime(2024, 7, 10, 6, 59, 59, tzinfo=UTC)
        ).code
        == "RISK_HOURS"
    )  # 07:59:59 in London (BST)


def test_trading_hours_across_midnight(account):
    limits(account, hours_start=time(22, 0), hours_end=time(6, 0))
    check(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 10, 23, 0, tzinfo=UTC))
    check(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 11, 5, 59, tzinfo=UTC))
    assert (
        rejected(account, "EURUSD", "buy", "1", now=datetime(2024, 7, 11, 6, 0, tzinfo=UTC)).code
        == "RISK_HOURS"
    )


def _ny(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("America/New_York"))


def test_daily_loss_and_its_reset_at_17_new_york(account):
    limits(account, max_daily_loss=D("500"))
    risk.account_monitor(account.pk, now=_ny(2024, 7, 10, 9, 0))  # day start 100,000
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-499.99"))
    check(account, "EURUSD", "buy", "1", now=_ny(2024, 7, 10, 16, 0))
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-0.01"))
    error = rejected(account, "EURUSD", "buy", "1", now=_ny(2024, 7, 10, 16, 59, 59))
    assert error.code == "RISK_DAILY_LOSS"
    assert "lost 500.00 USD since 17:00 New York" in error.message
    # A new trading day starts at 17:00 New York: the loss starts again from 0.
    check(account, "EURUSD", "buy", "1", now=_ny(2024, 7, 10, 17, 0))
    risk.account_monitor(account.pk, now=_ny(2024, 7, 10, 17, 0, 5))
    account.risk.refresh_from_db()
    assert account.risk.day_start_equity == D("99500")
    assert str(account.risk.trade_date) == "2024-07-11"
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-500"))
    assert rejected(account, "EURUSD", "buy", "1", now=_ny(2024, 7, 10, 18, 0)).code == (
        "RISK_DAILY_LOSS"
    )


def test_daily_loss_counts_open_positions_at_live_prices(account):
    limits(account, max_daily_loss=D("500"))
    risk.account_monitor(account.pk)
    hold(account, "EURUSD", "1.00", "1.25000")
    set_quotes(EURUSD="1.24501")  # -499 USD
    check(account, "EURUSD", "buy", "0.10")
    set_quotes(EURUSD="1.24500")  # -500 USD
    assert rejected(account, "EURUSD", "buy", "0.10").code == "RISK_DAILY_LOSS"


def test_deposits_and_withdrawals_are_not_profit_or_loss(account):
    limits(account, max_daily_loss=D("500"), max_drawdown_pct=D("5"))
    risk.account_monitor(account.pk)
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.WITHDRAWAL, amount=D("-20000"))
    check(account, "EURUSD", "buy", "1")  # before the monitor saw it too
    risk.account_monitor(account.pk)
    check(account, "EURUSD", "buy", "1")
    account.risk.refresh_from_db()
    assert account.risk.peak_equity == D("80000") and account.risk.day_start_equity == D("80000")


def test_drawdown_from_the_equity_peak(account):
    limits(account, max_drawdown_pct=D("10"))
    risk.account_monitor(account.pk)  # peak 100,000
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("20000"))
    risk.account_monitor(account.pk)  # peak 120,000
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-11999.99"))
    check(account, "EURUSD", "buy", "1")  # 108,000.01: 9.99999%
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-0.01"))
    error = rejected(account, "EURUSD", "buy", "1")  # 108,000: 10% below 120,000
    assert error.code == "RISK_DRAWDOWN"
    assert "10.00% below its peak of 120,000.00 USD" in error.message


def test_loss_limits_let_positions_be_reduced(account):
    limits(account, max_daily_loss=D("100"))
    risk.account_monitor(account.pk)
    hold(account, "EURUSD", "1.00")
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-100"))
    assert rejected(account, "EURUSD", "buy", "0.10").code == "RISK_DAILY_LOSS"
    check(account, "EURUSD", "sell", "1.00")  # reduces the long: accepted


def test_halted_account_refuses_everything_but_position_closes(account, operator):
    hold(account, "EURUSD", "1.00")
    risk.trading_state_set(
        state=TradingState.HALTED, account=account, actor=operator, reason="desk review"
    )
    error = rejected(account, "EURUSD", "sell", "0.50")
    assert error.code == "RISK_HALTED"
    assert "halted on account Risky (desk review)" in error.message
    check(account, "EURUSD", "sell", "1.00", reduces_position=True)


def test_halted_platform_refuses_with_its_reason(account, operator):
    risk.trading_state_set(state=TradingState.HALTED, actor=operator, reason="exchange outage")
    error = rejected(account, "EURUSD", "buy", "0.10")
    assert error.code == "RISK_HALTED"
    assert error.extra["scope"] == "platform" and "exchange outage" in error.message


def test_reducing_accepts_only_orders_that_reduce_a_position(account, operator):
    hold(account, "EURUSD", "1.00")
    risk.trading_state_set(
        state=TradingState.REDUCING, account=account, actor=operator, reason="over budget"
    )
    error = rejected(account, "EURUSD", "buy", "0.10")
    assert error.code == "RISK_REDUCING"
    assert "position from +1.00 to +1.10 lots" in error.message
    assert rejected(account, "GBPUSD", "buy", "0.10").code == "RISK_REDUCING"
    assert rejected(account, "EURUSD", "sell", "1.01").code == "RISK_REDUCING"  # flips
    check(account, "EURUSD", "sell", "1.00")
    working(account, "EURUSD", "sell", "0.60", price="2.00000")
    check(account, "EURUSD", "sell", "0.40")
    assert rejected(account, "EURUSD", "sell", "0.41").code == "RISK_REDUCING"
    # Reducing orders still obey the order-size limit.
    limits(account, max_order_lots=D("0.30"))
    assert rejected(account, "EURUSD", "sell", "0.40").code == "RISK_MAX_ORDER_SIZE"


def test_reducing_platform_state_applies_to_every_account(account, operator):
    risk.trading_state_set(state=TradingState.REDUCING, actor=operator, reason="month end")
    error = rejected(account, "EURUSD", "buy", "0.10")
    assert error.code == "RISK_REDUCING" and error.extra["scope"] == "platform"


def test_hedging_account_orders_open_tickets(trader, quotes):
    account = trading.account_open(
        owner=trader, name="Hedge", deposit=D("100000"), mode="hedging", leverage=D("100")
    )
    hold(account, "EURUSD", "1.00")
    risk.trading_state_set(
        state=TradingState.REDUCING, account=account, actor="test", reason="check"
    )
    # On a hedging account a sell opens a short ticket: it does not reduce.
    assert rejected(account, "EURUSD", "sell", "0.50").code == "RISK_REDUCING"
    check(account, "EURUSD", "sell", "1.00", reduces_position=True)

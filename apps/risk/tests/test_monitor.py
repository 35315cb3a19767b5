"""The account monitor: figures, peak and day start, breaches and their
actions, stop-out of paper accounts (largest loser first, one per call)."""

from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.risk import services as risk
from apps.risk.models import AccountRisk, RiskEvent, TradingState, TradingStateChange
from apps.risk.tests.conftest import hold, limits, set_quotes, working
from apps.trading import services as trading
from apps.trading.models import LedgerEntry, Order, Position
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db


def state_of(account) -> AccountRisk:
    return AccountRisk.objects.get(pk=account.pk)


def test_figures_peak_and_day_start(account):
    hold(account, "EURUSD", "1.00", "1.25000")
    hold(account, "EURGBP", "-1.00", "0.80000")
    set_quotes(EURUSD="1.26000")  # +1,000 on EURUSD; EUR→USD at 1.26 moves EURGBP too
    result = risk.account_monitor(account.pk)
    figures = result["figures"]
    assert figures["equity"] == "101000.00"
    assert figures["daily_pnl"] == "0.00"  # the first valuation starts the day
    assert figures["exposures"]["EUR"]["net"] == "0.00"
    assert figures["exposures"]["EUR"]["gross"] == "252000.00"
    assert figures["exposures"]["USD"]["net"] == "-126000.00"
    row = state_of(account)
    assert row.peak_equity == row.day_start_equity == D("101000")
    set_quotes(EURUSD="1.25500")
    figures = risk.account_monitor(account.pk)["figures"]
    assert figures["daily_pnl"] == "-500.00"
    assert figures["peak_equity"] == "101000.00"
    assert figures["drawdown_pct"] == "0.50"


def test_daily_loss_breach_halts_cancels_and_is_recorded_once(account):
    limits(account, max_daily_loss=D("1000"))
    risk.account_monitor(account.pk)
    resting = working(account, "EURUSD", "buy", "0.10")
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-1000"))
    result = risk.account_monitor(account.pk)
    assert result["breaches"] == ["RISK_DAILY_LOSS"]
    assert state_of(account).state == TradingState.HALTED
    resting.refresh_from_db()
    assert resting.status == Order.Status.CANCELLED
    change = TradingStateChange.objects.get(account=account)
    assert (change.from_state, change.to_state, change.actor) == ("active", "halted", "monitor")
    assert "Daily loss 1,000.00 USD reached the limit" in change.reason
    (breach,) = RiskEvent.objects.filter(account=account, kind=RiskEvent.Kind.BREACH)
    assert breach.code == "RISK_DAILY_LOSS" and breach.data["action"] == "halt"
    risk.account_monitor(account.pk)  # still breached: nothing new
    assert RiskEvent.objects.filter(account=account, kind=RiskEvent.Kind.BREACH).count() == 1
    assert TradingStateChange.objects.filter(account=account).count() == 1


def test_an_operator_lifting_a_halt_is_not_overruled_by_the_same_breach(account, operator):
    limits(account, max_daily_loss=D("100"))
    risk.account_monitor(account.pk)
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-100"))
    risk.account_monitor(account.pk)
    risk.trading_state_set(
        state=TradingState.ACTIVE, account=account, actor=operator, reason="checked, resume"
    )
    risk.account_monitor(account.pk)
    assert state_of(account).state == TradingState.ACTIVE
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("200"))
    risk.account_monitor(account.pk)
    assert RiskEvent.objects.filter(account=account, kind=RiskEvent.Kind.CLEARED).count() == 1
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-200"))
    risk.account_monitor(account.pk)  # breached again: a new breach halts again
    assert state_of(account).state == TradingState.HALTED


def test_exposure_breach_switches_to_reducing_by_default(account):
    hold(account, "EURUSD", "2.00")
    limits(account, max_net_exposure=D("200000"))
    result = risk.account_monitor(account.pk)
    assert result["breaches"] == ["RISK_EXPOSURE"]
    assert state_of(account).state == TradingState.REDUCING


def test_alert_action_only_records(account):
    hold(account, "EURUSD", "2.00")
    limits(account, max_net_exposure=D("200000"), exposure_action="alert")
    risk.account_monitor(account.pk)
    assert state_of(account).state == TradingState.ACTIVE
    assert RiskEvent.objects.get(account=account, kind="breach").code == "RISK_EXPOSURE"


def test_flatten_action_halts_and_closes_every_position(account):
    hold(account, "EURUSD", "1.00")
    hold(account, "USDJPY", "-1.00")
    limits(account, max_drawdown_pct=D("1"), drawdown_action="flatten")
    risk.account_monitor(account.pk)
    set_quotes(EURUSD="1.24000")  # -1,000: 1% of 100,000
    risk.account_monitor(account.pk)
    assert state_of(account).state == TradingState.HALTED
    closes = Order.objects.filter(account=account, role=Order.Role.CLOSE)
    assert {(o.instrument.symbol, o.side, o.source) for o in closes} == {
        ("EURUSD", "sell", "system"),
        ("USDJPY", "buy", "system"),
    }
    risk.account_monitor(account.pk)  # closes already working: none placed twice
    assert Order.objects.filter(account=account, role=Order.Role.CLOSE).count() == 2


@pytest.fixture
def small_account(trader, quotes):
    return trading.account_open(owner=trader, name="Thin", deposit=D("7500"), leverage=D("100"))


def test_stop_out_closes_the_largest_loser_first_one_per_call(small_account):
    account = small_account
    hold(account, "EURUSD", "1.00", "1.25000")
    hold(account, "GBPUSD", "1.00", "1.56250")
    hold(account, "USDJPY", "-1.00", "100.000")
    # Losses: EURUSD -2,000, GBPUSD -1,250, USDJPY about -497.51.
    set_quotes(EURUSD="1.23000", GBPUSD="1.55000", USDJPY="100.500")
    first = risk.account_monitor(account.pk)
    assert D(first["figures"]["margin_level"]) < 50
    close = Order.objects.get(account=account, role=Order.Role.CLOSE)
    assert (close.instrument.symbol, close.side, close.source) == ("EURUSD", "sell", "system")
    # Until that close fills, nothing else is closed.
    risk.account_monitor(account.pk)
    assert Order.objects.filter(account=account, role=Order.Role.CLOSE).count() == 1
    execute_order(close.pk)
    second = risk.account_monitor(account.pk)
    assert D(second["figures"]["margin_level"]) < 50  # about 44%
    closes = Order.objects.filter(account=account, role=Order.Role.CLOSE).order_by("id")
    assert [o.instrument.symbol for o in closes] == ["EURUSD", "GBPUSD"]
    execute_order(closes[1].pk)
    third = risk.account_monitor(account.pk)
    assert D(third["figures"]["margin_level"]) > 100
    assert Order.objects.filter(account=account, role=Order.Role.CLOSE).count() == 2
    open_ = Position.objects.filter(account=account, closed_at__isnull=True)
    assert [p.instrument.symbol for p in open_] == ["USDJPY"]
    stop_outs = RiskEvent.objects.filter(account=account, kind="stop_out").order_by("id")
    assert [e.data["position"] for e in stop_outs] == [
        closes[0].position_id,
        closes[1].position_id,
    ]
    assert "closing +1.00 EURUSD (unrealised -2,000.00 USD)" in stop_outs[0].message


def test_no_stop_out_above_the_level(small_account):
    hold(small_account, "EURUSD", "1.00", "1.25000")
    risk.account_monitor(small_account.pk)
    assert not Order.objects.filter(account=small_account, role=Order.Role.CLOSE).exists()


def test_monitor_without_a_quote_keeps_the_last_figures(account):
    from apps.marketdata import live

    hold(account, "EURUSD", "1.00")
    risk.account_monitor(account.pk)
    live.client().delete(live.quote_key("EURUSD"))
    result = risk.account_monitor(account.pk)
    assert result["status"] == "no_quotes"
    assert state_of(account).figures["equity"] == "100000.00"


def test_fill_and_price_hooks_are_throttled(account, django_capture_on_commit_callbacks):
    from apps.marketdata import live

    hold(account, "EURUSD", "1.00")  # (its fill already asked for a monitor run)
    live.client().delete(f"{live.prefix()}:risk:monitor:{account.pk}")
    with django_capture_on_commit_callbacks() as callbacks:
        risk.on_fill(account_id=account.pk)
        risk.on_fill(account_id=account.pk)
    assert len(callbacks) == 1
    live.client().delete(f"{live.prefix()}:risk:monitor:{account.pk}")
    eurusd, gbpusd = (Instrument.objects.get(symbol=s).pk for s in ("EURUSD", "GBPUSD"))
    live.client().delete(*(f"{live.prefix()}:risk:prices:{pk}" for pk in (eurusd, gbpusd)))
    assert risk.on_prices([eurusd, gbpusd]) == 1  # one account holds EURUSD
    assert risk.on_prices([eurusd]) == 0  # the instrument was just handled


def test_stored_live_ticks_value_the_accounts_holding_the_instrument(
    account, django_capture_on_commit_callbacks
):
    """The live price path: a feed's ticks committed → ``ticks_stored`` →
    ``on_prices`` → a monitor run queued for the account holding EURUSD."""
    from apps.marketdata import live
    from apps.marketdata.services.partitions import forget_known_partitions
    from apps.trading.tests.test_paper import stored_ticks

    hold(account, "EURUSD", "1.00")
    eurusd = Instrument.objects.get(symbol="EURUSD")
    client = live.client()
    client.delete(f"{live.prefix()}:risk:monitor:{account.pk}")
    client.delete(f"{live.prefix()}:risk:prices:{eurusd.pk}")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            stored_ticks(eurusd, [1.08000, 1.08010])
    finally:
        # The callbacks ran inside the test's transaction, which rolls back:
        # the tick partition they remembered as created goes with it.
        forget_known_partitions()
    assert client.exists(f"{live.prefix()}:risk:prices:{eurusd.pk}")
    assert client.exists(f"{live.prefix()}:risk:monitor:{account.pk}")


@pytest.mark.django_db(transaction=True)
def test_events_are_pushed_to_the_owner(trader, quotes):
    from apps.trading.tests.test_events import listen

    account = trading.account_open(owner=trader, name="Pushed", deposit=D("1000"))
    limits(account, max_daily_loss=D("10"))
    risk.account_monitor(account.pk)
    trading.ledger_post(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=D("-10"))
    receive = listen(trader.pk)
    risk.account_monitor(account.pk)
    message = receive()
    kinds = [(e["type"], e["kind"]) for e in message["events"] if e["type"] == "risk"]
    assert ("risk", "breach") in kinds and ("risk", "state") in kinds
    breach = next(e for e in message["events"] if e.get("kind") == "breach")
    assert breach["code"] == "RISK_DAILY_LOSS" and breach["account"] == account.pk

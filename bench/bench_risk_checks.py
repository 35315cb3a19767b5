"""Pre-trade risk check on an account with 50 open positions, every limit set.

The check runs as the trading service will run it: inside a transaction,
on the account's locked row. The account has 50 positions (hedging tickets
over the 13 instruments), 20 working orders and 2,000 past orders.
Baselines, same run, same database: a one-row SELECT by primary key (one
round trip) and the trading service's account summary of the same 50
positions (equity and margin from live quotes).
Target: well under 1 ms per check. The checks are timed on their own (what
they read is read once per order: one query and one Redis MGET) and with
those reads.
"""

import time
import uuid
from decimal import Decimal

from bench.common import Figure, time_calls

REPEAT = 2000
# State, instrument, hours, order size, open orders, order rate, position,
# daily loss, drawdown, net and gross exposure, leverage, margin.
CHECKS = 13
POSITIONS = 50
HISTORY = 2000


def _setup():
    from django.utils import timezone

    from apps.accounts import services as accounts
    from apps.accounts.models import User
    from apps.marketdata import live
    from apps.marketdata.models import Instrument
    from apps.risk import services as risk
    from apps.risk.models import AccountRisk
    from apps.trading import services as trading
    from apps.trading.models import LedgerEntry, Order, Position
    from apps.trading.selectors import live_quotes

    user = User.objects.filter(username="bench-risk").first() or accounts.user_create(
        username="bench-risk", password="Quick-brown-fox-4711", roles=["trader"]
    )
    account = trading.account_open(
        owner=user,
        name=f"bench-risk-{time.time_ns()}",
        deposit=Decimal("10000000"),
        leverage=Decimal("100"),
        mode="hedging",
    )
    instruments = list(Instrument.objects.filter(enabled=True).order_by("symbol"))
    prices = {
        "EURUSD": "1.08000",
        "GBPUSD": "1.27000",
        "USDJPY": "150.000",
        "USDCHF": "0.88000",
        "AUDUSD": "0.66000",
        "USDCAD": "1.36000",
        "NZDUSD": "0.61000",
        "EURJPY": "162.000",
        "EURGBP": "0.85000",
        "GBPJPY": "190.000",
        "EURCHF": "0.95000",
        "AUDJPY": "99.000",
        "XAUUSD": "2300.00",
    }
    for i in instruments:
        price = prices.get(i.symbol, "1.00000")
        live.quote_store(
            {
                "symbol": i.symbol,
                "bid": price,
                "ask": price,
                "time": "-",
                "ts": time.time_ns() // 1_000_000,
                "source": "bench",
                "simulated": True,
            }
        )
    quotes = live_quotes()
    for n in range(POSITIONS):
        instrument = instruments[n % len(instruments)]
        order, _ = trading.order_place(
            account=account,
            instrument=instrument,
            side="buy" if n % 3 else "sell",
            type="market",
            quantity=Decimal("0.10"),
        )
        trading.order_transition(order=order, to_status=Order.Status.ACCEPTED, actor="bench")
        trading.fill_apply(
            order=order,
            quantity=Decimal("0.10"),
            price=Decimal(prices.get(instrument.symbol, "1.00000")),
            time=timezone.now(),
            broker_deal_id=uuid.uuid4().hex,
            quotes=quotes,
        )
    eurusd = Instrument.objects.get(symbol="EURUSD")
    past = timezone.now() - timezone.timedelta(days=1)
    Order.objects.bulk_create(
        Order(
            account=account,
            client_order_id=f"past-{n}",
            instrument=eurusd,
            side="buy",
            type="market",
            quantity=Decimal("0.01"),
            status=Order.Status.CANCELLED,
        )
        for n in range(HISTORY)
    )
    Order.objects.filter(account=account, client_order_id__startswith="past-").update(
        created_at=past
    )
    for _ in range(20):
        trading.order_place(
            account=account,
            instrument=eurusd,
            side="buy",
            type="limit",
            quantity=Decimal("0.01"),
            price=Decimal("1.00000"),
        )
    risk.limits_update(
        account=account,
        changes={
            "max_order_lots": Decimal("50"),
            "max_position_lots": Decimal("100"),
            "max_gross_exposure": Decimal("1000000000"),
            "max_net_exposure": Decimal("1000000000"),
            "max_leverage": Decimal("100"),
            "min_margin_level": Decimal("100"),
            "max_open_orders": 500,
            "max_orders_per_minute": 100,
            "max_daily_loss": Decimal("1000000"),
            "max_drawdown_pct": Decimal("50"),
            "allowed_symbols": [i.symbol for i in instruments],
        },
        actor="bench",
    )
    risk.account_monitor(account.pk)
    from django.db import connection

    with connection.cursor() as cursor:  # statistics, as autovacuum keeps them
        for model in (Order, Position, LedgerEntry, AccountRisk):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return account, eurusd


def run() -> list[Figure]:
    from django.db import transaction
    from django.utils import timezone

    from apps.risk import selectors as risk_selectors
    from apps.risk import services as risk
    from apps.trading import selectors as trading_selectors
    from apps.trading.models import TradingAccount
    from apps.trading.selectors import live_quotes

    account, eurusd = _setup()

    def one_row():
        TradingAccount.objects.filter(pk=account.pk).values_list("balance", flat=True).get()

    def summary():
        trading_selectors.account_summary(account)

    order = {
        "instrument": eurusd,
        "side": "buy",
        "quantity": Decimal("1.00"),
        "order_type": "market",
    }
    with transaction.atomic():
        locked = TradingAccount.objects.select_for_update().get(pk=account.pk)
        now = timezone.now()
        snap = risk_selectors.snapshot(locked, now)
        quotes = live_quotes(snap.symbols)

        def checks_only():
            risk.evaluate(account=locked, snap=snap, quotes=quotes, now=now, **order)

        def full():
            risk.pre_trade_check(account=locked, **order)

        baseline = time_calls(one_row, REPEAT)
        summary_stats = time_calls(summary, REPEAT // 4)
        evaluated = time_calls(checks_only, REPEAT)
        reads = time_calls(lambda: risk_selectors.snapshot(locked), REPEAT)
        calls = time_calls(full, REPEAT)
    print(
        f"  ({POSITIONS} positions, 20 working and {HISTORY} past orders, all {CHECKS} limits "
        f"set; {REPEAT} calls each. The checks run on the account's snapshot - one query - "
        "and the live quotes - one Redis MGET - read once per order)"
    )
    return [
        Figure(
            f"all {CHECKS} checks median",
            evaluated["p50"],
            "ms",
            "one-row SELECT median",
            baseline["p50"],
            "< 1 ms",
        ),
        Figure(
            f"all {CHECKS} checks p95",
            evaluated["p95"],
            "ms",
            "one-row SELECT p95",
            baseline["p95"],
            "< 1 ms",
        ),
        Figure(
            "one check (mean)",
            evaluated["mean"] / CHECKS,
            "ms",
            "one-row SELECT mean",
            baseline["mean"],
            "well under 1 ms",
        ),
        Figure(
            "snapshot query median", reads["p50"], "ms", "one-row SELECT median", baseline["p50"]
        ),
        Figure(
            "pre_trade_check with reads median",
            calls["p50"],
            "ms",
            "one-row SELECT median",
            baseline["p50"],
        ),
        Figure(
            "pre_trade_check with reads mean",
            calls["mean"],
            "ms",
            "account_summary mean",
            summary_stats["mean"],
        ),
    ]

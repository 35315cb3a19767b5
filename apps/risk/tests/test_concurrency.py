"""Two orders racing on one account cannot together breach a limit when the
caller checks them under the account's row lock (as ``order_place`` does)."""

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from apps.marketdata.models import Instrument
from apps.risk import services as risk
from apps.risk.errors import RiskRejected
from apps.risk.tests.conftest import limits
from apps.trading import services as trading
from apps.trading.models import Order, TradingAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_orders_under_the_account_lock(trader, quotes):
    account = trading.account_open(owner=trader, name="Race", deposit=D("100000"))
    limits(account, max_position_lots=D("1.00"), max_open_orders=5)
    eurusd = Instrument.objects.get(symbol="EURUSD")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def place(n: int) -> None:
        try:
            barrier.wait(5)
            with transaction.atomic():
                locked = TradingAccount.objects.select_for_update().get(pk=account.pk)
                risk.pre_trade_check(
                    account=locked,
                    instrument=eurusd,
                    side="buy",
                    quantity=D("0.60"),
                    order_type="limit",
                    price=D("1.20000"),
                )
                time.sleep(0.2)  # both would pass without the lock
                trading.order_place(
                    account=locked,
                    instrument=eurusd,
                    side="buy",
                    type="limit",
                    quantity=D("0.60"),
                    price=D("1.20000"),
                    client_order_id=f"race-{n}",
                )
            results.append("placed")
        except RiskRejected as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["RISK_MAX_POSITION", "placed"]
    assert Order.objects.filter(account=account).count() == 1

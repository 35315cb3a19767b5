"""Backtests on a real worker (``backtests`` queue): queued through the API,
progress and the result pushed to the owner's ``/ws/trading/`` group
(stopping a running backtest: ``apps/strategies/tests/test_api.py``)."""

import time

import numpy as np
import pytest

from apps.accounts.tests.factories import UserFactory
from apps.strategies import services
from apps.strategies.models import Backtest
from apps.strategies.tests.test_api import BODY, store_bars
from apps.trading.tests.test_events import listen

pytestmark = pytest.mark.django_db(transaction=True)


def test_backtest_tasks_are_routed_to_the_backtests_queue():
    from fxsite.celery import app

    route = app.amqp.router.route({}, "apps.strategies.tasks.run_backtest")
    assert route["queue"].name == "backtests"


def test_a_backtest_runs_on_the_worker_and_pushes_its_progress(celery_worker):
    user = UserFactory(username="bt-worker", roles=["trader"])
    store_bars(n=40_000, seed=9)  # several progress chunks on the bar-by-bar path
    receive = listen(user.pk)
    body = {**BODY, "params": {"fast": 10, "slow": 20, "stop_pips": 30}, "end": "2029-01-01"}
    backtest = services.backtest_request(user=user, data=body)
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        message = receive(timeout=5)
        if message is None:
            continue
        for event in message.get("events", [message]):
            if event.get("type") == "backtest" and event["id"] == backtest.pk:
                seen.append(event)
        if seen and seen[-1]["status"] in ("done", "failed"):
            break
    statuses = [e["status"] for e in seen]
    assert statuses[0] == "running" and statuses[-1] == "done", seen
    assert any(0 < e["progress"] < 1 for e in seen if e["status"] == "running")
    assert seen[-1]["metrics"]["trades"] > 0
    row = Backtest.objects.get(pk=backtest.pk)
    assert row.path_used == "bar" and row.bars > 10_000  # (weekend and future bars refused)
    assert np.isclose(row.metrics["final_equity"], 100_000 + sum(row.trades["net_pnl"]), atol=0.01)

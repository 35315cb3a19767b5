"""Deployments: a replay through the live path (orders, paper broker,
fills) gives the fills of the backtest of the same bars; live bars feed the
runner and place orders once per bar; start, pause, stop."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from apps.marketdata.models import DataSource, Instrument
from apps.strategies import config as config_mod
from apps.strategies import deploy, selectors, services
from apps.strategies.framework import Strategy
from apps.strategies.models import Deployment
from apps.strategies.tests.test_api import store_bars
from apps.trading import services as trading
from apps.trading.models import Fill, Order

pytestmark = pytest.mark.django_db

BASE = {
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 20},
    "symbol": "EURUSD",
    "timeframe": "H1",
    "sizing": {"mode": "lots", "value": 1},
}


def paper_account(user, name="Strategy"):
    return trading.account_open(
        owner=user, name=name, deposit=Decimal("1000000"), leverage=Decimal("100")
    )


def test_a_replay_through_the_live_path_fills_like_the_backtest(trader):
    store_bars(n=1_200, seed=8)
    account = paper_account(trader)
    dep = deploy.create(
        user=trader,
        data={
            **BASE,
            "account": account.pk,
            "mode": "replay",
            "start": "2024-01-01",
            "end": "2024-12-31",
        },
    )
    assert deploy.replay(dep.pk) == "finished"
    dep.refresh_from_db()
    assert dep.status == "finished" and dep.bars_seen > 800 and dep.progress == 1.0
    paper = [
        (float(f.quantity if f.side == "buy" else -f.quantity), float(f.price))
        for f in Fill.objects.filter(account=account).order_by("id")
    ]
    spec = config_mod.parse(
        {**BASE, "start": "2024-01-01", "end": "2024-12-31", "swap": False, "spread": "bars"}
    )
    result = services.execute(spec)
    backtest = [
        (lots, price) for _, _, lots, price, reason in result.fills if reason != "end_of_data"
    ]
    assert len(paper) > 20
    assert paper == backtest
    # Stamped with the replayed bars' times, as the backtest's fills are.
    from apps.marketdata.calendar import us_to_datetime

    bar_times = [
        us_to_datetime(int(result.time_us[j]))
        for _, j, _, _, reason in result.fills
        if reason != "end_of_data"
    ]
    assert [f.time for f in Fill.objects.filter(account=account).order_by("id")] == bar_times
    orders = Order.objects.filter(source_ref=dep.ref)
    assert orders.count() == len(paper) and {o.source for o in orders} == {"strategy"}
    perf = selectors.deployment_performance(dep)
    assert perf["fills"] == len(paper) and len(perf["trades"]) == len(paper) - 1
    assert perf["trades"][0]["entry_time"] < perf["trades"][0]["exit_time"]
    # Stopping with close_positions closes the position as the deployment's order.
    from apps.marketdata import live

    last = Fill.objects.filter(account=account).order_by("id").last()
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": f"{last.price}",
            "ask": f"{last.price}",
            "time": "-",
            "ts": 0,
            "source": "test",
            "simulated": True,
        }
    )
    deploy.set_status(deployment=dep, status="stopped", close_positions=True)
    closing = Order.objects.filter(source_ref=dep.ref).order_by("-id").first()
    assert closing.role == "close" and closing.source == "strategy"


def test_live_bars_feed_the_runner_and_place_each_order_once(trader, monkeypatch):
    arrays = store_bars(n=600, seed=8)
    source = DataSource.objects.get(name="test-history")
    account = paper_account(trader)
    dep = deploy.create(
        user=trader, data={**BASE, "account": account.pk, "mode": "live", "source": "test-history"}
    )
    # The bars where the backtest of the same history trades.
    spec = config_mod.parse({**BASE, "start": "2024-01-01", "end": "2024-12-31", "swap": False})
    result = services.execute(spec)
    first_signal = result.fills[0][1] - 1  # the order is placed on the close before its fill
    times = [int(t) for t in arrays["time_us"]]
    # A new deployment starts on the latest closed bar, priming its indicators with history.
    assert deploy.on_bar(dep.pk, times[first_signal], source.pk) == "1 orders"
    order = Order.objects.get(source_ref=dep.ref)
    assert order.side == ("buy" if result.fills[0][2] > 0 else "sell")
    assert order.quantity == Decimal("1.00") and order.client_order_id.startswith(f"d{dep.pk}-")
    assert deploy.on_bar(dep.pk, times[first_signal], source.pk) == "seen"  # a duplicate task
    dep.refresh_from_db()
    assert dep.state and dep.last_bar_at is not None
    # The next bars continue from the saved runner (no new cross right after).
    assert deploy.on_bar(dep.pk, times[first_signal + 1], source.pk) == "0 orders"


def test_closed_live_bars_queue_the_deployments_on_them(trader, monkeypatch):
    from apps.strategies import tasks

    queued = []
    monkeypatch.setattr(tasks.deployment_bar, "delay", lambda *a: queued.append(a))
    account = paper_account(trader)
    dep = deploy.create(user=trader, data={**BASE, "account": account.pk})
    eurusd = Instrument.objects.get(symbol="EURUSD")
    synthetic = DataSource.objects.get(name="synthetic")
    tasks.on_bars_closed(
        None,
        instrument_id=eurusd.pk,
        source_id=synthetic.pk,
        bars=[("M1", 1), ("H1", 3_600_000_000)],
    )
    assert queued == [(dep.pk, 3_600_000_000, synthetic.pk)]
    deploy.set_status(deployment=dep, status="paused")
    tasks.on_bars_closed(
        None, instrument_id=eurusd.pk, source_id=synthetic.pk, bars=[("H1", 7_200_000_000)]
    )
    assert len(queued) == 1


def test_api_create_errors_pause_resume_stop(trader_client, trader):
    account = paper_account(trader)
    url = "/api/v1/strategies/deployments/"
    bad = trader_client.post(
        url,
        {**BASE, "account": 999999, "params": {"fast": 50}, "sizing": {"mode": "all-in"}},
        format="json",
    )
    assert bad.status_code == 400
    assert {"account", "params.fast", "sizing"} <= set(bad.json()["error"]["fields"])
    created = trader_client.post(url, {**BASE, "account": account.pk}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "running" and created.json()["broker"] == "paper"
    assert trader_client.post(f"{url}{pk}/pause/").json()["status"] == "paused"
    assert trader_client.post(f"{url}{pk}/resume/").json()["status"] == "running"
    # A working order of the deployment is cancelled when it stops.
    dep = Deployment.objects.get(pk=pk)
    order, _ = trading.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="limit",
        quantity=Decimal("1"),
        price=Decimal("0.50000"),
        source="strategy",
        source_ref=dep.ref,
    )
    trading.order_transition(order=order, to_status="accepted", actor="test")
    stopped = trader_client.post(f"{url}{pk}/stop/", {"close_positions": True}, format="json")
    assert stopped.json()["status"] == "stopped"
    order.refresh_from_db()
    assert order.status == "cancelled"
    again = trader_client.post(f"{url}{pk}/resume/")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_transition"
    assert trader_client.get(f"{url}{pk}/orders/").json()["count"] == 1
    assert "net_pnl" in trader_client.get(f"{url}{pk}/performance/").json()


class TickProbe(Strategy):
    """Buys 1 lot on the first live tick it sees while flat; logs each tick."""

    key = "tick_probe"
    seen: list = []

    def on_bar(self, ctx, i):
        pass

    def on_tick(self, ctx, tick):
        TickProbe.seen.append((ctx.close[ctx.i], tick.time_us, tick.bid))
        if not ctx.position:
            ctx.buy(1)


def test_live_ticks_reach_on_tick_between_closes_and_its_orders_are_placed_once(
    trader, monkeypatch
):
    from apps.marketdata.batches import TickBatch
    from apps.marketdata.services.ingest import ticks_ingest
    from apps.strategies import tasks
    from apps.strategies.builtin import BUILTIN

    monkeypatch.setitem(BUILTIN, "tick_probe", TickProbe)
    TickProbe.seen = []
    arrays = store_bars(n=400, seed=3)
    source = DataSource.objects.get(name="test-history")
    eurusd = Instrument.objects.get(symbol="EURUSD")
    account = paper_account(trader)
    body = {**BASE, "account": account.pk, "mode": "live", "source": "test-history"}
    dep = deploy.create(user=trader, data={**body, "strategy": "tick_probe", "params": {}})
    plain = deploy.create(user=trader, data=body)  # sma_cross: no on_tick
    times = [int(t) for t in arrays["time_us"]]
    assert deploy.on_ticks(dep.pk, source.pk, times[-1]) == "no bar yet"
    assert deploy.on_bar(dep.pk, times[242], source.pk) == "0 orders"
    # Four ticks inside bar 243 (Thursday 03:00, after bar 242's close), one more later.
    close = float(arrays["close"][242])
    tick_times = [times[243] + k * 600_000_000 for k in range(4)] + [times[244] + 1_000_000]
    ticks_ingest(
        instrument=eurusd,
        source=source,
        batch=TickBatch(
            time_us=np.array(tick_times, dtype=np.int64),
            bid=np.round(close + np.arange(5) * 0.0001, 5),
            ask=np.round(close + np.arange(5) * 0.0001 + 0.0001, 5),
        ),
        publish=False,
    )
    assert deploy.on_ticks(dep.pk, source.pk, tick_times[3]) == "4 ticks, 1 orders"
    order = Order.objects.get(source_ref=dep.ref)
    assert order.side == "buy" and order.client_order_id == f"d{dep.pk}-t{tick_times[3]}-0"
    # The strategy saw bar 242 as its last closed bar, and each tick once.
    assert [(c, t) for c, t, _ in TickProbe.seen] == [(close, t) for t in tick_times[:4]]
    assert deploy.on_ticks(dep.pk, source.pk, tick_times[3]) == "no new ticks"
    dep.refresh_from_db()
    assert dep.ticks_seen == 4 and dep.last_tick_at is not None
    # Stored live ticks queue only the deployments with an on_tick.
    queued = []
    monkeypatch.setattr(tasks.deployment_ticks, "delay", lambda *a: queued.append(a))
    deploy.on_ticks_stored(instrument_id=eurusd.pk, source_id=source.pk, last_us=tick_times[4])
    assert queued == [(dep.pk, source.pk, tick_times[4])]
    assert plain.pk not in [q[0] for q in queued]


def test_a_live_deployment_that_cannot_run_fails_with_its_reason(
    trader, django_capture_on_commit_callbacks
):
    """Parameters stored before a rule existed (a period of 1, which the SMA
    refuses) fail the deployment with the reason, not every bar's task."""
    arrays = store_bars(n=300, seed=4)
    source = DataSource.objects.get(name="test-history")
    account = paper_account(trader)
    dep = deploy.create(
        user=trader, data={**BASE, "account": account.pk, "mode": "live", "source": "test-history"}
    )
    Deployment.objects.filter(pk=dep.pk).update(params={"fast": 1, "slow": 20})
    with django_capture_on_commit_callbacks(execute=True):
        assert deploy.on_bar(dep.pk, int(arrays["time_us"][200]), source.pk) == "failed"
    dep.refresh_from_db()
    assert dep.status == "failed" and "fast: Must be at least 2" in dep.error

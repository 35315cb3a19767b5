"""Backtests through the API: 202 + a run (the task's service, called here;
``tests/test_backtest_worker.py`` runs it on a real worker), the result's
shape, field errors, cancellation, trades, report, saved strategies."""

from __future__ import annotations

import numpy as np
import pytest

from apps.marketdata.batches import BarBatch
from apps.marketdata.models import DataSource, Instrument
from apps.marketdata.services.ingest import bars_ingest
from apps.strategies import services
from apps.strategies.models import Backtest
from apps.strategies.tests.helpers import walk

pytestmark = pytest.mark.django_db

URL = "/api/v1/strategies/backtests/"


def store_bars(symbol: str = "EURUSD", n: int = 3_000, seed: int = 5) -> dict:
    a = walk(n, seed=seed)
    source, _ = DataSource.objects.get_or_create(name="test-history", defaults={"kind": "import"})
    bars_ingest(
        instrument=Instrument.objects.get(symbol=symbol),
        source=source,
        timeframe="H1",
        batch=BarBatch(
            time_us=a["time_us"],
            open=a["open"],
            high=a["high"],
            low=a["low"],
            close=a["close"],
            volume=a["volume"],
            spread=a["spread"],
        ),
    )
    return a


BODY = {
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 20},
    "symbol": "EURUSD",
    "timeframe": "H1",
    "start": "2024-01-01",
    "end": "2024-12-31",
    "initial_balance": 100000,
    "account_currency": "USD",
    "leverage": 100,
    "sizing": {"mode": "units", "value": 10000},
    "commission": {"mode": "per_lot", "value": 3.5},
    "spread": "bars",
    "slippage": 0.1,
    "swap": True,
}


def test_a_backtest_is_accepted_run_and_read_back(
    trader_client, django_capture_on_commit_callbacks
):
    store_bars()
    with django_capture_on_commit_callbacks() as queued:
        response = trader_client.post(URL, BODY, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and len(queued) == 1
    assert services.backtest_run(body["id"]) == "done"
    detail = trader_client.get(f"{URL}{body['id']}/").json()
    assert detail["status"] == "done" and detail["progress"] == 1.0
    assert detail["path_used"] == "vectorised"
    m = detail["metrics"]
    for name in (
        "total_return",
        "annual_return",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_days",
        "win_rate",
        "profit_factor",
        "expectancy",
        "average_trade",
        "exposure_time",
        "trades",
    ):
        assert name in m
    assert m["trades"] == len(detail["trades"]) > 10
    trade = detail["trades"][0]
    assert {
        "side",
        "units",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "commission",
        "swap",
        "net_pnl",
    } <= set(trade)
    assert trade["units"] == 10000.0
    assert detail["equity"][0]["equity"] == 100000.0
    assert {"time", "equity", "drawdown"} == set(detail["equity"][0])
    assert detail["monthly"]
    # The stored P&L adds up: final equity = initial + Σ net P&L.
    assert m["final_equity"] == pytest.approx(100000 + sum(t["net_pnl"] for t in detail["trades"]))
    page = trader_client.get(f"{URL}{body['id']}/trades/?page_size=5").json()
    assert page["count"] == m["trades"] and len(page["results"]) == 5
    report = trader_client.get(f"{URL}{body['id']}/report/")
    assert report.status_code == 200 and b"<svg" in report.content


def test_bad_requests_get_field_errors(trader_client):
    body = {
        **BODY,
        "params": {"fast": 0, "slow": 20, "nope": 1},
        "symbol": "XXXYYY",
        "sizing": {"mode": "martingale", "value": 1},
        "end": "2023-01-01",
    }
    response = trader_client.post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameters"
    fields = error["fields"]
    assert {"params.fast", "params.nope", "symbol", "sizing.mode", "end"} <= set(fields)
    assert Backtest.objects.count() == 0


def test_no_bars_fails_the_run_with_a_clear_error(trader_client):
    response = trader_client.post(URL, {**BODY, "symbol": "GBPJPY"}, format="json")
    assert response.status_code == 202
    assert services.backtest_run(response.json()["id"]) == "failed"
    detail = trader_client.get(f"{URL}{response.json()['id']}/").json()
    assert detail["error_code"] == "no_data" and "GBPJPY" in detail["error"]


def test_cancel_a_queued_backtest_and_others_cannot_see_it(trader_client, api_client, operator):
    response = trader_client.post(URL, BODY, format="json")
    pk = response.json()["id"]
    cancelled = trader_client.post(f"{URL}{pk}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert services.backtest_run(pk) == "skipped"
    from apps.accounts.tests.factories import UserFactory
    from conftest import jwt_for

    UserFactory(username="other-trader", roles=["trader"])
    tokens = jwt_for(api_client, "other-trader")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get(f"{URL}{pk}/").status_code == 404


def test_catalogue_and_saved_strategies(trader_client):
    classes = trader_client.get("/api/v1/strategies/classes/").json()
    sma = next(c for c in classes if c["key"] == "sma_cross")
    assert sma["params"]["fast"]["default"] == 10 and sma["vectorised"] is True
    assert len(trader_client.get("/api/v1/strategies/indicators/").json()) > 100
    bad = trader_client.post(
        "/api/v1/strategies/saved/",
        {"name": "Mine", "strategy": "sma_cross", "params": {"fast": 50, "slow": 20}},
        format="json",
    )
    assert bad.status_code == 400 and "params.fast" in bad.json()["error"]["fields"]
    saved = trader_client.post(
        "/api/v1/strategies/saved/",
        {"name": "Mine", "strategy": "sma_cross", "params": {"fast": 5, "slow": 30}},
        format="json",
    ).json()
    assert saved["params"]["slow"] == 30 and saved["params"]["stop_pips"] == 0
    store_bars()
    response = trader_client.post(
        URL, {**BODY, "strategy": saved["id"], "params": {}}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["params"]["fast"] == 5


def test_the_command_prints_a_report_and_writes_html(tmp_path, capsys):
    from django.core.management import call_command

    from apps.accounts.tests.factories import UserFactory

    UserFactory(username="cmd-owner", roles=["trader"])
    store_bars(n=2_000)
    out = tmp_path / "r.html"
    call_command(
        "backtest",
        "--strategy",
        "sma_cross",
        "--symbol",
        "EURUSD",
        "--timeframe",
        "H1",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--param",
        "fast=10",
        "--param",
        "slow=20",
        "--html",
        str(out),
        "--save",
        "--user",
        "cmd-owner",
    )
    printed = capsys.readouterr()
    assert "Sharpe" in printed.out and "Max drawdown" in printed.out
    assert "100.0%" in printed.err  # the progress bar
    assert "<svg" in out.read_text()
    assert Backtest.objects.get().status == "done"


def test_vectorised_request_falls_back_with_a_note_when_stops_are_set(trader_client):
    store_bars()
    body = {**BODY, "params": {"fast": 10, "slow": 20, "stop_pips": 20}, "path": "vectorised"}
    pk = trader_client.post(URL, body, format="json").json()["id"]
    services.backtest_run(pk)
    detail = trader_client.get(f"{URL}{pk}/").json()
    assert detail["path_used"] == "bar" and detail["notes"]
    assert np.isfinite(detail["metrics"]["final_equity"])


def test_the_demo_history_backs_a_backtest_even_with_a_live_feed_running():
    """make run's demo: simulated H1 history of the majors; the backtest reads
    it rather than the live feed's last few bars (the source with most bars)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.marketdata.demo import setup_history
    from apps.strategies import config

    assert "simulated H1 bars" in setup_history()
    assert "already present" in setup_history()
    live = store_bars(n=5)  # a second source with only a few bars
    assert len(live["time_us"]) == 5
    end = timezone.now()
    spec = config.parse(
        {
            "strategy": "sma_cross",
            "symbol": "USDJPY",
            "timeframe": "H1",
            "start": (end - timedelta(days=365)).isoformat(),
            "end": end.isoformat(),
        }
    )
    result = services.execute(spec)
    assert result.bars > 6000 and result.metrics["trades"] > 50


def test_a_running_backtest_stops_between_chunks_of_bars_when_cancelled(trader_client, monkeypatch):
    store_bars(n=12_000)
    body = {**BODY, "params": {"fast": 10, "slow": 20, "stop_pips": 30}, "end": "2026-01-01"}
    pk = trader_client.post(URL, body, format="json").json()["id"]
    publish = services._publish

    def cancel_once_running(backtest, **extra):
        publish(backtest, **extra)
        if backtest.status == Backtest.Status.RUNNING:  # the user presses cancel now
            trader_client.post(f"{URL}{pk}/cancel/")

    monkeypatch.setattr(services, "_publish", cancel_once_running)
    assert services.backtest_run(pk) == "cancelled"
    row = Backtest.objects.get(pk=pk)
    assert row.status == "cancelled" and row.cancel_requested and not row.metrics


def test_a_backtest_fills_inside_bars_from_stored_ticks(trader_client):
    from apps.marketdata.batches import TickBatch
    from apps.marketdata.services.ingest import ticks_ingest

    a = store_bars()
    rng = np.random.default_rng(4)
    times, bids = [], []
    for j in range(0, 400):
        for k in range(4):
            times.append(int(a["time_us"][j]) + k * 900_000_000 + 1_000_000)
            bids.append(round(rng.uniform(a["low"][j], a["high"][j]), 5))
    source = DataSource.objects.create(name="test-ticks", kind="import")
    stored = ticks_ingest(
        instrument=Instrument.objects.get(symbol="EURUSD"),
        source=source,
        batch=TickBatch(
            time_us=np.array(times, dtype=np.int64),
            bid=np.array(bids),
            ask=np.round(np.array(bids) + 0.0001, 5),
        ),
        publish=False,
    )
    assert stored.accepted > 500
    body = {**BODY, "params": {"fast": 10, "slow": 20, "stop_pips": 15}, "ticks": True}
    pk = trader_client.post(URL, body, format="json").json()["id"]
    services.backtest_run(pk)
    detail = trader_client.get(f"{URL}{pk}/").json()
    assert detail["status"] == "done", detail
    assert detail["settings"]["ticks"] is True and detail["path_used"] == "bar"
    (note,) = [n for n in detail["notes"] if "stored ticks of EURUSD" in n]
    assert f"{stored.accepted:,} stored ticks" in note
    plain = trader_client.post(URL, {**body, "ticks": False}, format="json").json()["id"]
    services.backtest_run(plain)
    plain_detail = trader_client.get(f"{URL}{plain}/").json()
    assert not any("ticks" in n for n in plain_detail["notes"])
    assert plain_detail["settings"]["ticks"] is False
    # The ticks moved some fills: the two runs' trades differ.
    assert detail["trades"] != plain_detail["trades"]


def test_the_ticks_setting_must_be_a_boolean(trader_client):
    response = trader_client.post(URL, {**BODY, "ticks": "yes"}, format="json")
    assert response.status_code == 400
    assert "ticks" in response.json()["error"]["fields"]

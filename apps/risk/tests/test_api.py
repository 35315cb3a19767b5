"""``/api/v1/risk/``: traders read their own limits, status and events;
operators edit limits, change states and pull the kill switch."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.tests.factories import UserFactory
from apps.marketdata.models import Bar, DataSource, Instrument
from apps.risk import services as risk
from apps.risk.models import RiskEvent, TradingStateChange
from apps.risk.tests.conftest import hold, limits
from apps.trading import services as trading
from apps.trading.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(operator) -> APIClient:
    client = APIClient()
    token = accounts.token_pair_for(user=operator)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def theirs(quotes):
    owner = UserFactory(username="trader2", roles=["trader"])
    return trading.account_open(owner=owner, name="Theirs", deposit=D("5000"))


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_trader_reads_own_limits_only(trader_client, account, theirs):
    limits(account, max_order_lots=D("5"))
    limits(None, max_daily_loss=D("1000"))
    page = trader_client.get("/api/v1/risk/limits/").json()
    assert [row["account"] for row in page["results"]] == [account.pk]
    row = page["results"][0]
    assert row["overrides"]["max_order_lots"] == "5.00"
    assert row["overrides"]["max_daily_loss"] is None
    assert row["effective"]["max_order_lots"] == "5.00"
    assert row["effective"]["max_daily_loss"] == "1000.00000000"
    assert row["effective"]["daily_loss_action"] == "halt"
    assert trader_client.get(f"/api/v1/risk/limits/{theirs.pk}/").status_code == 404


def test_trader_cannot_edit_limits(trader_client, account):
    response = trader_client.patch(
        f"/api/v1/risk/limits/{account.pk}/", {"max_order_lots": "100"}, format="json"
    )
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    response = trader_client.patch("/api/v1/risk/defaults/", {"max_order_lots": "100"})
    assert response.status_code == 403


def test_operator_edits_account_limits_and_it_is_recorded(operator_client, account):
    response = operator_client.patch(
        f"/api/v1/risk/limits/{account.pk}/",
        {"max_order_lots": "2.50", "allowed_symbols": ["eurusd"], "margin_action": "halt"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["effective"]["max_order_lots"] == "2.50"
    assert body["effective"]["allowed_symbols"] == ["EURUSD"]
    assert body["effective"]["margin_action"] == "halt"
    event = RiskEvent.objects.get(account=account, kind="limits")
    assert event.actor == "user:operator1"
    assert event.data["after"]["max_order_lots"] == "2.50"
    # Back to the default with null / "".
    operator_client.patch(
        f"/api/v1/risk/limits/{account.pk}/",
        {"max_order_lots": None, "margin_action": ""},
        format="json",
    )
    effective = operator_client.get(f"/api/v1/risk/limits/{account.pk}/").json()["effective"]
    assert effective["max_order_lots"] is None and effective["margin_action"] == "reduce"


def test_invalid_limits_are_refused_per_field(operator_client, account):
    response = operator_client.patch(
        f"/api/v1/risk/limits/{account.pk}/",
        {"allowed_symbols": ["NOPE"], "hours_start": "08:00"},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "Unknown instruments: NOPE." in fields["allowed_symbols"]
    assert "hours_end" in fields


def test_operator_edits_platform_defaults(operator_client, trader_client):
    response = operator_client.patch(
        "/api/v1/risk/defaults/", {"max_leverage": "20", "stop_out_level": "30"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = trader_client.get("/api/v1/risk/defaults/").json()
    assert (body["max_leverage"], body["stop_out_level"], body["state"]) == (
        "20.00",
        "30.00",
        "active",
    )


def _h1_bars(symbol: str, closes: np.ndarray) -> None:
    source = DataSource.objects.get(name="synthetic")
    instrument = Instrument.objects.get(symbol=symbol)
    start = datetime(2024, 1, 2, tzinfo=UTC)
    Bar.objects.bulk_create(
        Bar(
            instrument=instrument,
            source=source,
            timeframe="H1",
            time=start + timedelta(hours=i),
            open=D(f"{c:.5f}"),
            high=D(f"{c:.5f}"),
            low=D(f"{c:.5f}"),
            close=D(f"{c:.5f}"),
        )
        for i, c in enumerate(closes)
    )


def test_account_status_with_usage_exposures_var_and_correlation(trader_client, account):
    limits(account, max_position_lots=D("4"), max_net_exposure=D("500000"), max_open_orders=10)
    hold(account, "EURUSD", "2.00")
    hold(account, "GBPUSD", "-1.00")
    rng = np.random.default_rng(7)
    eur = 1.25 * np.cumprod(1 + rng.normal(0, 0.002, 301))
    _h1_bars("EURUSD", eur)
    _h1_bars("GBPUSD", 1.5625 * eur / 1.25 * np.cumprod(1 + rng.normal(0, 0.0005, 301)))
    response = trader_client.get(f"/api/v1/risk/accounts/{account.pk}/", {"window": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "active" and body["state_scope"] == "account"
    assert body["usage"]["max_position_lots"] == {
        "limit": "4.00",
        "value": "2.00",
        "used_pct": "50.0",
        "breached": False,
    }
    assert body["usage"]["max_open_orders"]["value"] == "0"
    assert body["usage"]["max_net_exposure"]["value"] == "250000.00"
    exposures = {e["currency"]: e for e in body["exposures"]}
    assert exposures["EUR"]["net"] == "250000.00" and exposures["GBP"]["net"] == "-156250.00"
    assert exposures["USD"]["net"] == "-93750.00"
    assert body["figures"]["equity"] == "100000.00"
    var = body["var"]
    assert var["observations"] == 200 and var["currencies"] == ["EUR", "GBP"]
    (v95, v99) = var["levels"]
    assert 0 < float(v95["var"]) <= float(v95["es"]) <= float(v99["es"])
    assert float(v95["var"]) <= float(v99["var"])
    corr = var["correlation"]
    assert corr[0][0] == 1.0 and corr[0][1] > 0.9  # GBP follows EUR in these bars


def test_account_status_without_history_or_quotes(trader_client, account):
    hold(account, "EURUSD", "1.00")
    body = trader_client.get(f"/api/v1/risk/accounts/{account.pk}/").json()
    assert body["var"]["observations"] == 0 and body["var"]["levels"] == []
    assert trader_client.get(f"/api/v1/risk/accounts/{account.pk}/?window=5").status_code == 400


def test_account_states_list(trader_client, account, theirs, operator):
    risk.trading_state_set(state="reducing", account=account, actor=operator, reason="review")
    rows = trader_client.get("/api/v1/risk/accounts/").json()["results"]
    assert [(r["account"], r["state"], r["state_reason"]) for r in rows] == [
        (account.pk, "reducing", "review")
    ]


def test_kill_switch_is_for_operators(trader_client, operator_client, account):
    body = {"scope": "account", "account": account.pk, "flatten": True, "reason": "test"}
    response = trader_client.post("/api/v1/risk/kill-switch/", body, format="json")
    assert response.status_code == 403
    hold(account, "EURUSD", "1.00")
    response = operator_client.post("/api/v1/risk/kill-switch/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "scope": "account",
        "accounts": 1,
        "state_changed": True,
        "cancelled": 0,
        "closing": 1,
        "algos_cancelled": 0,
    }
    assert Order.objects.get(account=account, role="close").source == "system"
    response = operator_client.post(
        "/api/v1/risk/kill-switch/", {"scope": "account", "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and "account" in response.json()["error"]["fields"]
    response = operator_client.post(
        "/api/v1/risk/kill-switch/", {"scope": "all", "reason": "everything"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state_changed"] is True
    assert trader_client.get("/api/v1/risk/state/").json()["state"] == "halted"


def test_state_changes_operators_only_and_a_trader_cannot_lift_a_halt(
    trader_client, operator_client, account
):
    halt = {"scope": "account", "account": account.pk, "state": "halted", "reason": "limits"}
    assert trader_client.post("/api/v1/risk/state/", halt, format="json").status_code == 403
    response = operator_client.post("/api/v1/risk/state/", halt, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["from_state"], response.json()["to_state"]) == ("active", "halted")
    assert operator_client.post("/api/v1/risk/state/", halt, format="json").status_code == 204
    lift = {**halt, "state": "active", "reason": "please"}
    response = trader_client.post("/api/v1/risk/state/", lift, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert TradingStateChange.objects.filter(account=account).count() == 1
    history = trader_client.get("/api/v1/risk/state-changes/").json()["results"]
    assert [(h["to_state"], h["reason"]) for h in history] == [("halted", "limits")]


def test_events_are_scoped_to_the_user(trader_client, operator_client, account, theirs, operator):
    risk.trading_state_set(state="halted", account=account, actor=operator, reason="mine")
    risk.trading_state_set(state="halted", account=theirs, actor=operator, reason="theirs")
    risk.trading_state_set(state="reducing", actor=operator, reason="platform")
    mine = trader_client.get("/api/v1/risk/events/").json()["results"]
    assert {(e["account"], e["kind"]) for e in mine} == {(account.pk, "state"), (None, "state")}
    everything = operator_client.get("/api/v1/risk/events/", {"kind": "state"}).json()
    assert everything["count"] == 3
    only = operator_client.get("/api/v1/risk/events/", {"account": theirs.pk}).json()
    assert [e["message"] for e in only["results"]] == [
        "Account Theirs is now halted (was active): theirs"
    ]
    platform = operator_client.get("/api/v1/risk/events/", {"platform": "true"}).json()
    assert [e["account"] for e in platform["results"]] == [None]
    changes = trader_client.get("/api/v1/risk/state-changes/", {"platform": "true"}).json()
    assert [c["account"] for c in changes["results"]] == [None]


def test_the_rejection_format(account):
    """What the trading API answers once the check is wired in: 409 and the code."""
    from apps.risk.errors import RiskRejected
    from fxsite.api.exceptions import exception_handler

    limits(account, max_order_lots=D("1"))
    with pytest.raises(RiskRejected) as caught:
        risk.pre_trade_check(
            account=account,
            instrument=Instrument.objects.get(symbol="EURUSD"),
            side="buy",
            quantity=D("2"),
            order_type="market",
        )
    response = exception_handler(caught.value, {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "RISK_MAX_ORDER_SIZE"
    assert response.data["error"]["limit"] == "max_order_lots"

"""Operators run risk from the admin: pages render, actions need a reason and
go through the services, limit edits are recorded."""

from decimal import Decimal as D

import pytest

from apps.risk import services as risk
from apps.risk.models import AccountRisk, PlatformRisk, RiskEvent, TradingStateChange
from apps.risk.tests.conftest import hold, limits, working
from apps.trading.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, operator):
    operator.is_staff = True
    operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


@pytest.fixture
def data(account, operator):
    limits(account, max_order_lots=D("3"))
    risk.account_monitor(account.pk)
    risk.trading_state_set(state="reducing", account=account, actor=operator, reason="check")
    return account


@pytest.mark.parametrize("page", ["accountrisk", "platformrisk", "riskevent", "tradingstatechange"])
def test_changelists_render(admin_client, data, page):
    assert admin_client.get(f"/admin/risk/{page}/").status_code == 200


def test_account_page_shows_limits_state_and_history(admin_client, data):
    page = admin_client.get(f"/admin/risk/accountrisk/{data.pk}/change/")
    assert page.status_code == 200
    assert b"max_order_lots" in page.content and b"check" in page.content
    assert admin_client.get("/admin/risk/platformrisk/1/change/").status_code == 200


def action(admin_client, model, name, pk, reason="operator decision"):
    return admin_client.post(
        f"/admin/risk/{model}/",
        {"action": name, "_selected_action": [pk], "reason": reason},
        follow=True,
    )


def test_halt_action_needs_a_reason_and_records_who(admin_client, data, operator):
    response = action(admin_client, "accountrisk", "halt", data.pk, reason="")
    assert b"Give a reason" in response.content
    assert AccountRisk.objects.get(pk=data.pk).state == "reducing"
    action(admin_client, "accountrisk", "halt", data.pk, reason="desk closed")
    change = TradingStateChange.objects.filter(account=data).first()
    assert (change.to_state, change.actor, change.reason) == (
        "halted",
        "user:operator1",
        "desk closed",
    )
    action(admin_client, "accountrisk", "activate", data.pk, reason="desk open")
    assert AccountRisk.objects.get(pk=data.pk).state == "active"


def test_kill_switch_actions(admin_client, data, operator):
    risk.trading_state_set(state="active", account=data, actor=operator, reason="trade again")
    hold(data, "EURUSD", "1.00")
    resting = working(data, "EURUSD", "buy", "0.10")
    assert resting.status == Order.Status.NEW
    action(admin_client, "accountrisk", "kill_switch_flatten", data.pk, reason="runaway")
    resting.refresh_from_db()
    assert resting.status == Order.Status.CANCELLED
    assert Order.objects.filter(account=data, role="close").count() == 1
    admin_client.get("/admin/risk/platformrisk/")  # the single row, created on first visit
    action(admin_client, "platformrisk", "kill_switch", 1, reason="all stop")
    assert PlatformRisk.objects.get().state == "halted"


def test_editing_limits_in_the_admin_is_recorded(admin_client, data):
    url = f"/admin/risk/accountrisk/{data.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    payload = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in AccountRisk.LIMITS
    }
    payload.update(
        {
            "max_order_lots": "4.00",
            "allowed_symbols": "null",
        }
    )
    response = admin_client.post(url, payload)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AccountRisk.objects.get(pk=data.pk).max_order_lots == D("4.00")
    event = RiskEvent.objects.filter(account=data, kind="limits").first()
    assert "max_order_lots 3.00 → 4.00" in event.message and event.actor == "user:operator1"

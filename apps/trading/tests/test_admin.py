"""Operators run trading from the admin: every trading page renders, accounts
can be reconciled, and the order audit trail is read-only."""

from decimal import Decimal as D

import pytest

from apps.marketdata.models import Instrument
from apps.trading import services
from apps.trading.models import Order, Reconciliation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, operator):
    operator.is_staff = True
    operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


@pytest.fixture
def data(trader):
    account = services.account_open(owner=trader, name="Paper", deposit=D("1000"))
    order, _ = services.order_place(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        type="limit",
        quantity=D("0.10"),
        price=D("1.05"),
    )
    services.reconciliation_record(
        account=account, trigger="manual", actions=[{"action": "expired"}], checked={}
    )
    return account, order


@pytest.mark.parametrize(
    "page",
    [
        "tradingaccount",
        "order",
        "fill",
        "position",
        "reconciliation",
        "algoorder",
        "ledgerentry",
    ],
)
def test_changelists_and_details_render(admin_client, data, page):
    assert admin_client.get(f"/admin/trading/{page}/").status_code == 200


@pytest.mark.parametrize("page", ["tradingaccount", "order", "fill", "position", "algoorder"])
def test_an_operator_runs_trading_from_the_admin_without_being_a_superuser(
    client, operator, trader, data, page
):
    _, order = data
    assert operator.is_staff and not operator.is_superuser
    client.force_login(operator)
    assert client.get(f"/admin/trading/{page}/").status_code == 200
    assert b"submitted" in client.get(f"/admin/trading/order/{order.pk}/change/").content
    client.force_login(trader)  # not staff: the admin sends them to its login
    assert client.get(f"/admin/trading/{page}/").status_code == 302


def test_order_page_shows_its_event_history(admin_client, data):
    _, order = data
    page = admin_client.get(f"/admin/trading/order/{order.pk}/change/")
    assert page.status_code == 200
    assert b"submitted" in page.content


def test_reconcile_action_queues_a_reconciliation(
    admin_client, data, django_capture_on_commit_callbacks
):
    account, _ = data
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/admin/trading/tradingaccount/",
            {"action": "reconcile", "_selected_action": [account.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert b"Reconciliation queued" in response.content
    assert len(callbacks) == 1


def test_reconciliation_records_are_read_only(admin_client, data):
    record = Reconciliation.objects.get()
    page = admin_client.get(f"/admin/trading/reconciliation/{record.pk}/change/")
    assert page.status_code == 200
    assert b"expired" in page.content
    assert admin_client.get("/admin/trading/reconciliation/add/").status_code == 403
    assert Order.objects.count() == 1


def test_orders_are_cancelled_from_the_admin_through_the_service(admin_client, data):
    _, order = data
    response = admin_client.post(
        "/admin/trading/order/",
        {"action": "cancel_orders", "_selected_action": [order.pk]},
        follow=True,
    )
    assert b"Cancel sent for 1 order" in response.content
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.events.get(event="cancel").actor.startswith("admin:")
    page = admin_client.get(f"/admin/trading/order/{order.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_algo_orders_are_a_read_only_record(admin_client, data):
    account, _ = data
    from datetime import timedelta

    from django.utils import timezone

    from apps.trading import algos

    now = timezone.now()
    algo, _ = algos.algo_create(
        account=account,
        instrument=Instrument.objects.get(symbol="EURUSD"),
        side="buy",
        strategy="twap",
        quantity=D("0.20"),
        start_at=now + timedelta(hours=1),
        end_at=now + timedelta(hours=2),
        slice_count=2,
    )
    page = admin_client.get(f"/admin/trading/algoorder/{algo.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content

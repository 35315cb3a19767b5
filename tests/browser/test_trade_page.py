"""The trading desk in a real browser against Daphne and a real Celery worker.

A trader with a funded paper account places a market order from the ticket
(double-clicked: one order), sees the fill and the position arrive over
/ws/trading/ and the P&L move with /ws/prices/, closes the position and sees
it gone and the balance updated — all without a reload.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.trading import services as trading
from apps.trading.models import Order
from tests.browser.helpers import (
    TIMEOUT_MS,
    login,
    quote,
    screenshot_on_failure,
    shot,
    text,
    wait_text,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_trader_places_a_market_order_sees_fill_and_position_live_then_closes_it(
    page, daphne_server, celery_worker
):
    page.set_default_timeout(TIMEOUT_MS)
    trader = UserFactory(username="desk-trader", roles=["trader"], timezone="Europe/London")
    account = trading.account_open(owner=trader, name="Paper desk", deposit=Decimal("100000"))
    quote("1.10000", "1.10010")

    with screenshot_on_failure(page, "trade-page"):
        login(page, daphne_server.base_url, "desk-trader")
        page.click('[data-testid="nav-trading"]')
        page.wait_for_url("**/trade")
        # Marks this document: a reload would lose it.
        page.evaluate("window.__deskLoaded = true")

        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        page.wait_for_selector('[data-testid="prices-connection"][data-state="open"]')
        wait_text(page, "account-balance", "100,000.00")
        assert page.input_value('[data-testid="ticket-symbol"]') == "EURUSD"
        wait_text(page, "ticket-ask", "1.10010")
        assert text(page, "ticket-bid") == "1.10000"

        # Enter without a side: the ticket says what is missing, nothing is sent.
        page.fill('[data-testid="ticket-quantity"]', "1.00")
        page.press('[data-testid="ticket-quantity"]', "Enter")
        assert "Choose buy or sell" in text(page, "ticket-side-error")
        assert Order.objects.filter(account=account).count() == 0
        shot(page, "trade-0-ticket-needs-a-side")

        page.click('[data-testid="ticket-side-buy"]')
        assert text(page, "ticket-submit") == "Buy 1.00 EURUSD at market"
        page.dblclick('[data-testid="ticket-submit"]')

        page.wait_for_selector('[data-testid="ticket-result"][data-status="filled"]')
        row = page.wait_for_selector('[data-testid^="position-row-"]')
        position_id = row.get_attribute("data-testid").rsplit("-", 1)[1]
        assert row.get_attribute("data-symbol") == "EURUSD"
        assert text(page, f"position-quantity-{position_id}") == "1.00"
        # One order for the double click.
        orders = list(Order.objects.filter(account=account))
        assert len(orders) == 1 and orders[0].source == "ui"
        assert orders[0].client_order_id.startswith("ui-")

        # The fill, bought at the ask.
        page.click('[data-testid="blotter-tab-fills"]')
        fill = page.wait_for_selector('[data-testid^="fill-row-"]')
        fill_id = fill.get_attribute("data-testid").rsplit("-", 1)[1]
        assert text(page, f"fill-price-{fill_id}") == "1.10010"

        page.click('[data-testid="blotter-tab-history"]')
        page.wait_for_selector(f'[data-testid="history-row-{orders[0].pk}"][data-status="filled"]')

        # The market moves: the position's P&L follows the live price.
        page.click('[data-testid="blotter-tab-positions"]')
        quote("1.10110", "1.10120")
        wait_text(page, "ticket-bid", "1.10110")
        # 1 lot × 100,000 × (1.10110 − 1.10010) = 100 USD
        wait_text(page, f"position-pnl-{position_id}", "100.00")
        wait_text(page, "account-equity", "100,100.00")  # equity follows the price too
        # Margin as the server computes it: 100,000 EUR / 30 at the EURUSD mid 1.10115.
        wait_text(page, "account-margin", "3,670.50")
        shot(page, "trade-1-position-open")

        page.click(f'[data-testid="position-close-{position_id}"]')
        page.wait_for_selector('[data-testid="positions-empty"]')
        wait_text(page, "account-balance", "100,100.00")
        wait_text(page, "account-margin", "0.00")
        wait_text(page, "blotter-count-positions", "0")
        shot(page, "trade-2-position-closed")

        page.click('[data-testid="blotter-tab-fills"]')
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid^=\"fill-row-\"]').length === 2"
        )
        shot(page, "trade-3-fills")

        assert page.evaluate("window.__deskLoaded") is True  # never reloaded
    account.refresh_from_db()
    assert account.balance == Decimal("100100")


def test_viewer_sees_the_desk_without_trading_actions(page, daphne_server):
    page.set_default_timeout(TIMEOUT_MS)
    viewer = UserFactory(username="desk-viewer", roles=["viewer"])
    trading.account_open(owner=viewer, name="Watching", deposit=Decimal("5000"))

    with screenshot_on_failure(page, "trade-viewer"):
        login(page, daphne_server.base_url, "desk-viewer")
        page.goto(f"{daphne_server.base_url}/trade")
        wait_text(page, "account-balance", "5,000.00")
        assert "cannot trade" in text(page, "ticket-readonly")
        assert page.query_selector('[data-testid="order-ticket"]') is None
        assert page.query_selector('[data-testid="ticket-submit"]') is None
        page.wait_for_selector('[data-testid="positions-empty"]')
        assert page.query_selector('[data-testid="positions-close-all"]') is None
        shot(page, "trade-viewer")

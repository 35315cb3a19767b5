"""The risk page in a real browser against Daphne and a real Celery worker.

An operator with a paper account opens /risk, sees every limit with its use,
sets a small max order size (a bad value first: the server's error shows
next to the field), pulls the kill switch through its confirmation dialog
and sees the account become HALTED and the risk events arrive over
/ws/trading/; a state change made elsewhere arrives the same way — all
without a reload. A trader sees the limits read-only and no kill switch.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.risk import services as risk
from apps.risk.models import AccountRisk, RiskEvent, TradingState
from apps.trading import services as trading
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


def _top(page) -> None:
    """Scroll the page's main area back to the top (the state and the limits)."""
    page.evaluate("document.querySelector('.shell-main')?.scrollTo(0, 0)")


def _event_row(page, kind: str, contains: str):
    """Wait for a risk event row of ``kind`` whose message contains ``contains``."""
    return page.wait_for_selector(
        f'[data-testid="risk-events-table"] tr[data-kind="{kind}"]:has-text("{contains}")'
    )


def test_operator_sets_a_limit_and_pulls_the_kill_switch_live(page, daphne_server, celery_worker):
    page.set_default_timeout(TIMEOUT_MS)
    operator = UserFactory(username="risk-operator", roles=["operator"], timezone="Europe/London")
    account = trading.account_open(owner=operator, name="Risk desk", deposit=Decimal("100000"))
    quote("1.10000", "1.10010")

    with screenshot_on_failure(page, "risk-page"):
        login(page, daphne_server.base_url, "risk-operator")
        page.click('[data-testid="nav-risk"]')
        page.wait_for_url("**/risk")
        page.evaluate("window.__riskLoaded = true")  # a reload would lose it

        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        page.wait_for_selector('[data-testid="risk-limits-table"]')
        wait_text(page, "risk-state", "ACTIVE")
        for name in ("max_order_lots", "max_position_lots", "max_open_orders", "max_daily_loss"):
            assert page.query_selector(f'[data-testid="limit-row-{name}"]') is not None
        # Numbers are right-aligned.
        align = page.eval_on_selector(
            '[data-testid="limit-current-max_open_orders"]', "el => getComputedStyle(el).textAlign"
        )
        assert align == "right"
        wait_text(page, "limit-current-max_open_orders", "0")
        page.wait_for_selector('[data-testid="kill-switch"]')
        page.wait_for_selector('[data-testid="limits-editor"]')
        _top(page)
        shot(page, "risk-0-limits")

        # A bad value: the server's message shows next to the field, nothing changes.
        page.fill('[data-testid="limits-input-max_order_lots"]', "-1")
        page.click('[data-testid="limits-save"]')
        page.wait_for_selector('[data-testid="limits-error-max_order_lots"]')
        assert "positive" in text(page, "limits-error-max_order_lots")
        assert (
            page.get_attribute('[data-testid="limits-input-max_order_lots"]', "aria-invalid")
            == "true"
        )
        shot(page, "risk-1-limit-error")

        page.fill('[data-testid="limits-input-max_order_lots"]', "0.05")
        assert page.query_selector('[data-testid="limits-error-max_order_lots"]') is None
        page.click('[data-testid="limits-save"]')
        wait_text(page, "limits-saved", "Saved 1 limit.")
        wait_text(page, "limit-value-max_order_lots", "0.05")
        _event_row(page, "limits", "max_order_lots")
        assert AccountRisk.objects.get(account=account).max_order_lots == Decimal("0.05")
        shot(page, "risk-2-limit-saved")

        # The kill switch: nothing happens before the phrase is typed.
        page.fill('[data-testid="kill-reason"]', "Browser test: runaway strategy")
        page.click('[data-testid="kill-arm"]')
        page.wait_for_selector('[data-testid="kill-confirm-dialog"]')
        assert page.is_disabled('[data-testid="kill-confirm"]')
        page.fill('[data-testid="kill-confirm-input"]', "HALT")
        assert page.is_enabled('[data-testid="kill-confirm"]')
        shot(page, "risk-3-kill-confirm")
        assert not RiskEvent.objects.filter(kind=RiskEvent.Kind.KILL_SWITCH).exists()
        page.click('[data-testid="kill-confirm"]')

        page.wait_for_selector('[data-testid="kill-result"]')
        assert "Account Risk desk halted" in text(page, "kill-result")
        assert page.query_selector('[data-testid="kill-confirm-dialog"]') is None
        wait_text(page, "risk-state", "HALTED")
        wait_text(page, "risk-state-reason", "Browser test: runaway strategy")
        wait_text(page, "risk-state-actor", "risk-operator")
        _event_row(page, "kill_switch", "Kill switch on account Risk desk")
        _event_row(page, "state", "is now halted")
        page.wait_for_selector('[data-testid="state-history"] tr:has-text("runaway strategy")')
        _top(page)
        shot(page, "risk-4-halted")
        assert AccountRisk.objects.get(account=account).state == TradingState.HALTED

        # Lifted elsewhere (the admin, another operator): the push brings it here.
        risk.trading_state_set(
            state=TradingState.ACTIVE,
            account=account,
            actor=operator,
            reason="Back office: resumed",
        )
        _event_row(page, "state", "Back office: resumed")
        wait_text(page, "risk-state", "ACTIVE")
        wait_text(page, "risk-state-reason", "Back office: resumed")
        page.wait_for_selector('[data-testid="state-history"] tr:has-text("Back office: resumed")')
        _top(page)
        shot(page, "risk-5-resumed-live")

        assert page.evaluate("window.__riskLoaded") is True  # never reloaded


def test_trader_sees_limits_read_only_and_no_kill_switch(page, daphne_server):
    page.set_default_timeout(TIMEOUT_MS)
    trader = UserFactory(username="risk-trader", roles=["trader"])
    trading.account_open(owner=trader, name="Trader paper", deposit=Decimal("5000"))

    with screenshot_on_failure(page, "risk-trader"):
        login(page, daphne_server.base_url, "risk-trader")
        page.goto(f"{daphne_server.base_url}/risk")
        page.wait_for_selector('[data-testid="risk-limits-table"]')
        wait_text(page, "risk-state", "ACTIVE")
        page.wait_for_selector('[data-testid="risk-readonly"]')
        assert page.query_selector('[data-testid="kill-switch"]') is None
        assert page.query_selector('[data-testid="kill-arm"]') is None
        assert page.query_selector('[data-testid="limits-editor"]') is None
        assert page.query_selector('[data-testid="state-control"]') is None
        _top(page)
        shot(page, "risk-trader")

"""The deployments page in a real browser against Daphne and a real Celery
worker (which runs the replay task).

A trader with a paper account opens /deployments with a year of stored
EURUSD H1 bars and deploys the SMA crossover as a replay of that year. A
live account is refused for a replay next to the account input (the server
says so); on the paper account the replay starts: its progress bar, its
orders (newest first) and its P&L come in over /ws/trading/ without a
reload. It is paused and started again, then stopped with its position
closed after a confirmation; its P&L is the server's, from its own fills.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

import re
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.strategies.models import Deployment
from apps.strategies.selectors import deployment_performance
from apps.trading import services as trading
from apps.trading.models import Order
from tests.browser.helpers import TIMEOUT_MS, login, screenshot_on_failure, shot, text
from tests.browser.test_backtests_page import _store_last_year

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TIMEOUT_MS = 120_000

# Records what the detail shows while the replay runs (a reload would lose it).
WATCH = """
() => {
  window.__depSeen = {statuses: [], percents: [], orders: 0, fills: 0};
  const note = () => {
    const panel = document.querySelector('[data-testid="dep-detail"]');
    if (!panel) return;
    const seen = window.__depSeen;
    if (seen.statuses.at(-1) !== panel.dataset.status) seen.statuses.push(panel.dataset.status);
    const bar = document.querySelector('[data-testid="dep-progress"]');
    if (bar && seen.percents.at(-1) !== bar.dataset.percent) seen.percents.push(bar.dataset.percent);
    seen.orders = Math.max(seen.orders, document.querySelectorAll('[data-testid="dep-order-row"]').length);
    const fills = Number(document.querySelector('[data-testid="dep-fills"]')?.textContent);
    if (Number.isFinite(fills)) seen.fills = Math.max(seen.fills, fills);
  };
  new MutationObserver(note).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""


def test_a_trader_replays_a_strategy_on_a_paper_account_and_stops_it(
    page, daphne_server, celery_worker
):
    page.set_default_timeout(TIMEOUT_MS)
    trader = UserFactory(username="dep-trader", roles=["trader"], timezone="Europe/London")
    paper = trading.account_open(owner=trader, name="Paper replay", deposit=Decimal("100000"))
    live = trading.account_open(
        owner=trader, name="Live MT5", deposit=Decimal("100000"), broker="mt5"
    )
    _store_last_year()

    with screenshot_on_failure(page, "deployments-page"):
        login(page, daphne_server.base_url, "dep-trader")
        page.click('[data-testid="nav-deployments"]')
        page.wait_for_url("**/deployments")
        page.evaluate("window.__depLoaded = true")  # a reload would lose it
        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        page.wait_for_selector('[data-testid="dep-list-empty"]')

        page.select_option('[data-testid="dep-strategy"]', "sma_cross")
        page.fill('[data-testid="dep-param-fast"]', "5")
        page.fill('[data-testid="dep-param-slow"]', "20")
        assert page.input_value('[data-testid="dep-input-mode"]') == "replay"
        assert page.input_value('[data-testid="dep-input-symbol"]') == "EURUSD"
        start = page.evaluate("new Date(Date.now() - 364 * 86400000).toISOString().slice(0, 10)")
        page.fill('[data-testid="dep-input-start"]', start)

        # A replay on a live (MT5) account: the server's message shows next to the account.
        page.select_option('[data-testid="dep-input-account"]', str(live.pk))
        page.click('[data-testid="dep-submit"]')
        page.wait_for_selector('[data-testid="dep-error-account"]')
        assert "paper" in text(page, "dep-error-account")
        assert Deployment.objects.count() == 0
        shot(page, "deployments-0-account-error")

        page.select_option('[data-testid="dep-input-account"]', str(paper.pk))
        assert page.query_selector('[data-testid="dep-error-account"]') is None
        page.evaluate(WATCH)
        page.click('[data-testid="dep-submit"]')
        page.wait_for_url(re.compile(r".*/deployments/\d+$"))
        dep_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        page.wait_for_selector('[data-testid="dep-detail"]')
        page.wait_for_selector(f'[data-testid="dep-row-{dep_id}"]')

        # Progress, orders and P&L arrive while it runs.
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=\"dep-progress\"]')?.dataset.percent) > 0",
            timeout=RUN_TIMEOUT_MS,
        )
        page.wait_for_selector('[data-testid="dep-order-row"]', timeout=RUN_TIMEOUT_MS)
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=\"dep-fills\"]')?.textContent) > 0",
            timeout=RUN_TIMEOUT_MS,
        )
        shot(page, "deployments-1-running")

        # Pause, then start again.
        page.click('[data-testid="dep-pause"]')
        page.wait_for_selector('[data-testid="dep-detail"][data-status="paused"]')
        assert Deployment.objects.get(pk=dep_id).status == "paused"
        page.click('[data-testid="dep-resume"]')
        page.wait_for_selector('[data-testid="dep-detail"][data-status="running"]')

        # Stop, closing the position, after a confirmation.
        page.click('[data-testid="dep-stop"]')
        page.wait_for_selector('[data-testid="dep-stop-confirm"]')
        page.check('[data-testid="dep-stop-close"]')
        shot(page, "deployments-2-stop-confirm")
        page.click('[data-testid="dep-stop-confirm-button"]')
        page.wait_for_selector('[data-testid="dep-detail"][data-status="stopped"]')
        page.wait_for_selector(f'[data-testid="dep-row-status-{dep_id}"][data-status="stopped"]')
        assert page.query_selector('[data-testid="dep-pause"]') is None
        assert page.query_selector('[data-testid="dep-stop"]') is None

        row = Deployment.objects.get(pk=dep_id)
        assert row.status == "stopped" and row.mode == "replay" and row.account_id == paper.pk
        assert 0 < row.progress < 1
        orders = Order.objects.filter(source_ref=f"deployment:{dep_id}")
        # The page lists them all, newest first, once the last pushes are in.
        page.wait_for_function(
            "n => document.querySelector('[data-testid=\"dep-orders-count\"]')?.textContent.trim() === String(n)",
            arg=orders.count(),
        )
        first = page.query_selector('[data-testid="dep-order-row"] td').inner_text().strip()
        assert int(first) == orders.order_by("-created_at", "-id").first().pk
        # Its P&L as the server computes it from its own fills.
        perf = deployment_performance(row)
        page.wait_for_function(
            "n => document.querySelector('[data-testid=\"dep-fills\"]')?.textContent.trim() === String(n)",
            arg=perf["fills"],
        )
        assert text(page, "dep-pnl-realized_pnl") == f"{Decimal(perf['realized_pnl']):,.2f}"
        # The position was closed for the account by a strategy order.
        closing = Order.objects.filter(account=paper).latest("id")
        assert closing.source == "strategy" and closing.quantity == Decimal("0.1")
        align = page.eval_on_selector(
            '[data-testid="dep-pnl-net_pnl"]', "el => getComputedStyle(el).textAlign"
        )
        assert align == "right"
        assert page.evaluate("window.__depLoaded") is True  # no reload
        seen = page.evaluate("window.__depSeen")
        assert seen["statuses"][0] == "running" and seen["statuses"][-1] == "stopped", seen
        assert len(seen["percents"]) > 1, seen  # the bar moved while it ran
        assert seen["orders"] > 0 and seen["fills"] > 0, seen
        page.wait_for_selector('[data-testid="dep-trades"] [data-testid="bt-trade-row"]')
        page.evaluate("document.querySelector('.shell-main')?.scrollTo(0, 0)")
        shot(page, "deployments-3-stopped")

"""The optimisations page in a real browser against Daphne and a real Celery
worker (trials are Celery chords on the ``backtests`` queue).

A trader opens /optimisations with a year of stored EURUSD H1 bars, sets the
SMA crossover's two periods to ranges and asks for a grid with walk-forward
windows. A range whose max is below its min comes back as a field error
next to that input. Then the search runs: the progress, the trials table,
the heatmap of the objective over the two periods and the windows table
fill in over /ws/trading/ without a reload; once done, the stitched
out-of-sample equity and the overall degradation show, the trials sort on
the server, and "Backtest the best parameters" opens the backtests form
filled with the winners.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

import re

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.strategies.models import Optimisation, Trial
from tests.browser.helpers import TIMEOUT_MS, login, screenshot_on_failure, shot, text
from tests.browser.test_backtests_page import _store_last_year

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TIMEOUT_MS = 180_000

# Records what the page shows while the search runs (a reload would lose it).
WATCH = """
() => {
  window.__optSeen = {statuses: [], trialsWhileRunning: 0, cellsWhileRunning: 0, windowsWhileRunning: 0};
  const note = () => {
    const panel = document.querySelector('[data-testid="opt-result"]');
    if (!panel) return;
    const seen = window.__optSeen;
    const status = panel.dataset.status;
    if (seen.statuses.at(-1) !== status) seen.statuses.push(status);
    if (status === 'running') {
      seen.trialsWhileRunning = Math.max(seen.trialsWhileRunning,
        document.querySelectorAll('[data-testid="opt-trial-row"][data-status="done"], [data-testid="opt-trial-row"][data-status="invalid"]').length);
      seen.cellsWhileRunning = Math.max(seen.cellsWhileRunning,
        document.querySelectorAll('[data-testid="opt-heatmap-cell"]').length);
      seen.windowsWhileRunning = Math.max(seen.windowsWhileRunning,
        [...document.querySelectorAll('[data-testid="opt-window-is"]')].filter((c) => c.textContent.trim() !== '—').length);
    }
  };
  new MutationObserver(note).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""


def _range(page, name: str, low: str, high: str, step: str) -> None:
    page.click(f'[data-testid="opt-mode-{name}-range"]')
    page.fill(f'[data-testid="opt-input-space.{name}.min"]', low)
    page.fill(f'[data-testid="opt-input-space.{name}.max"]', high)
    page.fill(f'[data-testid="opt-input-space.{name}.step"]', step)


def test_a_trader_runs_a_walk_forward_grid_and_sees_it_live(page, daphne_server, celery_worker):
    page.set_default_timeout(TIMEOUT_MS)
    UserFactory(username="opt-trader", roles=["trader"], timezone="Europe/London")
    _store_last_year()

    with screenshot_on_failure(page, "optimisations-page"):
        login(page, daphne_server.base_url, "opt-trader")
        page.click('[data-testid="nav-optimisations"]')
        page.wait_for_url("**/optimisations")
        page.evaluate("window.__optLoaded = true")  # a reload would lose it
        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        page.wait_for_selector('[data-testid="opt-list-empty"]')

        page.select_option('[data-testid="opt-strategy"]', "sma_cross")
        page.wait_for_selector('[data-testid="opt-param-row-fast"]')
        # A range upside down: the server's message shows next to its max.
        _range(page, "fast", "15", "5", "5")
        _range(page, "slow", "30", "50", "10")
        page.check('[data-testid="opt-input-walk_forward"]')
        page.fill('[data-testid="opt-input-walk_forward.in_sample_days"]', "120")
        page.fill('[data-testid="opt-input-walk_forward.out_of_sample_days"]', "60")
        page.fill('[data-testid="opt-input-min_trades"]', "1")
        page.click('[data-testid="opt-run"]')
        page.wait_for_selector('[data-testid="opt-error-space.fast.max"]')
        assert "below min" in text(page, "opt-error-space.fast.max")
        assert Optimisation.objects.count() == 0
        shot(page, "optimisations-0-field-error")

        # Fixed: a 3 × 3 grid on four 120/60-day windows.
        page.fill('[data-testid="opt-input-space.fast.min"]', "5")
        assert page.query_selector('[data-testid="opt-error-space.fast.max"]') is None
        page.fill('[data-testid="opt-input-space.fast.max"]', "15")
        assert page.input_value('[data-testid="opt-input-trials"]') == "9"
        page.evaluate(WATCH)
        page.click('[data-testid="opt-run"]')
        page.wait_for_url(re.compile(r".*/optimisations/\d+$"))
        opt_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        page.wait_for_selector('[data-testid="opt-result"]')
        page.wait_for_selector('[data-testid="opt-heatmap-cell"]', timeout=RUN_TIMEOUT_MS)
        page.wait_for_selector('[data-testid="opt-trial-row"]')
        shot(page, "optimisations-1-running")

        page.wait_for_selector(
            '[data-testid="opt-result"][data-status="done"] [data-testid="opt-best"]',
            timeout=RUN_TIMEOUT_MS,
        )
        page.wait_for_selector('[data-testid="opt-wf-summary"]')
        page.wait_for_selector('[data-testid="opt-stitched-chart"] canvas')
        assert page.evaluate("window.__optLoaded") is True  # no reload
        seen = page.evaluate("window.__optSeen")
        assert seen["statuses"][-1] == "done", seen
        assert "running" in seen["statuses"], seen
        # Trials, heatmap cells and window winners appeared while it ran.
        assert seen["trialsWhileRunning"] > 0, seen
        assert seen["cellsWhileRunning"] > 0, seen
        assert seen["windowsWhileRunning"] > 0, seen

        row = Optimisation.objects.get(pk=opt_id)
        assert row.status == "done" and row.walk_forward["in_sample_days"] == 120
        assert set(row.space) == {"fast", "slow"}
        windows = row.result["windows"]
        assert len(windows) == 4
        assert len(page.query_selector_all('[data-testid="opt-window-row"]')) == 4
        # The heatmap: 3 × 3 cells of the first window, every one tried.
        grid = page.query_selector('[data-testid="opt-heatmap-grid"]')
        assert grid.get_attribute("data-cols") == "3" and grid.get_attribute("data-rows") == "3"
        cells = page.query_selector_all('[data-testid="opt-heatmap-cell"]')
        assert len(cells) == 9
        states = {c.get_attribute("data-state") for c in cells}
        assert states <= {"done", "invalid"}, states
        # The best value and parameters as the server has them.
        assert text(page, "opt-best-fast") == str(row.best_params["fast"])
        assert text(page, "opt-best-slow") == str(row.best_params["slow"])
        assert text(page, "opt-best-value") == f"{row.best_value:,.2f}"
        total = Trial.objects.filter(optimisation=row).count()
        assert text(page, "opt-trials-count") == str(total)
        page.evaluate("document.querySelector('.shell-main')?.scrollTo(0, 0)")
        shot(page, "optimisations-2-done")

        # Sorted by the server: by number ascending, then by value (best first).
        page.click('[data-testid="opt-trials-sort-number"]')
        page.wait_for_function(
            """() => {
              const cells = [...document.querySelectorAll('[data-testid="opt-trial-row"] td:first-child')];
              return cells.length > 1 && cells.every((c, i) => i === 0 || Number(c.textContent) >= Number(cells[i - 1].textContent));
            }"""
        )
        page.click('[data-testid="opt-trials-sort-number"]')  # descending
        best = (
            Trial.objects.filter(optimisation=row, value__isnull=False)
            .order_by("-value", "number")
            .first()
        )
        page.click('[data-testid="opt-trials-sort-value"]')
        page.wait_for_function(
            "v => document.querySelector('[data-testid=\"opt-trial-value\"]')?.textContent.trim() === v",
            arg=f"{best.value:,.2f}",
        )
        page.evaluate("document.querySelector('.shell-main')?.scrollTo(0, 10000)")
        shot(page, "optimisations-3-trials-and-windows")

        # The winners go to the backtests form.
        page.click('[data-testid="opt-backtest-best"]')
        page.wait_for_url("**/backtests")
        page.wait_for_selector('[data-testid="bt-param-fast"]')
        assert page.input_value('[data-testid="bt-param-fast"]') == str(row.best_params["fast"])
        assert page.input_value('[data-testid="bt-param-slow"]') == str(row.best_params["slow"])
        assert page.input_value('[data-testid="bt-input-start"]') == row.start.date().isoformat()
        shot(page, "optimisations-4-backtest-the-best")

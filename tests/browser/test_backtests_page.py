"""The backtests page in a real browser against Daphne and a real Celery worker
(which consumes the ``backtests`` queue).

A trader opens /backtests with a year of stored EURUSD H1 bars, picks the SMA
crossover, first sends a bad pair of periods (fast ≥ slow: the server's
message shows next to the fast period), then runs it: the progress bar
follows the run over /ws/trading/, and the metrics, the equity curve's
canvas, the monthly returns and the trades appear without a reload, the URL
naming the backtest.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

import re
import time

import numpy as np
import pytest

from apps.accounts.tests.factories import UserFactory
from apps.marketdata.batches import BarBatch
from apps.marketdata.models import DataSource, Instrument
from apps.marketdata.services.ingest import bars_ingest
from apps.strategies.models import Backtest
from apps.strategies.tests.helpers import HOUR_US, walk
from tests.browser.helpers import TIMEOUT_MS, login, screenshot_on_failure, shot, text

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TIMEOUT_MS = 120_000


def _store_last_year(symbol: str = "EURUSD", seed: int = 11) -> int:
    """A year of H1 bars ending at the last full hour (the form's default period)."""
    n = 365 * 24
    a = walk(n, seed=seed)
    last = (time.time_ns() // 1000 // HOUR_US - 1) * HOUR_US
    a["time_us"] = last - (n - 1 - np.arange(n, dtype=np.int64)) * HOUR_US
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
    return n


# Records every status and progress label the result panel shows (a reload would lose it).
WATCH_RESULT = """
() => {
  window.__btSeen = [];
  const note = () => {
    const panel = document.querySelector('[data-testid="bt-result"]');
    if (!panel) return;
    const label = panel.querySelector('[data-testid="bt-progress-label"]');
    const entry = panel.dataset.status + (label ? ' ' + label.textContent : '');
    if (window.__btSeen.at(-1) !== entry) window.__btSeen.push(entry);
  };
  new MutationObserver(note).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""


def test_a_trader_runs_a_backtest_and_sees_it_live(page, daphne_server, celery_worker):
    page.set_default_timeout(TIMEOUT_MS)
    UserFactory(username="bt-trader", roles=["trader"], timezone="Europe/London")
    _store_last_year()

    with screenshot_on_failure(page, "backtests-page"):
        login(page, daphne_server.base_url, "bt-trader")
        page.click('[data-testid="nav-backtests"]')
        page.wait_for_url("**/backtests")
        page.evaluate("window.__btLoaded = true")  # a reload would lose it
        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        page.wait_for_selector('[data-testid="bt-list-empty"]')

        # The form is generated from the strategy's schema.
        page.select_option('[data-testid="bt-strategy"]', "sma_cross")
        fast = '[data-testid="bt-param-fast"]'
        page.wait_for_selector(fast)
        assert page.get_attribute(fast, "min") == "2"
        assert page.get_attribute(fast, "max") == "1000"
        assert page.get_attribute(fast, "value") == "10"
        assert "Fast" in (page.get_attribute(fast, "title") or "")
        assert page.input_value('[data-testid="bt-input-symbol"]') == "EURUSD"
        shot(page, "backtests-0-form")

        # A bad pair of periods: the server's message shows next to the fast period.
        page.fill(fast, "30")
        page.fill('[data-testid="bt-param-slow"]', "20")
        page.click('[data-testid="bt-run"]')
        page.wait_for_selector('[data-testid="bt-error-params.fast"]')
        assert "smaller than slow" in text(page, "bt-error-params.fast")
        assert page.get_attribute(fast, "aria-invalid") == "true"
        assert Backtest.objects.count() == 0
        shot(page, "backtests-1-param-error")

        # Typing clears the message; a bar-by-bar run (a stop is set) shows its progress.
        page.fill(fast, "12")
        assert page.query_selector('[data-testid="bt-error-params.fast"]') is None
        page.fill('[data-testid="bt-param-slow"]', "48")
        page.fill('[data-testid="bt-param-stop_pips"]', "40")
        page.evaluate(WATCH_RESULT)
        page.click('[data-testid="bt-run"]')
        # A short run can be over before a selector wait sees its progress bar;
        # WATCH_RESULT records every state the panel showed (checked below).
        page.wait_for_url(re.compile(r".*/backtests/\d+$"))
        backtest_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        shot(page, "backtests-2-progress")

        page.wait_for_selector(
            '[data-testid="bt-result"][data-status="done"] [data-testid="bt-metrics"]',
            timeout=RUN_TIMEOUT_MS,
        )
        page.wait_for_selector('[data-testid="bt-equity-chart"] canvas')
        assert page.evaluate("window.__btLoaded") is True  # no reload

        seen = page.evaluate("window.__btSeen")
        statuses = [entry.split(" ", 1)[0] for entry in seen]
        assert statuses[-1] == "done", seen
        assert "running" in statuses, seen  # pushed by the worker while it ran
        # The progress bar and its label showed while it ran.
        assert any(re.fullmatch(r"running Running \d+%", entry) for entry in seen), seen

        row = Backtest.objects.get(pk=backtest_id)
        assert row.status == "done" and row.params["fast"] == 12 and row.params["slow"] == 48
        assert row.path_used == "bar"
        metrics = row.metrics
        assert text(page, "bt-metric-trades") == f"{metrics['trades']:,}"
        total = text(page, "bt-metric-total_return")
        assert total == f"{metrics['total_return'] * 100:,.2f}%"
        align = page.eval_on_selector(
            '[data-testid="bt-metric-total_return"]', "el => getComputedStyle(el).textAlign"
        )
        assert align == "right"

        # The monthly returns, the trades and the list's row, all without a reload.
        page.wait_for_selector('[data-testid="bt-monthly"] tbody tr')
        assert len(page.query_selector_all('[data-testid="bt-trade-row"]')) == min(
            metrics["trades"], 50
        )
        page.wait_for_selector(f'[data-testid="bt-row-status-{backtest_id}"][data-status="done"]')
        page.wait_for_selector('[data-testid="bt-report"]')
        shot(page, "backtests-3-done")

        # Sorting the trades by net P&L puts the best first.
        page.click('[data-testid="bt-trades-sort-net_pnl"]')
        best = max(row.trades["net_pnl"])
        first = page.inner_text('[data-testid="bt-trade-row"] >> nth=0')
        assert f"{best:,.2f}" in first
        page.evaluate("document.querySelector('.shell-main')?.scrollTo(0, 10000)")
        shot(page, "backtests-4-trades")

        # The HTML report opens in a new tab (fetched with the session's token).
        with page.context.expect_page() as opened:
            page.click('[data-testid="bt-report"]')
        report = opened.value
        report.wait_for_function("document.querySelector('svg') !== null", timeout=TIMEOUT_MS)
        assert report.url.startswith("blob:")
        report.close()

        # The URL names the backtest: opening it again shows the same results.
        page.goto(f"{daphne_server.base_url}/backtests/{backtest_id}")
        page.wait_for_selector(
            '[data-testid="bt-result"][data-status="done"] [data-testid="bt-metrics"]'
        )
        page.wait_for_selector('[data-testid="bt-equity-chart"] canvas')
        assert text(page, "bt-metric-total_return") == total

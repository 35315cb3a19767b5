"""The data page in a real browser against Daphne and a real Celery worker.

A trader uploads a small MT5 bar export with two bad rows: the import runs on
the worker, its progress comes over /ws/prices/, and the counts, the
rejections by reason and the rejected rows (line, reason, message, raw
text) appear without a reload. An operator stops and starts a data source
(the runner really runs on the worker); a trader sees no such controls.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.marketdata.models import Bar, DataSource, IngestionRun, Instrument
from tests.browser.helpers import TIMEOUT_MS, login, screenshot_on_failure, shot, text, wait_text

pytestmark = pytest.mark.django_db(transaction=True)

RUN_TIMEOUT_MS = 90_000
ROWS = 30
BAD_NUMBER_LINE = 6  # 1-based file lines: the header is line 1
BAD_OHLC_LINE = 12


def _mt5_m1_file(path: Path) -> Path:
    """An MT5 M1 bar export (tab-separated, <DATE> <TIME> ...) of a Tuesday
    morning with a non-number at one line and high < low at another."""
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    start = datetime(2024, 1, 2, 10, 0)
    price = 1.10400
    for i in range(ROWS):
        t = start + timedelta(minutes=i)
        o, c = price, price + (0.00003 if i % 2 else -0.00002)
        h, low = max(o, c) + 0.00005, min(o, c) - 0.00005
        line_no = len(lines) + 1
        high = f"{h:.5f}"
        low_s = f"{low:.5f}"
        if line_no == BAD_NUMBER_LINE:
            high = "1.10x17"
        if line_no == BAD_OHLC_LINE:
            high, low_s = low_s, high  # high below low
        lines.append(
            f"{t:%Y.%m.%d}\t{t:%H:%M:%S}\t{o:.5f}\t{high}\t{low_s}\t{c:.5f}\t{20 + i}\t0\t6"
        )
        price = c
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_trader_imports_a_bar_file_and_sees_counts_and_rejected_rows(
    page, daphne_server, celery_worker, tmp_path
):
    page.set_default_timeout(TIMEOUT_MS)
    UserFactory(username="data-trader", roles=["trader"], timezone="Europe/London")
    upload = _mt5_m1_file(tmp_path / "EURUSD_M1_sample.csv")

    with screenshot_on_failure(page, "data-import"):
        login(page, daphne_server.base_url, "data-trader")
        page.click('[data-testid="nav-data"]')
        page.wait_for_url("**/data")
        page.evaluate("window.__dataLoaded = true")  # a reload would lose it
        page.wait_for_selector('[data-testid="imports-empty"]')
        # Traders see the sources but cannot start or stop them.
        page.wait_for_selector('[data-testid="sources-card"] table')
        assert (
            page.query_selector('[data-testid^="source-start-"], [data-testid^="source-stop-"]')
            is None
        )

        # A bar file without its timeframe: the server says so next to the field.
        page.set_input_files('[data-testid="import-file"]', str(upload))
        page.select_option('[data-testid="import-symbol"]', "EURUSD")
        page.click('[data-testid="import-submit"]')
        page.wait_for_selector('[data-testid="imp-error-timeframe"]')
        assert IngestionRun.objects.filter(kind="import").count() == 0

        page.select_option('[data-testid="import-timeframe"]', "M1")
        page.select_option('[data-testid="import-format"]', "mt5")
        page.click('[data-testid="import-submit"]')
        page.wait_for_selector('[data-testid="import-detail"]')
        run = IngestionRun.objects.get(kind="import")
        page.wait_for_url(f"**/data?import={run.pk}")
        # Queued or running: the progress bar shows; it may already be done on a fast
        # worker. Status and bar are read at once: the run may finish between two reads.
        status, has_bar = page.evaluate(
            """() => [
                document.querySelector('[data-testid="import-detail"]').dataset.status,
                document.querySelector('[data-testid="import-progress"]') !== null,
            ]"""
        )
        assert status in ("queued", "running", "completed")
        assert has_bar == (status != "completed")
        if status != "completed":
            shot(page, "data-0-import-progress")
        page.wait_for_selector(
            '[data-testid="import-detail"][data-status="completed"]', timeout=RUN_TIMEOUT_MS
        )
        assert page.query_selector('[data-testid="import-progress"]') is None

        wait_text(page, "import-accepted", str(ROWS - 2))
        assert text(page, "import-rejected") == "2"
        assert text(page, "import-duplicates") == "0"
        page.wait_for_selector('[data-testid="import-reason-bad_number"][data-count="1"]')
        page.wait_for_selector('[data-testid="import-reason-inconsistent_ohlc"][data-count="1"]')
        bad_number = page.wait_for_selector(f'[data-testid="rejected-row-{BAD_NUMBER_LINE}"]')
        assert bad_number.get_attribute("data-reason") == "bad_number"
        assert "1.10x17" in bad_number.inner_text()
        ohlc = page.wait_for_selector(f'[data-testid="rejected-row-{BAD_OHLC_LINE}"]')
        assert ohlc.get_attribute("data-reason") == "inconsistent_ohlc"
        # The first and last bar in the user's zone (London = UTC in January), UTC on hover.
        assert (
            page.get_attribute('[data-testid="import-first-time"]', "title")
            == "2024-01-02 10:00:00.000 UTC"
        )

        # Filter by one reason.
        page.click('[data-testid="import-reason-inconsistent_ohlc"]')
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid^=\"rejected-row-\"]').length === 1"
        )
        assert page.query_selector(f'[data-testid="rejected-row-{BAD_OHLC_LINE}"]') is not None
        row = page.wait_for_selector(
            f'[data-testid="import-row-{run.pk}"][data-status="completed"]'
        )
        assert "EURUSD_M1_sample.csv" in row.inner_text()
        shot(page, "data-1-import-done")
        assert page.evaluate("window.__dataLoaded") is True  # never reloaded

    eurusd = Instrument.objects.get(symbol="EURUSD")
    assert (
        Bar.objects.filter(instrument=eurusd, timeframe="M1", source__kind="import").count()
        == ROWS - 2
    )


def test_operator_stops_and_starts_a_data_source(page, daphne_server, celery_worker):
    page.set_default_timeout(TIMEOUT_MS)
    UserFactory(username="data-operator", roles=["operator"], timezone="UTC")
    source, _ = DataSource.objects.get_or_create(
        name="ui-test-sim",
        defaults={
            "kind": "synthetic",
            "config": {"seed": 7, "ticks_per_second": 2.0, "always_open": True},
        },
    )
    source.instruments.set(Instrument.objects.filter(symbol="USDJPY"))

    with screenshot_on_failure(page, "data-sources"):
        login(page, daphne_server.base_url, "data-operator")
        page.goto(f"{daphne_server.base_url}/data")
        row = page.wait_for_selector('[data-testid="source-row-ui-test-sim"]')
        assert row.get_attribute("data-state") == "stopped"
        assert row.get_attribute("data-simulated") == "true"

        # Start: the runner takes it on the worker and reports it running.
        page.click('[data-testid="source-start-ui-test-sim"]')
        page.wait_for_selector(
            '[data-testid="source-row-ui-test-sim"][data-state="running"]', timeout=RUN_TIMEOUT_MS
        )
        page.wait_for_selector('[data-testid="source-stop-ui-test-sim"]')
        shot(page, "data-2-source-running")

        # Stop: the runner winds down.
        page.click('[data-testid="source-stop-ui-test-sim"]')
        page.wait_for_selector(
            '[data-testid="source-row-ui-test-sim"][data-state="stopped"]', timeout=RUN_TIMEOUT_MS
        )
        page.wait_for_selector('[data-testid="source-start-ui-test-sim"]')
        # The seeded history-import source has no runner to start.
        assert page.query_selector('[data-testid="source-start-history-import"]') is None
        shot(page, "data-3-source-stopped")
    source.refresh_from_db()
    assert source.state == "stopped"

"""The chart page in a real browser against Daphne and a real Celery worker.

A trader watches EURUSD prices change in the market watch, clicks the symbol
and gets its H1 candles (a simulated source: the badge says so). The open
bar moves and a new bar starts from /ws/prices/ bar messages, an SMA overlay
switched on follows the live bar, and a market order's fill appears as a
marker from /ws/trading/ — all without a reload.

No feed runs in the test platform: the test publishes ticks and bars to
Redis the way the pipeline does.

Screenshots go to ``var/test-artifacts/browser/`` (or ``$FX_TEST_ARTIFACTS/browser/``).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apps.accounts.tests.factories import UserFactory
from apps.marketdata import live
from apps.marketdata.batches import BarBatch
from apps.marketdata.models import Bar, DataSource, Instrument
from apps.marketdata.services.ingest import bars_ingest, instrument_rules
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

SOURCE = "ui-chart-sim"
HOUR = timedelta(hours=1)
N_BARS = 60


def _wait_attr(page, test_id: str, name: str, expected: str) -> None:
    page.wait_for_function(
        '([id, name, value]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute(name) === value',
        arg=[test_id, name, expected],
        timeout=TIMEOUT_MS,
    )


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _bar(start: datetime, o: str, h: str, low: str, c: str, *, closed: bool = False) -> None:
    """An H1 bar message as the pipeline publishes it."""
    live.publish(
        [],
        [
            {
                "type": "bar",
                "symbol": "EURUSD",
                "source": SOURCE,
                "simulated": True,
                "timeframe": "H1",
                "time": start.isoformat().replace("+00:00", "Z"),
                "ts": _ms(start),
                "open": o,
                "high": h,
                "low": low,
                "close": c,
                "spread": "0.00010",
                "volume": 42,
                "closed": closed,
            }
        ],
        None,
    )


def _store_bars(last_open: datetime) -> tuple[datetime, list[float]]:
    """H1 bars of a simulated source over the N_BARS hours up to ``last_open``.

    Bars outside the market's weekly session are refused (even for an
    always-open simulated source), so at a weekend the series ends on Friday:
    returns the open time of the last stored bar and the stored closes.
    """
    source, _ = DataSource.objects.get_or_create(
        name=SOURCE, defaults={"kind": "synthetic", "config": {"always_open": True}}
    )
    first_us = int((last_open - (N_BARS - 1) * HOUR).timestamp() * 1_000_000)
    time_us = first_us + np.arange(N_BARS, dtype=np.int64) * 3_600_000_000
    close = np.round(1.10000 + 0.00010 * np.sin(np.arange(N_BARS) / 4), 5)
    open_ = np.concatenate([[1.10000], close[:-1]])
    high = np.maximum(open_, close) + 0.00020
    low = np.minimum(open_, close) - 0.00020
    eurusd = Instrument.objects.get(symbol="EURUSD")
    bars_ingest(
        instrument=eurusd,
        source=source,
        # The always-open source's rules (bars_ingest's default rules check the weekly session).
        rules=instrument_rules(eurusd, source),
        timeframe="H1",
        batch=BarBatch(
            time_us=time_us,
            open=open_,
            high=high,
            low=low,
            close=close,
            volume=np.full(N_BARS, 100, dtype=np.int64),
            spread=np.full(N_BARS, 0.0001),
        ),
    )
    stored = Bar.objects.filter(instrument=eurusd, source=source, timeframe="H1").order_by("time")
    return stored.last().time, [float(b.close) for b in stored]


def _feed_until_shown(page, bid: str, ask: str) -> None:
    """Publish the quote as a live feed does, again every second, until the
    market watch shows it. Its first quotes come over REST, so the page can
    show them while its socket's subscription is still on the way, and a
    tick published before that reaches no one (the next one does)."""
    for _ in range(TIMEOUT_MS // 1000):
        quote(bid, ask, source=SOURCE)
        try:
            wait_text(page, "quote-bid-EURUSD", bid, timeout=1000)
            return
        except PlaywrightTimeout:
            continue
    wait_text(page, "quote-bid-EURUSD", bid)


def test_market_watch_opens_a_live_chart_with_overlays_and_fill_markers(
    page, daphne_server, celery_worker
):
    page.set_default_timeout(TIMEOUT_MS)
    trader = UserFactory(username="chart-trader", roles=["trader"], timezone="UTC")
    account = trading.account_open(owner=trader, name="Charting", deposit=Decimal("100000"))
    now = datetime.now(UTC)
    current, closes = _store_bars(now.replace(minute=0, second=0, microsecond=0))
    n_bars = len(closes)
    assert n_bars >= 10
    quote("1.10000", "1.10010", source=SOURCE)

    with screenshot_on_failure(page, "chart-page"):
        login(page, daphne_server.base_url, "chart-trader")
        page.click('[data-testid="nav-market-watch"]')
        page.wait_for_url("**/market")
        page.evaluate("window.__chartLoaded = true")  # a reload would lose it
        page.wait_for_selector('[data-testid="prices-connection"][data-state="open"]')
        wait_text(page, "quote-bid-EURUSD", "1.10000")
        _feed_until_shown(page, "1.10020", "1.10031")  # the market watch follows the feed
        wait_text(page, "quote-ask-EURUSD", "1.10031")
        shot(page, "chart-0-market-watch")

        # The symbol opens its chart; the trade action goes to the desk on that symbol.
        assert (
            page.get_attribute('[data-testid="quote-trade-EURUSD"]', "href")
            == "/trade?symbol=EURUSD"
        )
        page.click('[data-testid="quote-chart-EURUSD"]')
        page.wait_for_url("**/chart/EURUSD*")
        _wait_attr(page, "chart-page", "data-bars", str(n_bars))
        page.wait_for_selector('[data-testid="chart-canvas"] canvas')
        assert page.is_visible('[data-testid="chart-simulated"]')
        assert text(page, "chart-source") == SOURCE
        assert page.get_attribute('[data-testid="chart-tf-H1"]', "aria-pressed") == "true"
        wait_text(page, "chart-last-close", f"{closes[-1]:.5f}")
        last_open = f"{closes[-2]:.5f}"

        # The open bar moves: the last candle follows.
        _bar(current, last_open, "1.10400", "1.09800", "1.10350")
        wait_text(page, "chart-last-close", "1.10350")
        assert text(page, "chart-last-high") == "1.10400"
        _wait_attr(page, "chart-page", "data-bars", str(n_bars))

        # An SMA(5) overlay follows the live bar too.
        page.check('[data-testid="chart-sma-toggle"]')
        page.fill('[data-testid="chart-sma-period"]', "5")
        _wait_attr(page, "chart-page", "data-overlays", "sma")
        expected = (sum(closes[-5:-1]) + 1.10350) / 5
        wait_text(page, "chart-legend-sma", f"{expected:.5f}")
        _bar(current, last_open, "1.10400", "1.09800", "1.10100")
        expected = (sum(closes[-5:-1]) + 1.10100) / 5
        wait_text(page, "chart-legend-sma", f"{expected:.5f}")
        shot(page, "chart-1-live-bar-and-sma")

        # The bar closes and the next one starts: a new candle, no reload.
        _bar(current, last_open, "1.10400", "1.09800", "1.10120", closed=True)
        _bar(current + HOUR, "1.10120", "1.10130", "1.10110", "1.10125")
        _wait_attr(page, "chart-page", "data-bars", str(n_bars + 1))
        wait_text(page, "chart-last-close", "1.10125")
        expected = (sum(closes[-4:-1]) + 1.10120 + 1.10125) / 5
        wait_text(page, "chart-legend-sma", f"{expected:.5f}")

        # A market order's fill shows up as a marker from /ws/trading/.
        page.wait_for_selector('[data-testid="trading-connection"][data-state="open"]')
        wait_text(page, "chart-fill-count", "0 fills")
        trading.order_place(
            account=account,
            instrument=Instrument.objects.get(symbol="EURUSD"),
            side="buy",
            type="market",
            quantity=Decimal("1.00"),
            user=trader,
        )
        _wait_attr(page, "chart-page", "data-markers", "1")
        wait_text(page, "chart-fill-count", "1 fill")
        shot(page, "chart-2-fill-marker")

        # Another timeframe from the picker (no bars of it stored: the page says so).
        page.click('[data-testid="chart-tf-M15"]')
        page.wait_for_url("**/chart/EURUSD?tf=M15")
        page.wait_for_selector('[data-testid="chart-empty"]')

        assert page.evaluate("window.__chartLoaded") is True  # never reloaded

"""What every browser test does: log in, read and wait for test ids, push a
live quote, and keep screenshots (``var/test-artifacts/browser/``, or
``$FX_TEST_ARTIFACTS/browser/``)."""

import os
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.marketdata import live

ARTIFACTS = (
    Path(os.environ.get("FX_TEST_ARTIFACTS") or Path(settings.BASE_DIR) / "var" / "test-artifacts")
    / "browser"
)
TIMEOUT_MS = 30_000


def quote(bid: str, ask: str, *, symbol: str = "EURUSD", source: str = "test") -> None:
    """A live quote: stored for REST, snapshots and the paper broker, and
    published as a tick to every /ws/prices/ subscriber."""
    now = datetime.now(UTC)
    message = {
        "type": "tick",
        "symbol": symbol,
        "bid": bid,
        "ask": ask,
        "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "ts": int(now.timestamp() * 1000),
        "source": source,
        "simulated": True,
    }
    live.publish([message], [], message)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def screenshot_on_failure(page, name: str):
    try:
        yield
    except Exception:
        try:
            shot(page, f"{name}-failure")
        except Exception:
            pass
        raise


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill('[data-testid="login-username"]', username)
    page.fill('[data-testid="login-password"]', DEFAULT_PASSWORD)
    page.press('[data-testid="login-password"]', "Enter")
    page.wait_for_selector('[data-testid="current-user"]')


def text(page, test_id: str) -> str:
    return page.inner_text(f'[data-testid="{test_id}"]').strip()


def wait_text(page, test_id: str, expected: str, timeout: int = TIMEOUT_MS) -> None:
    page.wait_for_function(
        '([id, text]) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() === text',
        arg=[test_id, expected],
        timeout=timeout,
    )

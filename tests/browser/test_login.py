"""The dashboard login in a real browser against Daphne."""

import pytest

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_shows_errors_then_the_user_and_logout_returns_to_login(page, daphne_server):
    UserFactory(username="browser-trader", roles=["trader"])
    page.goto(f"{daphne_server.base_url}/")
    page.wait_for_url("**/login*")

    page.fill('[data-testid="login-username"]', "browser-trader")
    page.fill('[data-testid="login-password"]', "wrong-password")
    page.press('[data-testid="login-password"]', "Enter")
    error = page.wait_for_selector('[data-testid="login-error"]')
    assert "No active account" in error.inner_text()

    page.fill('[data-testid="login-password"]', DEFAULT_PASSWORD)
    page.click('[data-testid="login-submit"]')
    user = page.wait_for_selector('[data-testid="current-user"]')
    assert "browser-trader" in user.inner_text()
    assert "TRADER" in user.inner_text().upper()
    # The status card reads /readyz from the same server.
    page.wait_for_selector('[data-testid="status-card"][data-status]')

    page.click('[data-testid="logout"]')
    page.wait_for_selector('[data-testid="login-username"]')

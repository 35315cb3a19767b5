import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from apps.accounts.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_their_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert names == set(perms)


def test_permissions_follow_roles(viewer, trader, operator):
    assert viewer.has_perm("accounts.view_platform") and not viewer.has_perm("accounts.trade")
    assert trader.has_perm("accounts.trade") and not trader.has_perm("accounts.operate")
    assert operator.has_perm("accounts.operate") and operator.is_staff
    assert not trader.is_staff


def test_createuser_command(monkeypatch):
    monkeypatch.setenv("NEW_PW", "A-long-pass-9876")
    call_command("createuser", "ops", "--role", "operator", "--password-env", "NEW_PW")
    user = User.objects.get(username="ops")
    assert user.check_password("A-long-pass-9876")
    assert user.is_staff and user.has_perm("accounts.operate")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createuser", "ops", "--password-env", "NEW_PW")
    monkeypatch.setenv("WEAK", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("createuser", "weak", "--password-env", "WEAK")


def test_demo_setup_creates_a_demo_user_that_can_log_in(api_client, settings):
    call_command("demo_setup")
    call_command("demo_setup")  # idempotent
    demo = User.objects.get(username="demo")
    assert demo.check_password(settings.DEMO_PASSWORD)
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "demo", "password": settings.DEMO_PASSWORD}
    )
    assert response.status_code == 200


def test_admin_is_for_operators(client, operator, trader, password):
    client.force_login(operator)
    for url in ("/admin/accounts/user/", "/admin/accounts/apikey/", "/admin/accounts/user/?q=op"):
        assert client.get(url).status_code == 200
    client.force_login(trader)
    assert client.get("/admin/accounts/user/").status_code == 302

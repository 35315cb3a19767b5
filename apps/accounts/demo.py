"""The demo set-up of the accounts app: the ``demo`` user."""

from django.conf import settings

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.roles import Role


def setup_demo() -> str:
    """Create (or reset) the demo user; its password comes from DEMO_PASSWORD."""
    user = User.objects.filter(username=settings.DEMO_USERNAME).first()
    if user is None:
        user = User(username=settings.DEMO_USERNAME, email="demo@example.com", first_name="Demo")
    # The demo password is for a local machine: it skips the strength checks.
    user.set_password(settings.DEMO_PASSWORD)
    user.is_active = True
    user.save()
    services.user_unlock(user=user)
    services.user_set_roles(user=user, roles=[Role.TRADER, Role.OPERATOR])
    return f"user {user.username!r} (roles trader, operator)"

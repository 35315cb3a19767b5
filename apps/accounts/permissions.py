"""DRF permissions for roles and API-key scopes."""

from rest_framework.permissions import BasePermission

from apps.accounts.models import ApiKey
from apps.accounts.roles import PERM_OPERATE, PERM_TRADE, PERM_VIEW


def _api_key(request) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class NoApiKey(BasePermission):
    """Managing credentials needs a person (JWT or session), not a key."""

    message = "API keys cannot be used here; sign in with your user."

    def has_permission(self, request, view) -> bool:
        return _api_key(request) is None


class _HasPerm(BasePermission):
    perm = ""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(self.perm))


class IsViewer(_HasPerm):
    perm = PERM_VIEW
    message = "You need the viewer role."


class IsTrader(_HasPerm):
    perm = PERM_TRADE
    message = "You need the trader role."


class IsOperator(_HasPerm):
    perm = PERM_OPERATE
    message = "You need the operator role."

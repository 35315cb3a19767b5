"""Authentication backend with lockout after repeated failures (API and admin)."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apps.accounts import services
from apps.accounts.errors import AccountLocked


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username")
        if username is None:
            return None
        try:
            services.login_lock_check(username=username)
        except AccountLocked as exc:
            raise PermissionDenied(exc.message) from exc  # stops other backends
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failure_record(username=username)
        else:
            services.login_success_record(user=user)
        return user

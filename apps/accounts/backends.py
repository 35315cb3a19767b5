"""Authentication backend with lockout after repeated failures (API and admin)."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q

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

    def get_all_permissions(self, user_obj, obj=None):
        """The user's own and their roles' permissions in one query (Django's
        backend reads them in two); every ``has_perm`` of a request uses it."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            rows = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{name}" for app, name in rows}
        return user_obj._perm_cache

"""Reads of the accounts domain."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import ApiKey, User
from apps.accounts.roles import Role


def user_roles(*, user: User) -> list[str]:
    names = set(user.groups.values_list("name", flat=True))
    return [role.value for role in Role if role.value in names]


def user_permissions(*, user: User) -> list[str]:
    return sorted(user.get_all_permissions())


def apikey_list(*, user: User, active: bool | None = None) -> QuerySet[ApiKey]:
    qs = ApiKey.objects.filter(user=user)
    live = Q(revoked_at__isnull=True) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    if active is True:
        qs = qs.filter(live)
    elif active is False:
        qs = qs.exclude(live)
    return qs

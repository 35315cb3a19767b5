"""Reads of the accounts domain."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.accounts.filters import ApiKeyFilter
from apps.accounts.models import ApiKey, User
from apps.accounts.roles import Role


def user_roles(*, user: User) -> list[str]:
    names = set(user.groups.values_list("name", flat=True))
    return [role.value for role in Role if role.value in names]


def user_permissions(*, user: User) -> list[str]:
    return sorted(user.get_all_permissions())


def apikey_list(*, user: User, filters: dict | None = None) -> QuerySet[ApiKey]:
    """The user's API keys, filtered by ``ApiKeyFilter`` (``active``, ``scope``)."""
    filterset = ApiKeyFilter(filters or {}, queryset=ApiKey.objects.filter(user=user))
    if not filterset.is_valid():
        raise ValidationError(
            {field: list(messages) for field, messages in filterset.errors.items()}
        )
    return filterset.qs

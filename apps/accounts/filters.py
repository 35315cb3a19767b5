"""Filters of the accounts API."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import ApiKey


class ApiKeyFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(
        method="filter_active", label="Only active (true) or inactive (false) keys"
    )

    class Meta:
        model = ApiKey
        fields = ["scope", "active"]

    def filter_active(self, queryset: QuerySet[ApiKey], name: str, value: bool | None):
        live = Q(revoked_at__isnull=True) & (
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )
        if value is None:
            return queryset
        return queryset.filter(live) if value else queryset.exclude(live)

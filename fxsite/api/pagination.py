"""Pagination used by every list endpoint."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """``?page=N&page_size=M`` with ``count``, ``next``, ``previous``, ``results``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class TimeCursorPagination(CursorPagination):
    """Stable pagination over append-only, time-ordered rows (ticks, events)."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = "-created_at"

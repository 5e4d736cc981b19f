"""Cursor pagination: stable under inserts, one query per page (no COUNT)."""

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    #: Newest first by id: unique, so no row is skipped or repeated between pages.
    ordering = "-id"

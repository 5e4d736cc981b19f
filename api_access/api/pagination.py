"""Cursor pagination: stable under inserts, one query per page (no COUNT).

A cursor is opaque but only base64 of ``o=…&r=…&p=…``: one a client changed (or made up) is a
400 ``invalid_cursor`` in the error shape, never a query with a position the column cannot hold
(DRF answers 404 to some bad cursors and lets others reach the database: a 500).
"""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination

#: The position of ``-id``: a signed 64-bit integer (bigint primary keys).
_POSITION = re.compile(r"-?\d{1,19}")
_BIGINT = range(-(2**63), 2**63)


class InvalidCursor(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_cursor"
    default_detail = _(
        "Ugyldig markør for neste side. Bruk lenkene «next» og «previous» slik de er."
    )


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    #: Newest first by id: unique, so no row is skipped or repeated between pages.
    ordering = "-id"

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except (exceptions.NotFound, ValueError, TypeError, UnicodeError):
            raise InvalidCursor() from None
        if cursor is None:
            return None
        position = cursor.position
        if position is not None and (
            not _POSITION.fullmatch(position) or int(position) not in _BIGINT
        ):
            raise InvalidCursor()
        return cursor

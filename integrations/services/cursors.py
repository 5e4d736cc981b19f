"""Where each of a connection's sync streams has got to (``SyncCursor``), and the batch size
the streams share. Used by the sync (:mod:`.sync`) and its case and matched-item steps
(:mod:`.sync_cases`, :mod:`.sync_matches`), which the sync calls.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from integrations.models import PowerOfficeConnection, SyncCursor

BATCH_SIZE = 500


def overlap() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "POWEROFFICE_SYNC_OVERLAP_SECONDS", 5))


def cursor_get(connection: PowerOfficeConnection, resource: str) -> dt.datetime | None:
    return (
        SyncCursor.objects.filter(connection=connection, resource=resource)
        .values_list("value", flat=True)
        .first()
    )


def cursor_since(connection: PowerOfficeConnection, resource: str) -> dt.datetime | None:
    """Where to read from (exclusive); ``None``: read everything."""
    return cursor_get(connection, resource)


def read_started() -> dt.datetime:
    """Call just before a read: the cursor's next value.

    Everything changed before the read began is in the answer, except what PoGo's replica had
    not caught up with: the cursor is set an overlap window earlier than the read's start, so
    the next read asks again for the last few seconds. (This trusts our clock to be within
    that window of PoGo's; both run NTP.)
    """
    return timezone.now() - overlap()


def cursor_advance(connection: PowerOfficeConnection, resource: str, value) -> None:
    """Move the cursor forward to ``value`` (never back)."""
    current = cursor_get(connection, resource)
    if current is not None and current >= value:
        return
    SyncCursor.objects.update_or_create(
        connection=connection, resource=resource, defaults={"value": value}
    )

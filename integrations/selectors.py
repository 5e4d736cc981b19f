"""Reads for the PowerOffice Go connection, scoped through the creditor the caller may see."""

from django.db.models import QuerySet

from creditors.models import Creditor
from integrations.models import PowerOfficeConnection, PowerOfficeConnectionEvent


def connection_for_creditor(*, creditor: Creditor) -> PowerOfficeConnection | None:
    """The creditor's connection row (connected or not), or None if it was never connected.

    ``creditor`` must come from ``creditors.selectors.creditor_get_for_user``.
    """
    return PowerOfficeConnection.objects.filter(creditor=creditor).first()


def connection_event_list(
    *, connection: PowerOfficeConnection, limit: int = 10
) -> QuerySet[PowerOfficeConnectionEvent]:
    return connection.events.select_related("actor").order_by("-created_at", "-pk")[:limit]

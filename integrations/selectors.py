"""Reads for the PowerOffice Go connection, scoped through the creditor the caller may see."""

from django.db.models import QuerySet

from creditors.models import Creditor
from integrations.models import OutboxMessage, PowerOfficeConnection, PowerOfficeConnectionEvent


def connection_for_creditor(*, creditor: Creditor) -> PowerOfficeConnection | None:
    """The creditor's connection row (connected or not), or None if it was never connected.

    ``creditor`` must come from ``creditors.selectors.creditor_get_for_user``.
    """
    return PowerOfficeConnection.objects.filter(creditor=creditor).first()


def connection_event_list(
    *, connection: PowerOfficeConnection, limit: int = 10
) -> QuerySet[PowerOfficeConnectionEvent]:
    return connection.events.select_related("actor").order_by("-created_at", "-pk")[:limit]


def pogo_refusals(case) -> QuerySet[OutboxMessage]:
    """The failed creations of ``case`` (a case, or ``OuterRef("pk")`` in a subquery) in
    PoGo's Inkasso menu, newest first; each one's ``last_error`` is Go's reason."""
    return OutboxMessage.objects.filter(
        case=case, kind=OutboxMessage.Kind.CREATE_CASE, status=OutboxMessage.Status.FAILED
    ).order_by("-pk")


def case_pogo_refusal(*, case) -> OutboxMessage | None:
    """The newest failed creation of ``case`` in PoGo's Inkasso menu, while the case does not
    exist there; None otherwise. (The case page reads the same from
    ``page_selectors.case_page_detail``'s annotation of :func:`pogo_refusals`.)

    ``case`` must come from a scoped selector (``case_page_get``)."""
    if case.pogo_case_id is not None:
        return None
    return pogo_refusals(case).first()

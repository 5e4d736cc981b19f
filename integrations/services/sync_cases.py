"""Released invoices (Go's Inkasso → Godkjent, v1 ``AvailableInvoices``) → collection cases.

One case per debtor per sync, merging that debtor's released invoices; invoices released
later join the debtor's open case while it is still before the betalingsoppfordring. A
customer whose card says not to transfer to a collection agency never gets a case. A released
invoice already time-barred gets a case of its own, held for a case handler at once (never a
letter or a cost). Each new
case is created in PoGo through the outbox (:mod:`.outbox`), in the same transaction that
creates it here, so a failed call is retried and never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.cases.limitation import case_hold_time_barred, claim_is_time_barred
from collections_cases.cases.services import (
    case_add_invoices,
    case_create,
    case_lock,
    case_take_out_invoices,
)
from collections_cases.models import CollectionCase, Invoice
from integrations.models import OutboxMessage, PogoInvoiceState, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.services.cursors import BATCH_SIZE
from integrations.services.queue import outbox_add_invoices, outbox_create_case, outbox_retry
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

RESOURCE = "released"
POGO_ACTOR = "PowerOffice Go"
Status = CollectionCase.Status

#: Cases that may still take more invoices: not started yet, or before the betalingsoppfordring.
OPEN_FOR_INVOICES = Q(
    status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.START
) | Q(status__in=[Status.ACTIVE, Status.PAUSED], stage=CollectionCase.Stage.INKASSOVARSEL)

REMINDER_FIELDS = (
    "last_reminder_sent_date",
    "last_reminder_due_date",
    "last_reminder_voucher_type",
)


def _invoice_label(invoice) -> str:
    return _("faktura %(number)s") % {"number": invoice.invoice_no}


def _record_released(invoices: list[Invoice], released_by_id: dict) -> set[int]:
    """Mark the invoices released and keep PoGo's own dunning dates (``lastReminder*``).
    Returns the ids of the invoices released since the last sync."""
    now = timezone.now()
    changed = []
    for invoice in invoices:
        source = released_by_id[invoice.pogo_id]
        values = {
            "last_reminder_sent_date": source.last_reminder_sent_date,
            "last_reminder_due_date": source.last_reminder_due_date,
            "last_reminder_voucher_type": (source.last_reminder_voucher_type or "")[:40],
        }
        if any(getattr(invoice, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(invoice, name, value)
            invoice.updated_at = now
            changed.append(invoice)
    with transaction.atomic():
        Invoice.objects.bulk_update(
            changed, [*REMINDER_FIELDS, "updated_at"], batch_size=BATCH_SIZE
        )
        PogoInvoiceState.objects.bulk_create(
            [PogoInvoiceState(invoice=i, creditor_id=i.creditor_id) for i in invoices],
            ignore_conflicts=True,
        )
        fresh = PogoInvoiceState.objects.filter(invoice__in=invoices, released_at__isnull=True)
        newly_released = set(fresh.values_list("invoice_id", flat=True))
        fresh.update(released_at=now)
    return newly_released


#: How long Go's «yes, you may create cases» (``IsActiveDebtCollection``) is trusted. Another
#: agency taking the company over is rare, and Go then refuses the listing of released
#: invoices, which asks again at once (and a refused case creation makes the next sync ask).
#: A «no», or no answer, is asked again by every sync. So a cycle costs four requests a
#: creditor, not five.
DEBT_COLLECTION_MAX_AGE = dt.timedelta(hours=1)


def debt_collection_known_active(connection: PowerOfficeConnection) -> bool:
    """Whether Go said yes within :data:`DEBT_COLLECTION_MAX_AGE` (no need to ask now)."""
    checked_at = connection.debt_collection_checked_at
    return (
        connection.debt_collection_active is True
        and checked_at is not None
        and checked_at > timezone.now() - DEBT_COLLECTION_MAX_AGE
    )


def debt_collection_check(
    *, connection: PowerOfficeConnection, client: PowerOfficeClient, log, ask: bool = False
) -> bool:
    """``IsActiveDebtCollection``, before anything that lists released invoices or creates
    cases: while another agency holds the company Go refuses both, so they are skipped (no
    retry: the next sync, or *Synkroniser nå*, asks again). A yes is trusted for
    :data:`DEBT_COLLECTION_MAX_AGE` unless ``ask``. The answer is kept on the connection, for
    the integration page and for the outbox's case creations."""
    from integrations.services.connections import debt_collection_record

    if not ask and debt_collection_known_active(connection):
        return True
    active = client.dc_is_active()
    if debt_collection_record(connection_id=connection.pk, active=active):
        logger.info("IsActiveDebtCollection of connection %s is now %s", connection.pk, active)
    connection.debt_collection_active = active
    connection.debt_collection_checked_at = timezone.now()
    if not active:
        log.count(RESOURCE, "other_agency_active")
    return active


def sync_released_invoices(
    *, connection: PowerOfficeConnection, client: PowerOfficeClient, log
) -> None:
    from integrations.services.connections import DEBT_COLLECTION_REFUSALS

    asked = not debt_collection_known_active(connection)
    if not debt_collection_check(connection=connection, client=client, log=log):
        return
    # Go lists every released invoice on each read (no cursor), so an unreadable one is only
    # skipped for now and read again next time. (Matched items, read since a cursor, are not
    # skipped like this: a payment must never be passed over; that sync step fails instead.)
    try:
        released = client.dc_available_invoices(
            on_unreadable=lambda record, reason: log.skip(RESOURCE, record, reason)
        )
    except DEBT_COLLECTION_REFUSALS:
        # Refused on a yes we did not ask for in this run: has another agency taken over?
        if asked or debt_collection_check(connection=connection, client=client, log=log, ask=True):
            raise
        return
    log.count(RESOURCE, "fetched", len(released))
    if not released:
        return
    creditor = connection.creditor
    released_by_id = {item.id: item for item in released}
    invoices = list(
        Invoice.objects.filter(creditor=creditor, pogo_id__in=list(released_by_id))
        .select_related("debtor")
        .order_by("invoice_no")
    )
    known = {invoice.pogo_id for invoice in invoices}
    for pogo_id, item in released_by_id.items():
        if pogo_id not in known:
            log.skip(RESOURCE, _invoice_label(item), _("Fakturaen er ikke synkronisert fra Go."))
    newly_released = _record_released(invoices, released_by_id)
    if newly_released:
        _retry_refused_cases(newly_released, log)

    by_debtor: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        if invoice.case_id is None and invoice.balance > 0:
            by_debtor[invoice.debtor_id].append(invoice)
    if not by_debtor:
        return
    if not creditor.auto_start_released_invoices:
        # They wait in «Klar for inkasso» until the creditor starts a case there.
        log.count(RESOURCE, "waiting", sum(len(group) for group in by_debtor.values()))
        return
    open_cases = {}
    for case in (
        CollectionCase.objects.filter(creditor=creditor, debtor_id__in=list(by_debtor))
        .filter(OPEN_FOR_INVOICES)
        .exclude(limitation_date__lte=timezone.localdate())  # a time-barred case takes none
        .order_by("-created_at")
    ):
        open_cases.setdefault(case.debtor_id, case)

    today = timezone.localdate()
    for debtor_id, group in by_debtor.items():
        debtor = group[0].debtor
        labels = ", ".join(str(invoice.invoice_no) for invoice in group)
        if not debtor.transfer_to_debt_collection_agency or debtor.collection_opt_out:
            if not newly_released.intersection(invoice.pk for invoice in group):
                log.count(RESOURCE, "opted_out", len(group))  # reported when first released
                continue
            log.skip(
                RESOURCE,
                _("%(debtor)s: faktura %(numbers)s") % {"debtor": debtor.name, "numbers": labels},
                _("Kunden skal ikke overføres til inkasso (kundekortet i Go eller skyldneren)."),
            )
            continue
        barred = [invoice for invoice in group if _time_barred(invoice, today)]
        if barred:
            _hold_time_barred_invoices(creditor, debtor, barred, log)
            group = [invoice for invoice in group if invoice not in barred]
            if not group:
                continue
            labels = ", ".join(str(invoice.invoice_no) for invoice in group)
        try:
            with transaction.atomic():
                case = open_cases.get(debtor_id)
                if case is not None:
                    case = case_add_invoices(case=case, actor=POGO_ACTOR, invoices=group)
                    outbox_add_invoices(case=case, invoices=group, released=True)
                    log.count(RESOURCE, "added_to_case", len(group))
                else:
                    case = case_create(
                        creditor=creditor,
                        debtor=debtor,
                        invoices=group,
                        actor=POGO_ACTOR,
                        needs_approval=creditor.approve_cases_before_start,
                    )
                    outbox_create_case(case=case)
                    log.count(RESOURCE, "cases_created")
        except ApplicationError as exc:
            log.skip(
                RESOURCE,
                _("%(debtor)s: faktura %(numbers)s") % {"debtor": debtor.name, "numbers": labels},
                exc.message,
            )


def addition_refused(*, message: OutboxMessage, error: str) -> CollectionCase | None:
    """Go refused ``AddInvoicesToCase`` for invoices the sync added to the debtor's open case
    (a v1 validation error: its case no longer takes them). They leave that case, with an
    event saying why, and get a case of their own, created in Go like any other."""
    case = message.case
    ids = message.payload.get("invoice_ids") or []
    invoices = list(Invoice.objects.filter(case=case, pogo_id__in=ids).order_by("invoice_no"))
    if not invoices:
        return None
    creditor = case.creditor
    reason = _(
        "PowerOffice Go tok ikke fakturaen inn i sak %(number)s (%(error)s). Den får en egen sak."
    ) % {"number": case.number, "error": error[:300]}
    try:
        with transaction.atomic():
            taken = case_take_out_invoices(
                case=case, actor=POGO_ACTOR, invoices=invoices, reason=reason
            )
            if not taken:
                return None
            new_case = case_create(
                creditor=creditor,
                debtor=case.debtor,
                invoices=taken,
                actor=POGO_ACTOR,
                needs_approval=creditor.approve_cases_before_start,
            )
            outbox_create_case(case=new_case)
            OutboxMessage.objects.filter(pk=message.pk).update(
                payload={**message.payload, "moved_to_case": new_case.number}
            )
    except ApplicationError as exc:
        logger.warning("Refused addition %s could not get a case of its own: %s", message.pk, exc)
        return None
    return new_case


def _retry_refused_cases(invoice_ids: set[int], log) -> None:
    """A case started in Kundeweb from Go invoices the creditor had not released in Go yet:
    Go refused to create it, or to add them to the case (the row failed with Go's reason).
    Once the creditor releases one of its invoices, the call is sent again with the next
    delivery."""
    Kind = OutboxMessage.Kind
    refused = (
        OutboxMessage.objects.filter(
            Q(kind=Kind.CREATE_CASE, case__pogo_case_id__isnull=True) | Q(kind=Kind.ADD_INVOICES),
            status=OutboxMessage.Status.FAILED,
            case__invoices__pk__in=list(invoice_ids),
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    retried = outbox_retry(message_ids=list(refused))
    if retried:
        log.count(RESOURCE, "cases_retried", retried)


def _time_barred(invoice: Invoice, today) -> bool:
    return claim_is_time_barred(due_date=invoice.due_date or invoice.invoice_date, on=today)


def _hold_time_barred_invoices(creditor, debtor, invoices: list[Invoice], log) -> None:
    """Released invoices already time-barred: nobody is there to answer a refusal, so they get
    a case of their own (never joining an open one) that is held for a case handler at once
    with the reason — no letter, no cost (``services.limitation``)."""
    labels = ", ".join(str(invoice.invoice_no) for invoice in invoices)
    try:
        with transaction.atomic():
            case = case_create(
                creditor=creditor,
                debtor=debtor,
                invoices=invoices,
                actor=POGO_ACTOR,
                needs_approval=creditor.approve_cases_before_start,
            )
            case = case_lock(case_id=case.pk)
            case_hold_time_barred(case=case, on=timezone.localdate(), actor=POGO_ACTOR)
            outbox_create_case(case=case)
            log.count(RESOURCE, "held_time_barred", len(invoices))
    except ApplicationError as exc:
        log.skip(
            RESOURCE,
            _("%(debtor)s: faktura %(numbers)s") % {"debtor": debtor.name, "numbers": labels},
            exc.message,
        )

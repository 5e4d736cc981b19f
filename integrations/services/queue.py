"""The outbox's rows: what we owe PowerOffice Go, written in the transaction of the change it
reports (one row per message; ``dedupe_key`` is unique, so two receivers of the same change
write one row). Delivering them is :mod:`.outbox`.

Kinds: ``create_case``, ``add_invoices``, ``update_status`` (one row per distinct status; the
closing status of a case closed as *paid* to the agency waits for its settlement's voucher,
:func:`.settlement_wait.case_awaits_settlement_voucher`) and ``settlement_voucher``
(queued by :mod:`.vouchers`).
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from collections_cases.models import CollectionCase, Invoice, LedgerEntry, Letter
from creditors.models import Creditor
from integrations.models import OutboxMessage
from integrations.services.push import case_status_payload, payload_hash
from integrations.services.settlement_wait import case_awaits_settlement_voucher
from kravia_web.money import to_ore

Kind = OutboxMessage.Kind
Status = OutboxMessage.Status


class Deferred(Exception):
    """The row cannot be sent yet (e.g. its case is not created in PoGo yet)."""


# --- writing rows ---------------------------------------------------------------------------


def get_or_create(*, dedupe_key: str, **fields) -> tuple[OutboxMessage, bool]:
    """Insert once per ``dedupe_key`` (the unique constraint decides under concurrency)."""
    existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(dedupe_key=dedupe_key, **fields), True
    except IntegrityError:
        return OutboxMessage.objects.get(dedupe_key=dedupe_key), False


def outbox_create_case(*, case: CollectionCase) -> OutboxMessage:
    message, _created = get_or_create(
        dedupe_key=f"create_case:{case.pk}",
        kind=Kind.CREATE_CASE,
        creditor_id=case.creditor_id,
        case=case,
        payload={"code": case.number},
    )
    return message


def outbox_add_invoices(
    *, case: CollectionCase, invoices, released: bool = False
) -> OutboxMessage | None:
    """Invoices joined a case. Before the case exists in PoGo nothing is needed: its creation
    sends every released invoice the case holds by then. ``released``: the sync added invoices
    Go listed as released; if Go refuses to add them to its case, they get a case of their own
    (:func:`.sync_cases.addition_refused`) instead of waiting for a release."""
    creating = OutboxMessage.objects.filter(
        case=case, kind=Kind.CREATE_CASE, status=Status.PENDING
    ).exists()
    if creating or (case.pogo_case_id is None and not _has_create(case)):
        return None
    invoice_ids = sorted(str(invoice.pogo_id) for invoice in invoices if invoice.pogo_id)
    if not invoice_ids:
        return None
    digest = hashlib.sha256(",".join(invoice_ids).encode()).hexdigest()[:16]
    message, _created = get_or_create(
        dedupe_key=f"add_invoices:{case.pk}:{digest}",
        kind=Kind.ADD_INVOICES,
        creditor_id=case.creditor_id,
        case=case,
        payload={"invoice_ids": invoice_ids, **({"released": True} if released else {})},
    )
    return message


def _has_create(case: CollectionCase) -> bool:
    return OutboxMessage.objects.filter(case=case, kind=Kind.CREATE_CASE).exists()


def outbox_case_changed(*, case_id: int) -> None:
    """After any case change: a case started by hand (Kundeweb's «Klar for inkasso», the API)
    that holds an invoice from PowerOffice Go is created in PoGo too — released in Go or not;
    PoGo's refusal is shown on the case and the integration page — then its status is queued.
    An invoice from another system has no Go counterpart, so neither has its case."""
    case = CollectionCase.objects.filter(pk=case_id).first()
    if case is None:
        return
    if (
        case.pogo_case_id is None
        and not _has_create(case)
        and case.is_open
        and Invoice.objects.filter(case=case, pogo_id__isnull=False).exists()
    ):
        outbox_create_case(case=case)
    elif case.pogo_case_id is not None and case.is_open:
        _queue_invoices_not_in_pogo(case)
    outbox_status(case_id=case_id)


def _queue_invoices_not_in_pogo(case: CollectionCase) -> None:
    """Go invoices that joined a case already in PoGo by hand («Klar for inkasso»): the sync
    queues its own additions; these are the invoices neither the creation (its payload's
    ``invoice_ids``, recorded when sent) nor an addition row has carried. A case created before
    the creation recorded its invoices is left alone (what it carried is unknown)."""
    created = (
        OutboxMessage.objects.filter(case=case, kind=Kind.CREATE_CASE, status=Status.SENT)
        .order_by("-pk")
        .first()
    )
    if created is None or "invoice_ids" not in created.payload:
        return
    carried = set(created.payload["invoice_ids"])
    for payload in OutboxMessage.objects.filter(case=case, kind=Kind.ADD_INVOICES).values_list(
        "payload", flat=True
    ):
        carried.update(payload.get("invoice_ids") or [])
    missing = [
        invoice
        for invoice in Invoice.objects.filter(case=case, pogo_id__isnull=False)
        if str(invoice.pogo_id) not in carried
    ]
    if missing:
        outbox_add_invoices(case=case, invoices=missing)


def outbox_cases_changed(*, case_ids) -> None:
    """:func:`outbox_case_changed` for many cases at once (the dunning run's batches): the
    same rows, from a few queries per batch instead of several per case. A case being
    created in PoGo goes the per-case way (rare; its rules need more rows); a closed case's
    status waits for its settlement's voucher as :func:`outbox_status` says."""
    case_ids = sorted(set(case_ids))
    if not case_ids:
        return
    cases = list(CollectionCase.objects.filter(pk__in=case_ids).order_by("pk"))
    with_create = set(
        OutboxMessage.objects.filter(case_id__in=case_ids, kind=Kind.CREATE_CASE).values_list(
            "case_id", flat=True
        )
    )
    not_in_pogo = [
        case.pk
        for case in cases
        if case.pogo_case_id is None and case.pk not in with_create and case.is_open
    ]
    from_go = set(
        Invoice.objects.filter(case_id__in=not_in_pogo, pogo_id__isnull=False).values_list(
            "case_id", flat=True
        )
    )
    batch = []
    for case in cases:
        if case.pogo_case_id is None and case.pk not in with_create:
            if case.pk in from_go:
                outbox_case_changed(case_id=case.pk)  # to be created in PoGo first
        else:
            batch.append(case)
    if not batch:
        return
    closed = [case for case in batch if case.status == CollectionCase.Status.CLOSED]
    if closed:  # their creditors, for the settlement's voucher (each loaded once)
        creditors = Creditor.objects.in_bulk({case.creditor_id for case in closed})
        for case in closed:
            case.creditor = creditors[case.creditor_id]
    ids = [case.pk for case in batch]
    balances = dict(
        LedgerEntry.objects.filter(case_id__in=ids)
        .order_by()
        .values_list("case_id")
        .annotate(total=Sum("amount"))
    )
    latest = {}
    for case_id, kind, sent_on, deadline in (
        Letter.objects.filter(case_id__in=ids)
        .order_by("case_id", "sent_on", "pk")
        .values_list("case_id", "kind", "sent_on", "deadline")
    ):
        latest[case_id] = (kind, sent_on, deadline)  # the latest wins
    # What the status text reads of a letter (an instance per case, not per letter)
    last_letters = {
        case_id: Letter(case_id=case_id, kind=kind, sent_on=sent_on, deadline=deadline)
        for case_id, (kind, sent_on, deadline) in latest.items()
    }
    last_ids = (
        OutboxMessage.objects.filter(case_id__in=ids, kind=Kind.UPDATE_STATUS)
        .exclude(status=Status.FAILED)
        .order_by()
        .values("case_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    last_rows = {m.case_id: m for m in OutboxMessage.objects.filter(pk__in=last_ids)}
    rows = []
    for case in batch:
        payload = case_status_payload(
            case,
            last_letter=last_letters.get(case.pk),
            balance=to_ore(balances.get(case.pk) or 0),
        )
        if payload["closed"] and case_awaits_settlement_voucher(case):
            continue  # queued by the voucher's delivery (as outbox_status)
        digest = payload_hash(payload)
        last = last_rows.get(case.pk)
        if last is not None and payload_hash(last.payload) == digest:
            continue
        rows.append(
            OutboxMessage(
                dedupe_key=f"update_status:{case.pk}:{last.pk if last else 0}:{digest}",
                kind=Kind.UPDATE_STATUS,
                creditor_id=case.creditor_id,
                case=case,
                payload=payload,
            )
        )
    # A row another process queued for the same change first stays (the key is unique).
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def outbox_status(*, case_id: int) -> OutboxMessage | None:
    """Queue the case's current status for PoGo, unless it equals the last one queued.

    Only cases that exist in PoGo (or are being created there) have a status to push.
    """
    case = CollectionCase.objects.filter(pk=case_id).first()
    if case is None or (case.pogo_case_id is None and not _has_create(case)):
        return None
    payload = case_status_payload(case)
    if payload["closed"]:
        if case_awaits_settlement_voucher(case):
            return None  # queued by the voucher's delivery (no row retried meanwhile)
    digest = payload_hash(payload)
    last = (
        OutboxMessage.objects.filter(case=case, kind=Kind.UPDATE_STATUS)
        .exclude(status=Status.FAILED)
        .order_by("-pk")
        .first()
    )
    if last is not None and payload_hash(last.payload) == digest:
        return None
    # The previous row is part of the key: A → B → A queues A again, while two receivers
    # reacting to the same change still write one row.
    message, _created = get_or_create(
        dedupe_key=f"update_status:{case.pk}:{last.pk if last else 0}:{digest}",
        kind=Kind.UPDATE_STATUS,
        creditor_id=case.creditor_id,
        case=case,
        payload=payload,
    )
    return message


def outbox_retry(*, message_ids) -> int:
    """Admin «Prøv igjen»: send failed (or waiting) rows again at the next delivery."""
    return OutboxMessage.objects.filter(
        pk__in=list(message_ids), status__in=[Status.FAILED, Status.PENDING]
    ).update(status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0, last_error="")

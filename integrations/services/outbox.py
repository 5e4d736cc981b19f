"""The outbox: calls we owe PowerOffice Go, written with the change they report and delivered
later, so a failed call is retried (with backoff) and never lost or made twice.

* ``create_case`` — ``DebtCollection/`` with our case number as ``code``, the Kundeweb case
  page as ``externalCaseUrl`` and every Go invoice of the case (sync-started, or started by
  hand from a Go invoice; the ids sent are recorded in the payload). A retry first looks the
  case up by ``code``: the earlier try may have reached PoGo even though we never recorded its
  answer. Go refusing it (an invoice not released in Go) fails the row with Go's reason,
  shown on the case page; the sync sends it again once one of its invoices is released.
* ``add_invoices`` — ``AddInvoicesToCase`` for invoices released after the case was created.
* ``update_status`` — ``UpdateStatus``; one row per distinct status (``dedupe_key``), and an
  older status never overwrites a newer one (it is *superseded*). The closing status of a case
  closed as *paid* to the agency is not queued until the voucher of the settlement that paid
  its money out has been delivered (:func:`.vouchers.case_awaits_settlement_voucher`).
* ``settlement_voucher`` — the settlement's voucher proposal or posted voucher
  (:mod:`.vouchers`); waits (``Deferred``) for the statement PDF.

Delivery is claim → call → record: a short transaction claims the row (one more attempt, a
lease until ``next_attempt_at``), the call runs with no transaction open, and a second short
transaction records the answer. Transient failures (429, 5xx, timeouts) back off
exponentially; PoGo refusing the call (another 4xx, a v1 ``success: false``) fails the row at
once, for a person to look at and retry from the admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter, defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.utils import timezone

from collections_cases.models import CollectionCase, Invoice, LedgerEntry, Letter
from integrations.clients import poweroffice_client
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice import errors as pogo_errors
from integrations.services.push import case_external_url, case_status_payload, payload_hash
from kravia_web.money import to_ore

logger = logging.getLogger(__name__)

Kind = OutboxMessage.Kind
Status = OutboxMessage.Status

MAX_ATTEMPTS = 10
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=6)
#: How long a claimed row is left alone: a worker that died mid-call is retried after it.
LEASE = dt.timedelta(minutes=5)
#: A status push waits this long for its case to exist in PoGo (not counted as an attempt).
WAIT_FOR_CASE = dt.timedelta(minutes=1)


class Deferred(Exception):
    """The row cannot be sent yet (e.g. its case is not created in PoGo yet)."""


# --- writing rows ---------------------------------------------------------------------------


def _get_or_create(*, dedupe_key: str, **fields) -> tuple[OutboxMessage, bool]:
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
    message, _created = _get_or_create(
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
    message, _created = _get_or_create(
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
    created in PoGo or closed goes the per-case way (rare; their rules need more rows)."""
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
        elif case.status == CollectionCase.Status.CLOSED:
            outbox_status(case_id=case.pk)
        else:
            batch.append(case)
    if not batch:
        return
    ids = [case.pk for case in batch]
    balances = dict(
        LedgerEntry.objects.filter(case_id__in=ids)
        .order_by()
        .values_list("case_id")
        .annotate(total=Sum("amount"))
    )
    last_letters = {}
    letters = Letter.objects.filter(case_id__in=ids).only("case_id", "kind", "sent_on", "deadline")
    for letter in letters.order_by("case_id", "sent_on", "pk"):
        last_letters[letter.case_id] = letter  # the latest wins
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
        from integrations.services.vouchers import case_awaits_settlement_voucher

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
    message, _created = _get_or_create(
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


# --- delivering rows ------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … up to 6 hours."""
    exponent = min(max(attempts - 1, 0), 20)  # 2**20 × 30 s is far past the cap already
    return min(BACKOFF_BASE * 2**exponent, BACKOFF_MAX)


def _retryable(exc: pogo_errors.PowerOfficeError) -> bool:
    if isinstance(exc, pogo_errors.RateLimited | pogo_errors.Unavailable):
        return True
    return exc.status_code is not None and exc.status_code >= 500


def _claim(message_id: int, now) -> OutboxMessage | None:
    """Take the row for one attempt: a conditional UPDATE, so of two workers (or two
    processes on SQLite, which has no row locks) exactly one wins."""
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("case").get(pk=message_id)


def _mark(message: OutboxMessage, **fields) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)


def _send_create_case(client: PowerOfficeClient, message: OutboxMessage) -> None:
    case = message.case
    if case.pogo_case_id is not None:
        return
    invoice_ids = [
        str(pogo_id)
        for pogo_id in Invoice.objects.filter(case=case, pogo_id__isnull=False)
        .order_by("invoice_no")
        .values_list("pogo_id", flat=True)
    ]
    if not invoice_ids:
        raise pogo_errors.ValidationError("Ingen av sakens fakturaer kommer fra PowerOffice Go.")
    found = None
    if message.attempts > 1:
        # An earlier try may have created it before we could record the answer.
        found = next((c for c in client.dc_list_cases() if c.code == case.number), None)
    if found is None:
        found = client.dc_create_case(
            code=case.number, invoice_ids=invoice_ids, external_case_url=case_external_url(case)
        )
    with transaction.atomic():
        CollectionCase.objects.filter(pk=case.pk, pogo_case_id__isnull=True).update(
            pogo_case_id=found.id
        )
        # What the creation carried: invoices joining the case later are added by hand.
        _mark(message, payload={**message.payload, "invoice_ids": invoice_ids})
        # Statuses that failed while Go refused the case go again (the newest wins).
        outbox_retry(
            message_ids=OutboxMessage.objects.filter(
                case=case, kind=Kind.UPDATE_STATUS, status=Status.FAILED
            ).values_list("pk", flat=True)
        )
        outbox_status(case_id=case.pk)


def _require_pogo_case(case: CollectionCase) -> None:
    """Wait while the case is being created in PoGo; fail when it never will be."""
    if case.pogo_case_id is not None:
        return
    if OutboxMessage.objects.filter(
        case=case, kind=Kind.CREATE_CASE, status=Status.PENDING
    ).exists():
        raise Deferred
    raise pogo_errors.ValidationError("Saken finnes ikke i PowerOffice Go.")


def _send_add_invoices(client: PowerOfficeClient, message: OutboxMessage) -> None:
    case = message.case
    _require_pogo_case(case)
    invoice_ids = message.payload.get("invoice_ids") or []
    if message.attempts > 1:
        present = {str(i.id) for i in client.dc_get_case(case.pogo_case_id).invoices}
        invoice_ids = [i for i in invoice_ids if i not in present]
    if invoice_ids:
        client.dc_add_invoices(case_id=case.pogo_case_id, invoice_ids=invoice_ids)


def _send_update_status(client: PowerOfficeClient, message: OutboxMessage) -> str | None:
    case = message.case
    newer = OutboxMessage.objects.filter(
        case=case, kind=Kind.UPDATE_STATUS, pk__gt=message.pk
    ).exclude(status=Status.FAILED)
    if newer.exists():
        return Status.SUPERSEDED
    _require_pogo_case(case)
    payload = message.payload
    client.dc_update_status(
        case_id=case.pogo_case_id,
        status_text=payload["status_text"],
        is_case_closed=bool(payload["closed"]),
        updated_balance_agency=payload["balance"],
    )
    return None


def _send_settlement_voucher(client: PowerOfficeClient, message: OutboxMessage) -> str | None:
    from integrations.services.vouchers import send_settlement_voucher

    return send_settlement_voucher(client, message)


def _settlement_voucher_failed(message: OutboxMessage, error: str) -> None:
    from integrations.services.vouchers import settlement_voucher_failed

    settlement_voucher_failed(message, error)


SENDERS = {
    Kind.CREATE_CASE: _send_create_case,
    Kind.ADD_INVOICES: _send_add_invoices,
    Kind.UPDATE_STATUS: _send_update_status,
    Kind.SETTLEMENT_VOUCHER: _send_settlement_voucher,
}


def _add_invoices_failed(message: OutboxMessage, error: str) -> None:
    if message.payload.get("released"):
        from integrations.services.sync_cases import addition_refused

        addition_refused(message=message, error=error)


#: What else a failed row does (the settlement shows why its voucher did not go; released
#: invoices Go would not add to its case get a case of their own).
ON_FAILED = {
    Kind.SETTLEMENT_VOUCHER: _settlement_voucher_failed,
    Kind.ADD_INVOICES: _add_invoices_failed,
}


def deliver_message(client: PowerOfficeClient, message: OutboxMessage, now) -> str:
    """Send one claimed row and record the outcome; returns the row's new status."""
    try:
        outcome = SENDERS[message.kind](client, message) or Status.SENT
    except Deferred:
        _mark(message, attempts=message.attempts - 1, next_attempt_at=now + WAIT_FOR_CASE)
        return "deferred"
    except pogo_errors.PowerOfficeError as exc:
        error = str(exc)[:1000]
        if _retryable(exc) and message.attempts < MAX_ATTEMPTS:
            _mark(message, last_error=error, next_attempt_at=now + backoff(message.attempts))
            return "retry"
        logger.warning("Outbox message %s failed: %s", message.pk, error)
        _mark(message, status=Status.FAILED, last_error=error)
        if message.kind in ON_FAILED:
            ON_FAILED[message.kind](message, error)
        return Status.FAILED
    _mark(message, status=outcome, sent_at=timezone.now(), last_error="")
    return outcome


def deliver_outbox(
    *, creditor_id: int | None = None, client: PowerOfficeClient | None = None, limit: int = 500
) -> dict[str, int]:
    """Send the rows that are due, oldest first (a case's creation before its status).

    ``client`` may be given with ``creditor_id`` (the sync reuses its client); otherwise one
    client per creditor is built from its connection. Returns counts per outcome.
    """
    counts: Counter = Counter()
    # A created case queues its first status: a second pass sends it right away.
    for _pass in range(3):
        sent = _deliver_due(creditor_id, client, limit, counts)
        if not sent:
            break
    return dict(counts)


def _deliver_due(creditor_id, client, limit: int, counts: Counter) -> int:
    now = timezone.now()
    due = OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
    if creditor_id is not None:
        due = due.filter(creditor_id=creditor_id)
    by_creditor: dict[int, list[int]] = defaultdict(list)
    kinds: dict[int, str] = {}
    for pk, owner, kind in due.order_by("pk").values_list("pk", "creditor_id", "kind")[:limit]:
        by_creditor[owner].append(pk)
        kinds[pk] = kind
    # While another agency holds the company in Go (IsActiveDebtCollection false, as the last
    # sync read it), Go refuses every new case: creations wait, untouched, for the sync that
    # finds it true again (no attempt is spent, nothing fails, nothing is retried meanwhile).
    held = set(
        PowerOfficeConnection.objects.filter(
            creditor_id__in=list(by_creditor), debt_collection_active=False
        ).values_list("creditor_id", flat=True)
    )
    waiting = 0
    for owner in held:
        ids = by_creditor[owner]
        by_creditor[owner] = [pk for pk in ids if kinds[pk] != Kind.CREATE_CASE]
        waiting += len(ids) - len(by_creditor[owner])
    if waiting:  # the same rows on every pass: counted once
        counts["other_agency_active"] = max(counts["other_agency_active"], waiting)
    sent = 0
    for owner, ids in by_creditor.items():
        owner_client = client if client is not None and owner == creditor_id else None
        if owner_client is None:
            connection = PowerOfficeConnection.objects.filter(creditor_id=owner).first()
            if connection is None or not connection.is_connected:
                counts["not_connected"] += len(ids)
                continue
            owner_client = poweroffice_client(client_key=connection.client_key)
        for pk in ids:
            message = _claim(pk, now)
            if message is None:
                continue
            outcome = deliver_message(owner_client, message, now)
            counts[outcome] += 1
            sent += outcome == Status.SENT
    return sent

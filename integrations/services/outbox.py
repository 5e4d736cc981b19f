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
  its money out has been delivered (:func:`.settlement_wait.case_awaits_settlement_voucher`).
* ``settlement_voucher`` — the settlement's voucher proposal or posted voucher
  (:mod:`.vouchers`); waits (``Deferred``) for the statement PDF.

Rows are written by :mod:`.queue` (in the transaction of the change); this module delivers them.

Delivery is claim → call → record: a short transaction claims the row (one more attempt, a
lease until ``next_attempt_at``), the call runs with no transaction open, and a second short
transaction records the answer. Transient failures (429, 5xx, timeouts) back off
exponentially; PoGo refusing the call (another 4xx, a v1 ``success: false``) fails the row at
once, for a person to look at and retry from the admin.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from collections_cases.models import CollectionCase, Invoice
from integrations.clients import poweroffice_client
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice import errors as pogo_errors
from integrations.services.connections import DEBT_COLLECTION_REFUSALS, debt_collection_forget
from integrations.services.push import case_external_url
from integrations.services.queue import Deferred, outbox_retry, outbox_status
from integrations.services.sync_cases import addition_refused
from integrations.services.vouchers import send_settlement_voucher, settlement_voucher_failed

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


SENDERS = {
    Kind.CREATE_CASE: _send_create_case,
    Kind.ADD_INVOICES: _send_add_invoices,
    Kind.UPDATE_STATUS: _send_update_status,
    Kind.SETTLEMENT_VOUCHER: send_settlement_voucher,
}


def _add_invoices_failed(message: OutboxMessage, error: str) -> None:
    if message.payload.get("released"):
        addition_refused(message=message, error=error)


#: What else a failed row does (the settlement shows why its voucher did not go; released
#: invoices Go would not add to its case get a case of their own).
ON_FAILED = {
    Kind.SETTLEMENT_VOUCHER: settlement_voucher_failed,
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
        if message.kind == Kind.CREATE_CASE and isinstance(exc, DEBT_COLLECTION_REFUSALS):
            debt_collection_forget(creditor_id=message.creditor_id)  # another agency now?
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

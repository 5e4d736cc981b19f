"""Pull a creditor's PowerOffice Go data into ours, one connection at a time.

``sync_connection`` runs the steps in order: customers → ``Debtor``, invoices → ``Invoice``,
chart of accounts, released invoices → cases (:mod:`.sync_cases`), matched items → case ledgers
(:mod:`.sync_matches`), then delivers the outbox (:mod:`.outbox`) with the same client.

Claim → call → record: every step fetches from PoGo first, outside any transaction, then
writes in short transactions. Writes are bulk (one query per batch, not per row; on PostgreSQL
a page is one ``COPY`` and one ``INSERT … ON CONFLICT``, :mod:`.bulk`). Customers and invoices
are streamed: a page's rows are read, then written in one short transaction while a second
thread reads the next page (the transaction never waits for PoGo), so a big company's rows are
never all in memory; the cursor moves only after the last page (a failure half-way re-reads
from the old cursor, and the upserts make the re-read rows a no-op). A record we cannot take
is skipped, with its reason in the ``SyncRun``; the rest still syncs. A cursor is
the time its last read began less an overlap window (PoGo's exclusive ``…GreaterThan``
filters read from a replica that may lag): the few rows re-read each time are harmless,
since the upserts change nothing when nothing changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.no import orgnr

from collections_cases.models import Invoice
from creditors.models import Debtor
from creditors.validators import org_number_or_blank
from integrations.clients import poweroffice_client
from integrations.models import PogoInvoiceState, PowerOfficeConnection, SyncCursor, SyncRun
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice import errors as pogo_errors
from integrations.services import bulk
from integrations.services.connections import error_message
from integrations.services.cursors import (
    BATCH_SIZE,
    cursor_advance,
    cursor_get,
    cursor_since,
    read_started,
)
from integrations.services.outbox import deliver_outbox
from integrations.services.sync_cases import sync_released_invoices
from integrations.services.sync_matches import sync_matched_items
from kravia_web.crashpoints import crash_point
from kravia_web.errors import ApplicationError
from kravia_web.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

logger = logging.getLogger(__name__)

#: Rows read from PoGo per write transaction: one default page (the client reads lazily).
STREAM_CHUNK = 5000
CREDIT_NOTE = "OutgoingCreditNote"
Resource = SyncCursor.Resource


# --- run bookkeeping ------------------------------------------------------------------------


@dataclass
class SyncLog:
    """Counts per resource and the records a run skipped, with their reasons."""

    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    errors: list[dict] = field(default_factory=list)

    def count(self, resource: str, key: str, n: int = 1) -> None:
        if n or key == "fetched":
            bucket = self.counts[resource]
            bucket[key] = bucket.get(key, 0) + n

    def skip(self, resource: str, record: str, reason: str) -> None:
        self.count(resource, "skipped")
        self.errors.append({"resource": resource, "record": record, "reason": reason})


def _batches(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Unreadable:
    """``on_unreadable`` for a streamed read: the records PoGo sent that could not be read are
    kept with the chunk being read and logged when that chunk is handed over, in the sync's own
    thread and in the order a plain read would log them."""

    def __init__(self, report) -> None:
        self.report = report
        self.pending: list[tuple[str, str]] = []

    def __call__(self, record: str, reason: str) -> None:
        self.pending.append((record, reason))

    def take(self) -> list[tuple[str, str]]:
        pending, self.pending = self.pending, []
        return pending


def _prefetch() -> bool:
    return getattr(settings, "POWEROFFICE_SYNC_PREFETCH", True)


def _streamed(items: Iterable, unreadable: _Unreadable | None = None) -> Iterator[list]:
    """The client's rows in lists of ``STREAM_CHUNK``, read lazily, so all rows are never held
    at once; each list is in hand (its pages fetched) before the caller opens a transaction.

    The next list is read in a second thread while the caller writes this one: the wait for
    PoGo's next page and the parsing of it overlap our writes (the caller's transaction never
    waits for PoGo; at most two lists are in memory). The thread only talks to PoGo, never to
    the database; ``POWEROFFICE_SYNC_PREFETCH = False`` reads in the caller's thread (tests
    whose PoGo is the in-process sandbox, which answers from the database).
    """
    iterator = iter(items)

    def take() -> tuple[list, list]:
        chunk = list(islice(iterator, STREAM_CHUNK))
        return chunk, unreadable.take() if unreadable else []

    def handed_over(chunk, skipped) -> list:
        for record, reason in skipped:
            unreadable.report(record, reason)
        return chunk

    if not _prefetch():
        while chunk := handed_over(*take()):
            yield chunk
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pogo-prefetch") as reader:
        pending = reader.submit(take)
        while chunk := handed_over(*pending.result()):
            pending = reader.submit(take)
            yield chunk


def upsert(model, *, creditor, key: str, rows: dict, now) -> tuple[int, int]:
    """Insert or update ``rows`` (``{key value: {attname: value}}``) of ``creditor``.

    One select per batch (``in_bulk`` on the key), then ``bulk_create`` and ``bulk_update``
    of the rows that are new or differ. (``bulk_create(update_conflicts=True)`` cannot target
    the partial unique constraints on ``(creditor, pogo_id)``.) Returns (created, updated).
    On PostgreSQL the same in one ``COPY`` and one ``INSERT … ON CONFLICT`` (:mod:`.bulk`).
    """
    if bulk.supported():
        return bulk.upsert_copy(model, creditor=creditor, key=key, rows=rows, now=now)
    created = updated = 0
    keys = list(rows)
    for batch in _batches(keys):
        existing = {
            getattr(obj, key): obj
            for obj in model.objects.filter(creditor=creditor, **{f"{key}__in": batch})
        }
        to_create, to_update, changed_fields = [], [], set()
        for value in batch:
            values = rows[value]
            obj = existing.get(value)
            if obj is None:
                to_create.append(model(creditor=creditor, **{key: value}, **values))
                continue
            changed = [name for name, new in values.items() if getattr(obj, name) != new]
            if changed:
                for name in changed:
                    setattr(obj, name, values[name])
                obj.updated_at = now
                changed_fields.update(changed)
                to_update.append(obj)
        if to_create:
            model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            names = {f.attname: f.name for f in model._meta.concrete_fields}
            fields = sorted({names[a] for a in changed_fields} | {"updated_at"})
            model.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
        created += len(to_create)
        updated += len(to_update)
    return created, updated


def _text(value, max_length: int) -> str:
    return (value or "").strip()[:max_length]


#: What ``_email`` names in its error; lazy, so that a valid address costs no translation.
EMAIL = gettext_lazy("e-post")
REMINDER_EMAIL = gettext_lazy("purre-e-post")


def _org_number(value) -> str:
    """``org_number_or_blank``, with the common case (nine plain digits) checked here: stdnum's
    generic cleaning of every number was a fifth of the customers' parse time. The same rule
    as ``orgnr.is_valid`` for such a value: the mod-11 checksum is 0."""
    if isinstance(value, str) and len(value) == 9 and value.isascii() and value.isdigit():
        return value if orgnr.checksum(value) == 0 else ""
    return org_number_or_blank(value)


def _email(value, what: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ApplicationError(
                _("Ugyldig %(what)s: «%(value)s».") % {"what": what, "value": value[:100]}
            ) from None
    return value


#: ``Invoice.invoice_no`` and ``Debtor.customer_number`` are PositiveBigIntegerFields:
#: 0 … 2**63 - 1.
MAX_NUMBER = MAX_INVOICE_NO = 2**63 - 1


# --- customers → Debtor ---------------------------------------------------------------------


def _debtor_values(customer) -> dict:
    """Our fields of a PoGo customer; raises ``ApplicationError`` for a record we cannot take."""
    name = _text(customer.name, 200)
    if not name:
        raise ApplicationError(_("Kunden mangler navn."))
    number = customer.number
    # ``Debtor.customer_number`` is a PositiveBigIntegerField (0 … 2**63 - 1), or empty.
    if number is not None and (not isinstance(number, int) or not 0 <= number <= MAX_NUMBER):
        raise ApplicationError(_("Ugyldig kundenummer."))
    address = customer.mail_address
    return {
        "customer_number": number,
        "name": name,
        "is_person": bool(customer.is_person),
        "org_number": _org_number(customer.organization_number),
        "email": _email(customer.email_address or customer.invoice_email_address, EMAIL),
        "reminder_email": _email(customer.payment_reminder_email_address, REMINDER_EMAIL),
        "phone": _text(customer.phone_number, 50),
        "address_line": _text(address.address_line1 if address else "", 200),
        "postal_code": _text(address.zip_code if address else "", 10),
        "postal_city": _text(address.city if address else "", 100),
        "country_code": _text(address.country_code if address else "", 2) or "NO",
        "transfer_to_debt_collection_agency": bool(customer.transfer_to_debt_collection_agency),
        "send_payment_reminders": customer.send_payment_reminders is not False,
        "do_not_add_late_payment_fees": bool(customer.do_not_add_late_payment_fees),
        "do_not_add_late_payment_interest": bool(customer.do_not_add_late_payment_interest),
        "pogo_last_changed": customer.last_changed,
        # The customer's own sub-ledger account: a settlement voucher credits it.
        "pogo_subledger_account_id": customer.subledger_account_id,
    }


def sync_customers(*, connection: PowerOfficeConnection, client: PowerOfficeClient, log) -> None:
    resource = Resource.CUSTOMERS
    next_cursor = read_started()
    log.count(resource, "fetched", 0)
    unreadable = _Unreadable(lambda record, reason: log.skip(resource, record, reason))
    customers = client.customers(
        changed_since=cursor_since(connection, resource), on_unreadable=unreadable
    )
    for chunk in _streamed(customers, unreadable):
        log.count(resource, "fetched", len(chunk))
        rows = {}
        for customer in chunk:
            try:
                rows[customer.id] = _debtor_values(customer)
            except ApplicationError as exc:
                log.skip(resource, _("kunde %(number)s") % {"number": customer.number}, exc.message)
        with transaction.atomic():
            bulk.commit_without_waiting()
            created, updated = upsert(
                Debtor, creditor=connection.creditor, key="pogo_id", rows=rows, now=timezone.now()
            )
        log.count(resource, "created", created)
        log.count(resource, "updated", updated)
    _analyze_after_load(log, resource, Debtor)
    cursor_advance(connection, resource, next_cursor)


def _analyze_after_load(log, resource: str, *models) -> None:
    """After a large first load, refresh the planner's statistics of the tables written: they
    were analysed (nearly) empty, and the later steps look rows up by creditor."""
    if bulk.supported() and log.counts[resource].get("created", 0) >= bulk.ANALYZE_AFTER_ROWS:
        bulk.analyze(*models)


# --- invoices → Invoice ---------------------------------------------------------------------


MAX_AMOUNT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)


def _invoice_values(invoice, debtor_id: int) -> dict:
    """Our fields of a PoGo invoice; raises ``ApplicationError`` for one we cannot take."""
    currency = (invoice.currency_code or "NOK").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ApplicationError(_("Ugyldig valutakode."))
    for amount in (invoice.total_amount, invoice.balance):
        if amount is not None and (not amount.is_finite() or abs(amount) >= MAX_AMOUNT):
            raise ApplicationError(_("Beløpet er for stort til å være en faktura."))
    if invoice.total_amount <= 0:
        raise ApplicationError(_("Fakturaen har ikke et positivt beløp."))
    if not isinstance(invoice.invoice_no, int) or not 0 <= invoice.invoice_no <= MAX_INVOICE_NO:
        raise ApplicationError(_("Ugyldig fakturanummer."))
    return {
        "debtor_id": debtor_id,
        "invoice_no": invoice.invoice_no,
        "voucher_type": _text(invoice.voucher_type, 40),
        "invoice_date": invoice.voucher_date,
        "due_date": invoice.due_date,
        "currency": currency,
        "total_amount": invoice.total_amount,
        "balance": invoice.balance if invoice.balance is not None else invoice.total_amount,
        "balance_last_changed": invoice.balance_last_changed,
        "cid": _text(invoice.cid, 25),
        "pogo_last_changed": invoice.last_changed,
    }


def sync_invoices(*, connection: PowerOfficeConnection, client: PowerOfficeClient, log) -> None:
    """Unpaid invoices on the first run; afterwards every invoice whose balance changed (paid
    ones included, so a case learns that its invoice was settled in Go)."""
    resource = Resource.INVOICES
    since = cursor_since(connection, resource)
    next_cursor = read_started()

    unreadable = _Unreadable(
        lambda record, reason: log.skip(
            resource, _("faktura %(number)s") % {"number": record}, reason
        )
    )

    if since is None:
        invoices = client.outgoing_invoices(only_unpaid=True, on_unreadable=unreadable)
    else:
        invoices = client.outgoing_invoices(balance_changed_since=since, on_unreadable=unreadable)
    creditor = connection.creditor
    log.count(resource, "fetched", 0)
    for chunk in _streamed(invoices, unreadable):
        log.count(resource, "fetched", len(chunk))
        customer_ids = {i.customer_id for i in chunk if i.customer_id is not None}
        if bulk.supported():
            debtors = bulk.pks_by_key(
                Debtor, creditor_id=creditor.pk, key="pogo_id", values=customer_ids
            )
        else:
            debtors = dict(
                Debtor.objects.filter(creditor=creditor, pogo_id__in=customer_ids).values_list(
                    "pogo_id", "pk"
                )
            )
        rows, match_ids = {}, {}
        for invoice in chunk:
            if invoice.voucher_type == CREDIT_NOTE:
                log.count(resource, "ignored")  # settles an invoice; seen through matched items
                continue
            debtor_id = debtors.get(invoice.customer_id)
            if debtor_id is None:
                log.skip(
                    resource,
                    _("faktura %(number)s") % {"number": invoice.invoice_no},
                    _("Kunden (%(customer)s) er ikke synkronisert.")
                    % {"customer": invoice.customer_no or invoice.customer_id},
                )
                continue
            try:
                rows[invoice.id] = _invoice_values(invoice, debtor_id)
            except ApplicationError as exc:
                log.skip(
                    resource, _("faktura %(number)s") % {"number": invoice.invoice_no}, exc.message
                )
                continue
            match_ids[invoice.id] = invoice.match_id
        with transaction.atomic():
            bulk.commit_without_waiting()
            created, updated = upsert(
                Invoice, creditor=creditor, key="pogo_id", rows=rows, now=timezone.now()
            )
            _record_match_ids(creditor, match_ids)
        log.count(resource, "created", created)
        log.count(resource, "updated", updated)
    _analyze_after_load(log, resource, Invoice, PogoInvoiceState)
    cursor_advance(connection, resource, next_cursor)


def _record_match_ids(creditor, match_ids: dict) -> None:
    """Keep PoGo's ``MatchId`` of each invoice: matched items name the invoice only by it."""
    if bulk.supported():
        bulk.record_match_ids(creditor_id=creditor.pk, match_ids=match_ids)
        return
    for batch in _batches(list(match_ids)):
        pks = Invoice.objects.filter(creditor=creditor, pogo_id__in=batch).values_list(
            "pogo_id", "pk"
        )
        PogoInvoiceState.objects.bulk_create(
            [
                PogoInvoiceState(invoice_id=pk, creditor=creditor, match_id=match_ids[pogo_id])
                for pogo_id, pk in pks
            ],
            update_conflicts=True,
            unique_fields=["invoice"],
            update_fields=["match_id"],
        )


# --- chart of accounts ----------------------------------------------------------------------


#: The chart of accounts rarely changes, and only the settings page's account check reads the
#: stored copy (a settlement voucher looks its accounts up in Go itself and refreshes their
#: entries; "Oppdater fra PowerOffice Go" reads the whole chart at once): a sync reads it again
#: once the copy is this old, or when there is none.
CHART_MAX_AGE = dt.timedelta(hours=1)


def _chart_is_fresh(connection: PowerOfficeConnection) -> bool:
    if not connection.chart_of_accounts:
        return False
    read_at = cursor_get(connection, Resource.CHART_OF_ACCOUNTS)
    return read_at is not None and read_at > timezone.now() - CHART_MAX_AGE


def sync_accounts(*, connection: PowerOfficeConnection, client: PowerOfficeClient, log) -> None:
    """The chart of accounts, at most once an hour: with a five-minute interval, eleven
    cycles in twelve make four requests per creditor instead of five."""
    if _chart_is_fresh(connection):
        return
    read_at = timezone.now()
    accounts = client.general_ledger_accounts()
    chart = {
        str(account.account_no): {"name": account.name, "is_active": bool(account.is_active)}
        for account in accounts
    }
    log.count("accounts", "fetched", len(accounts))
    if chart != connection.chart_of_accounts:
        connection.chart_of_accounts = chart
        PowerOfficeConnection.objects.filter(pk=connection.pk).update(
            chart_of_accounts=chart, updated_at=timezone.now()
        )
        log.count("accounts", "updated")
    cursor_advance(connection, Resource.CHART_OF_ACCOUNTS, read_at)


# --- the run --------------------------------------------------------------------------------


#: A run still *running* after this long was left by a dead worker (tasks stop at 15 min).
STALE_RUN = dt.timedelta(minutes=20)


class SyncAlreadyRunning(ApplicationError):
    pass


def _start_run(connection: PowerOfficeConnection) -> SyncRun:
    """Record the run's start; the partial unique constraint refuses a second running run."""
    now = timezone.now()
    SyncRun.objects.filter(
        connection=connection, status=SyncRun.Status.RUNNING, started_at__lt=now - STALE_RUN
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        errors=[{"resource": "sync", "record": "", "reason": _("Avbrutt (arbeideren stoppet).")}],
    )
    try:
        with transaction.atomic():
            return SyncRun.objects.create(connection=connection, started_at=now)
    except IntegrityError:
        raise SyncAlreadyRunning(
            _("Synkronisering av %(name)s pågår allerede.") % {"name": connection.creditor.name}
        ) from None


def sync_runs_prune(*, keep_days: int = 30) -> int:
    """Forget finished runs older than ``keep_days`` (every 5 minutes per connection adds up)."""
    cutoff = timezone.now() - dt.timedelta(days=keep_days)
    deleted, _details = (
        SyncRun.objects.filter(started_at__lt=cutoff)
        .exclude(status=SyncRun.Status.RUNNING)
        .delete()
    )
    return deleted


def sync_connection(*, connection_id: int, client: PowerOfficeClient | None = None) -> SyncRun:
    """Sync one connected creditor with PowerOffice Go; returns the run's record.

    A PoGo failure ends the run (status *failed*, its reason in ``errors``); what earlier steps
    wrote stays, and the cursors make the next run continue from there.
    """
    connection = PowerOfficeConnection.objects.select_related("creditor").get(pk=connection_id)
    if not connection.is_connected:
        raise ApplicationError(
            _("%(name)s er ikke koblet til PowerOffice Go.") % {"name": connection.creditor.name}
        )
    run = _start_run(connection)
    started = time.monotonic()
    log = SyncLog()
    client = client or poweroffice_client(client_key=connection.client_key)
    requests_before = client.request_count
    failure = ""
    steps = (
        sync_customers,
        sync_invoices,
        sync_accounts,
        sync_released_invoices,
        sync_matched_items,
    )
    try:
        for step in steps:
            step(connection=connection, client=client, log=log)
            crash_point(f"sync.after_{step.__name__}")
        log.counts["outbox"] = deliver_outbox(creditor_id=connection.creditor_id, client=client)
    except pogo_errors.PowerOfficeError as exc:
        logger.warning("PowerOffice sync of connection %s failed: %s", connection.pk, exc)
        failure = error_message(exc)
        log.errors.append({"resource": "sync", "record": "", "reason": failure})
    except Exception:
        # A bug, not PoGo: keep the run's record honest, then let it surface.
        failure = _("Synkroniseringen stoppet på en intern feil.")
        log.errors.append({"resource": "sync", "record": "", "reason": failure})
        _finish(run, connection, log, client, requests_before, started, failure)
        raise
    _finish(run, connection, log, client, requests_before, started, failure)
    return run


def _finish(run, connection, log, client, requests_before, started, failure: str) -> None:

    now = timezone.now()
    if failure:
        run.status = SyncRun.Status.FAILED
    elif log.errors:
        run.status = SyncRun.Status.PARTIAL
    else:
        run.status = SyncRun.Status.OK
    run.finished_at = now
    run.duration = dt.timedelta(seconds=time.monotonic() - started)
    run.counts = {resource: dict(counts) for resource, counts in log.counts.items()}
    run.errors = log.errors
    run.request_count = client.request_count - requests_before
    run.save()
    connection_fields = {"updated_at": now}
    if failure:
        connection_fields.update(last_error=failure, last_error_at=now)
    else:
        connection_fields.update(last_sync_at=now, last_error="", last_error_at=None)
    PowerOfficeConnection.objects.filter(pk=connection.pk).update(**connection_fields)


def active_connection_ids() -> list[int]:
    """Connections with a client key (the key is encrypted, so it is checked in Python)."""
    connections = PowerOfficeConnection.objects.filter(disconnected_at__isnull=True).order_by("pk")
    return [connection.pk for connection in connections if connection.is_connected]

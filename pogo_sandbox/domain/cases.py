"""Debt collection cases (v1), driven by the agency: pick-up (Godkjent → Åpne), status, merge,
reject, and the matched items it polls."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from pogo_sandbox.models import (
    ClientSubscription,
    Company,
    DebtCollectionCase,
    LedgerEntry,
    OutgoingInvoice,
)

from .common import SandboxError, Status
from .drafts import refresh_drafts


def debt_collection_active(subscription: ClientSubscription) -> bool:
    """``IsActiveDebtCollection``: may this agency create new cases for the client."""
    return (
        subscription.is_active
        and subscription.can_create_cases
        and subscription.application.is_debt_collection_agency
    )


def require_debt_collection_active(subscription: ClientSubscription) -> None:
    """Go's rule (the ``IsActiveDebtCollection`` reference): while it is false,
    ``AvailableInvoices`` and creating a case fail — another agency holds the company."""
    if not debt_collection_active(subscription):
        raise SandboxError("Inkassobyrået kan ikke opprette nye saker for denne klienten.")


def set_other_agency_active(subscription: ClientSubscription, active: bool = True) -> None:
    """Tests and the sandbox admin: another agency takes (or gives back) "Inkassobyrå kan
    opprette nye saker" for the company, as activating it in Go → Innstillinger does."""
    subscription.can_create_cases = not active
    subscription.save(update_fields=["can_create_cases"])


def available_invoices(company: Company, *, today: dt.date | None = None):
    """Inkasso → Godkjent: invoices the creditor released and no case holds yet."""
    refresh_drafts(company, today=today)
    return (
        OutgoingInvoice.objects.filter(
            company=company, debt_collection_status=Status.APPROVED, balance__gt=0
        )
        .select_related("customer")
        .order_by("invoice_no")
    )


def _case_for(subscription: ClientSubscription, case_id) -> DebtCollectionCase:
    case = (
        DebtCollectionCase.objects.select_for_update()
        .filter(company=subscription.company, application=subscription.application, id=case_id)
        .first()
    )
    if case is None:
        raise SandboxError(f"Fant ikke inkassosak {case_id}.")
    return case


def _take_invoices(subscription: ClientSubscription, case: DebtCollectionCase, invoice_ids) -> None:
    ids = list(dict.fromkeys(invoice_ids))
    invoices = list(
        OutgoingInvoice.objects.select_for_update().filter(company=subscription.company, id__in=ids)
    )
    if len(invoices) != len(ids):
        raise SandboxError("En eller flere fakturaer finnes ikke.")
    not_available = [i.invoice_no for i in invoices if i.debt_collection_status != Status.APPROVED]
    if not_available:
        raise SandboxError(f"Fakturaene er ikke godkjent for inkasso: {not_available}")
    now = timezone.now()
    OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
        debt_collection_status=Status.EXPORTED,
        debt_collection_status_changed=now,
        debt_case=case,
        last_changed=now,
    )


def create_case(
    subscription: ClientSubscription,
    *,
    code: str,
    invoice_ids,
    external_case_url: str = "",
    balance_agency: Decimal | None = None,
) -> DebtCollectionCase:
    """The agency picks invoices up: they move from Godkjent to Åpne under its case number."""
    require_debt_collection_active(subscription)
    with transaction.atomic():
        case = DebtCollectionCase.objects.create(
            company=subscription.company,
            application=subscription.application,
            code=code,
            external_case_url=external_case_url,
            balance_agency=balance_agency,
        )
        _take_invoices(subscription, case, invoice_ids)
    return case


def add_invoices_to_case(
    subscription: ClientSubscription, *, case_id, invoice_ids
) -> DebtCollectionCase:
    with transaction.atomic():
        case = _case_for(subscription, case_id)
        if case.status == DebtCollectionCase.Status.CLOSED:
            raise SandboxError(f"Inkassosak {case.code} er avsluttet og tar ikke flere fakturaer.")
        _take_invoices(subscription, case, invoice_ids)
        case.last_changed = timezone.now()
        case.save(update_fields=["last_changed"])
    return case


def update_case_status(
    subscription: ClientSubscription,
    *,
    case_id,
    status_text: str,
    is_closed: bool = False,
    balance_agency: Decimal | None = None,
) -> DebtCollectionCase:
    """The status text, state and agency balance Go shows in Inkasso → Åpne."""
    with transaction.atomic():
        case = _case_for(subscription, case_id)
        case.status_text = status_text
        case.status = (
            DebtCollectionCase.Status.CLOSED if is_closed else DebtCollectionCase.Status.ACTIVE
        )
        if balance_agency is not None:
            case.balance_agency = balance_agency
        case.last_changed = timezone.now()
        case.save(update_fields=["status_text", "status", "balance_agency", "last_changed"])
    return case


def merge_cases(
    subscription: ClientSubscription, *, case_ids, code: str, external_case_url: str = ""
) -> DebtCollectionCase:
    """Fold several cases into the first one, which takes the new case number and URL."""
    case_ids = list(dict.fromkeys(case_ids))
    if len(case_ids) < 2:
        raise SandboxError("Oppgi minst to saker som skal slås sammen.")
    with transaction.atomic():
        cases = [_case_for(subscription, case_id) for case_id in case_ids]
        target, others = cases[0], cases[1:]
        now = timezone.now()
        OutgoingInvoice.objects.filter(debt_case__in=others).update(
            debt_case=target, last_changed=now
        )
        DebtCollectionCase.objects.filter(pk__in=[c.pk for c in others]).delete()
        target.code = code or target.code
        if external_case_url:
            target.external_case_url = external_case_url
        target.last_changed = now
        target.save(update_fields=["code", "external_case_url", "last_changed"])
    return target


def reject_case(subscription: ClientSubscription, *, case_id) -> None:
    """The agency rejects the case: its invoices become Avvist and the case is deleted."""
    with transaction.atomic():
        case = _case_for(subscription, case_id)
        now = timezone.now()
        case.invoices.update(
            debt_collection_status=Status.REJECTED,
            debt_collection_status_changed=now,
            debt_case=None,
            last_changed=now,
        )
        case.delete()


def matched_items_since(subscription: ClientSubscription, since: dt.datetime):
    """``[(case, [ledger entries])]``: payments, credit notes and write-offs matched to the
    agency's case invoices whose entries changed after ``since`` (exclusive)."""
    entries = (
        LedgerEntry.objects.filter(
            company=subscription.company,
            invoice__debt_case__application=subscription.application,
            last_changed__gt=since,
        )
        .exclude(voucher_type="OutgoingInvoice")
        .select_related("customer", "invoice", "invoice__debt_case")
        .order_by("last_changed", "pk")
    )
    grouped: dict = {}
    for entry in entries:
        grouped.setdefault(entry.invoice.debt_case, []).append(entry)
    return list(grouped.items())

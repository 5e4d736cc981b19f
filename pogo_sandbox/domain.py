"""The sandbox's business logic: what PowerOffice Go itself does behind its screens and API.

Screens, API views and management commands call these functions and nothing else writes.
Every change bumps ``last_changed`` (and ``balance_last_changed`` when money moves) so the
API's exclusive incremental filters see it, exactly as polling the real Go would.

Rules picked where the sources are silent (keep them here, easy to change):

* Dunning letters from Go (purring / inkassovarsel) are "sent" ``LETTER_DAYS_AFTER_DUE`` days
  after the due date (a purring fee may not be charged earlier); an inkassovarsel following a
  purring goes out the day after the purring's deadline. Each letter's deadline is
  ``company.reminder_deadline_days``. Sending one only records ``last_reminder_*`` on the
  invoice (no fee is posted).
* "Fjern" in Inkasso → Utkast sets the invoice ON_HOLD: it leaves Utkast and ``refresh_drafts``
  (which only looks at status NONE) never brings it back.
* An invoice paid in full while in Utkast or Godkjent goes back to NONE: there is nothing to
  collect.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from .models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    Customer,
    DebtCollectionCase,
    FaultRule,
    GeneralLedgerAccount,
    GoUser,
    JournalVoucher,
    LedgerEntry,
    OnboardingSession,
    OutgoingInvoice,
    RequestCount,
)

OSLO = ZoneInfo("Europe/Oslo")
Status = OutgoingInvoice.DebtCollectionStatus

NO_REMINDER_DAYS = 1
FEE_FREE_REMINDER_DAYS = 14
LETTER_DAYS_AFTER_DUE = 14
RECEIVABLE_ACCOUNT_NO = 1500
COUNT_ATTEMPTS = 20

PURRING = "OutgoingPaymentReminder"
INKASSOVARSEL = "OutgoingNoticeOfDebtCollection"


class SandboxError(Exception):
    """A business rule refused the action; the message is shown to the user or API caller."""


def oslo_today() -> dt.date:
    return timezone.now().astimezone(OSLO).date()


# --- Inkasso → Utkast -------------------------------------------------------------------------


def dunning_letters(
    company: Company, customer: Customer, due: dt.date
) -> list[tuple[str, dt.date]]:
    """The letters Go sends for an invoice due on ``due``: ``[(voucher type, sent date)]``."""
    if not customer.send_payment_reminders:
        return []
    deadline = dt.timedelta(days=company.reminder_deadline_days)
    letters = []
    sent = due + dt.timedelta(days=LETTER_DAYS_AFTER_DUE)
    if company.purring_enabled:
        letters.append((PURRING, sent))
        sent = sent + deadline + dt.timedelta(days=1)
    if company.inkassovarsel_enabled:
        letters.append((INKASSOVARSEL, sent))
    return letters


def _has_reminder_email(customer: Customer) -> bool:
    return bool(customer.payment_reminder_email_address or customer.email_address)


def draft_date(company: Company, customer: Customer, due: dt.date) -> dt.date:
    """The day an unpaid invoice appears in Inkasso → Utkast (the reference's timing rules)."""
    letters = dunning_letters(company, customer, due)
    if letters:
        _, last_sent = letters[-1]
        return last_sent + dt.timedelta(days=company.reminder_deadline_days + 1)
    fee_free = (
        company.payment_reminder_enabled
        and customer.send_payment_reminders
        and _has_reminder_email(customer)
    )
    return due + dt.timedelta(days=FEE_FREE_REMINDER_DAYS if fee_free else NO_REMINDER_DAYS)


def _record_letters(invoice: OutgoingInvoice, company: Company, today: dt.date) -> bool:
    sent = [
        letter
        for letter in dunning_letters(company, invoice.customer, invoice.due_date)
        if letter[1] <= today
    ]
    if not sent:
        return False
    voucher_type, sent_on = sent[-1]
    if invoice.last_reminder_sent_date and invoice.last_reminder_sent_date >= sent_on:
        return False
    customer = invoice.customer
    invoice.last_reminder_sent_date = sent_on
    invoice.last_reminder_due_date = sent_on + dt.timedelta(days=company.reminder_deadline_days)
    invoice.last_reminder_voucher_type = voucher_type
    invoice.last_reminder_email_address = (
        customer.payment_reminder_email_address or customer.email_address
    )
    return True


def refresh_drafts(company: Company, *, today: dt.date | None = None) -> int:
    """Move unpaid invoices whose time has come into Utkast (or Godkjent when auto-approved).

    Also records the purring / inkassovarsel Go has "sent" by ``today``. Returns how many
    invoices changed debt-collection status.
    """
    today = today or oslo_today()
    now = timezone.now()
    target = Status.APPROVED if company.auto_transfer_to_agency else Status.DRAFT
    moved = 0
    with transaction.atomic():
        invoices = (
            OutgoingInvoice.objects.select_for_update()
            .select_related("customer")
            .filter(
                company=company,
                voucher_type="OutgoingInvoice",
                debt_collection_status=Status.NONE,
                balance__gt=0,
                due_date__lt=today,
            )
        )
        for invoice in invoices:
            fields = []
            if _record_letters(invoice, company, today):
                fields += [
                    "last_reminder_sent_date",
                    "last_reminder_due_date",
                    "last_reminder_voucher_type",
                    "last_reminder_email_address",
                ]
            customer = invoice.customer
            if customer.transfer_to_debt_collection_agency and today >= draft_date(
                company, customer, invoice.due_date
            ):
                invoice.debt_collection_status = target
                invoice.debt_collection_status_changed = now
                fields += ["debt_collection_status", "debt_collection_status_changed"]
                moved += 1
            if fields:
                invoice.last_changed = now
                invoice.save(update_fields=[*fields, "last_changed"])
    return moved


def _set_status(invoices, status: int) -> int:
    now = timezone.now()
    return invoices.update(
        debt_collection_status=status, debt_collection_status_changed=now, last_changed=now
    )


def approve_drafts(company: Company, *, invoice_ids=None) -> int:
    """Inkasso → Utkast → Godkjenn (``invoice_ids=None``: Godkjenn alle)."""
    drafts = OutgoingInvoice.objects.filter(company=company, debt_collection_status=Status.DRAFT)
    if invoice_ids is not None:
        drafts = drafts.filter(id__in=list(invoice_ids))
    with transaction.atomic():
        return _set_status(drafts, Status.APPROVED)


def remove_draft(company: Company, *, invoice_id) -> None:
    """Inkasso → Utkast → Fjern: the invoice goes ON_HOLD and never reappears in Utkast."""
    drafts = OutgoingInvoice.objects.filter(
        company=company, id=invoice_id, debt_collection_status=Status.DRAFT
    )
    with transaction.atomic():
        if not _set_status(drafts, Status.ON_HOLD):
            raise SandboxError("Fakturaen ligger ikke i Utkast.")


# --- Customers, invoices and the customer ledger ----------------------------------------------


def _next_voucher_no(company: Company) -> int:
    numbers = [
        LedgerEntry.objects.filter(company=company).aggregate(m=Max("voucher_no"))["m"],
        JournalVoucher.objects.filter(company=company).aggregate(m=Max("voucher_no"))["m"],
        OutgoingInvoice.objects.filter(company=company).aggregate(m=Max("voucher_no"))["m"],
    ]
    return max([n for n in numbers if n] or [0]) + 1


def _next_match_id(company: Company) -> int:
    numbers = [
        LedgerEntry.objects.filter(company=company).aggregate(m=Max("match_id"))["m"],
        OutgoingInvoice.objects.filter(company=company).aggregate(m=Max("match_id"))["m"],
    ]
    return max([n for n in numbers if n] or [company.pk * 1_000_000]) + 1


def _lock_company(company: Company) -> Company:
    """Serialises voucher and match numbering per company (a no-op lock on SQLite)."""
    return Company.objects.select_for_update().get(pk=company.pk)


def create_customer(company: Company, *, number: int, name: str, **fields) -> Customer:
    """A customer with its own sub-ledger account; a person's name fills first and last name."""
    if fields.get("is_person") and not (fields.get("first_name") or fields.get("last_name")):
        first, _, last = name.strip().rpartition(" ")
        fields["first_name"], fields["last_name"] = (first, last) if first else (last, "")
    with transaction.atomic():
        customer = Customer.objects.create(company=company, number=number, name=name, **fields)
        if customer.subledger_account_id is None:
            customer.subledger_account_id = 10_000_000 + customer.pk
            customer.save(update_fields=["subledger_account_id"])
    return customer


def create_invoice(
    customer: Customer,
    *,
    invoice_no: int,
    voucher_date: dt.date,
    due_date: dt.date,
    total_amount: Decimal,
    net_amount: Decimal | None = None,
    cid: str = "",
) -> OutgoingInvoice:
    """Post an outgoing invoice: the invoice and its customer-ledger entry (its open item)."""
    company = customer.company
    with transaction.atomic():
        _lock_company(company)
        voucher_no = _next_voucher_no(company)
        match_id = _next_match_id(company)
        invoice = OutgoingInvoice.objects.create(
            company=company,
            customer=customer,
            invoice_no=invoice_no,
            voucher_no=voucher_no,
            voucher_date=voucher_date,
            due_date=due_date,
            net_amount=net_amount if net_amount is not None else total_amount,
            total_amount=total_amount,
            balance=total_amount,
            cid=cid,
            match_id=match_id,
            sent_at=timezone.now(),
        )
        LedgerEntry.objects.create(
            company=company,
            customer=customer,
            invoice=invoice,
            voucher_type="OutgoingInvoice",
            voucher_no=voucher_no,
            voucher_date=voucher_date,
            invoice_no=invoice_no,
            amount=total_amount,
            match_id=match_id,
            cid=cid,
            due_date=due_date,
            description=f"Faktura {invoice_no}",
        )
    return invoice


def _settle(
    invoice: OutgoingInvoice,
    *,
    amount: Decimal,
    on: dt.date,
    voucher_type: str,
    cid: str = "",
    is_write_off: bool = False,
    description: str = "",
    voucher_no: int | None = None,
    entry_invoice_no: int | None = None,
) -> LedgerEntry:
    """A customer-ledger entry matched to ``invoice`` that lowers its balance by ``amount``."""
    amount = Decimal(amount)
    with transaction.atomic():
        _lock_company(invoice.company)
        invoice = OutgoingInvoice.objects.select_for_update().get(pk=invoice.pk)
        if amount <= 0:
            raise SandboxError("Beløpet må være større enn null.")
        if amount > invoice.balance:
            raise SandboxError(f"Beløpet er større enn restbeløpet ({invoice.balance}).")
        now = timezone.now()
        if invoice.match_id is None:
            invoice.match_id = _next_match_id(invoice.company)
            invoice.ledger_entries.filter(voucher_type="OutgoingInvoice").update(
                match_id=invoice.match_id, last_changed=now
            )
        entry = LedgerEntry.objects.create(
            company=invoice.company,
            customer=invoice.customer,
            invoice=invoice,
            voucher_type=voucher_type,
            voucher_no=voucher_no or _next_voucher_no(invoice.company),
            voucher_date=on,
            invoice_no=entry_invoice_no or invoice.invoice_no,
            amount=-amount,
            currency_code=invoice.currency_code,
            match_id=invoice.match_id,
            cid=cid,
            is_write_off=is_write_off,
            description=description,
            created_at=now,
            last_changed=now,
        )
        invoice.balance -= amount
        invoice.balance_last_changed = now
        invoice.last_changed = now
        fields = ["balance", "balance_last_changed", "last_changed", "match_id"]
        if invoice.balance == 0 and invoice.debt_collection_status in (
            Status.DRAFT,
            Status.APPROVED,
        ):
            invoice.debt_collection_status = Status.NONE
            invoice.debt_collection_status_changed = now
            fields.append("debt_collection_status")
            fields.append("debt_collection_status_changed")
        invoice.save(update_fields=fields)
    return entry


def register_payment(
    invoice: OutgoingInvoice, *, amount: Decimal, on: dt.date, cid: str = ""
) -> LedgerEntry:
    """Innbetaling: a bank payment matched to the invoice."""
    return _settle(
        invoice,
        amount=amount,
        on=on,
        voucher_type="BankJournal",
        cid=cid or invoice.cid,
        description=f"Innbetaling faktura {invoice.invoice_no}",
    )


def register_credit_note(invoice: OutgoingInvoice, *, amount: Decimal, on: dt.date) -> LedgerEntry:
    """Kreditnota against the invoice: a credit-note document (``OutgoingCreditNote``, next
    number in the invoice series, negative total, nothing left to pay) and its ledger entry,
    matched to the invoice."""
    amount = Decimal(amount)
    with transaction.atomic():
        company = _lock_company(invoice.company)
        voucher_no = _next_voucher_no(company)
        credit_no = (
            OutgoingInvoice.objects.filter(company=company).aggregate(m=Max("invoice_no"))["m"] or 0
        ) + 1
        entry = _settle(
            invoice,
            amount=amount,
            on=on,
            voucher_type="OutgoingCreditNote",
            description=f"Kreditnota {credit_no} for faktura {invoice.invoice_no}",
            voucher_no=voucher_no,
            entry_invoice_no=credit_no,
        )
        share = invoice.net_amount / invoice.total_amount if invoice.total_amount else 1
        OutgoingInvoice.objects.create(
            company=company,
            customer=invoice.customer,
            invoice_no=credit_no,
            voucher_no=voucher_no,
            voucher_type="OutgoingCreditNote",
            voucher_date=on,
            due_date=on,
            currency_code=invoice.currency_code,
            net_amount=-(amount * share).quantize(Decimal("0.01")),
            total_amount=-amount,
            balance=0,
            match_id=entry.match_id,
            sent_at=timezone.now(),
        )
    return entry


def write_off(invoice: OutgoingInvoice, *, on: dt.date) -> LedgerEntry:
    """Go's "Avskriv": the whole remaining balance is written off (``is_write_off``)."""
    invoice.refresh_from_db(fields=["balance"])
    return _settle(
        invoice,
        amount=invoice.balance,
        on=on,
        voucher_type="ManualJournal",
        is_write_off=True,
        description=f"Avskrevet faktura {invoice.invoice_no}",
    )


# --- Vouchers ----------------------------------------------------------------------------------


def voucher_lines(voucher: JournalVoucher) -> list[dict]:
    return list(voucher.lines or [])


def _receivable_credits(voucher: JournalVoucher) -> list[tuple[str, Decimal, str]]:
    """``[(invoice no, amount, cid)]`` for each line that credits a customer's receivable."""
    company = voucher.company
    receivable_ids = set(
        GeneralLedgerAccount.objects.filter(
            company=company, account_no=RECEIVABLE_ACCOUNT_NO
        ).values_list("id", flat=True)
    )
    receivable_ids |= set(
        Customer.objects.filter(company=company, subledger_account_id__isnull=False).values_list(
            "subledger_account_id", flat=True
        )
    )
    credits = []
    for line in voucher_lines(voucher):
        invoice_no = str(line.get("InvoiceNo") or "").strip()
        if not invoice_no:
            continue
        amount = Decimal(str(line.get("CurrencyAmount") or 0))
        if "CreditAccountId" in line or "DebitAccountId" in line:
            if line.get("CreditAccountId") in receivable_ids and amount > 0:
                credits.append((invoice_no, amount, str(line.get("Cid") or "")))
            elif line.get("DebitAccountId") in receivable_ids and amount < 0:
                credits.append((invoice_no, -amount, str(line.get("Cid") or "")))
        elif line.get("AccountId") in receivable_ids and amount < 0:
            credits.append((invoice_no, -amount, str(line.get("Cid") or "")))
    return credits


def post_voucher(voucher: JournalVoucher) -> None:
    """Bokfør a voucher: give it a number and match each receivable credit to its invoice."""
    with transaction.atomic():
        voucher = JournalVoucher.objects.select_for_update().get(pk=voucher.pk)
        if voucher.is_posted:
            raise SandboxError("Bilaget er allerede bokført.")
        company = _lock_company(voucher.company)
        credits = _receivable_credits(voucher)
        invoices = {}
        for invoice_no, _amount, _cid in credits:
            invoice = OutgoingInvoice.objects.filter(
                company=company, invoice_no=int(invoice_no) if invoice_no.isdigit() else -1
            ).first()
            if invoice is None:
                raise SandboxError(f"Fant ikke faktura {invoice_no}.")
            invoices[invoice_no] = invoice
        voucher.voucher_no = _next_voucher_no(company)
        for invoice_no, amount, cid in credits:
            _settle(
                invoices[invoice_no],
                amount=amount,
                on=voucher.voucher_date,
                voucher_type="BankJournal",
                cid=cid,
                description=voucher.description[:200],
                voucher_no=voucher.voucher_no,
            )
        voucher.is_posted = True
        voucher.posted_at = timezone.now()
        voucher.save(update_fields=["is_posted", "posted_at", "voucher_no"])


class DuplicateReference(SandboxError):
    """``ExternalImportReference`` already used for this client (the API's 409)."""


def account_ids(company: Company) -> set[int]:
    """Ids a voucher line may post to: general-ledger accounts and customer sub-ledgers."""
    ids = set(GeneralLedgerAccount.objects.filter(company=company).values_list("id", flat=True))
    return ids | set(
        Customer.objects.filter(company=company, subledger_account_id__isnull=False).values_list(
            "subledger_account_id", flat=True
        )
    )


def _json_lines(lines: list[dict]) -> list[dict]:
    """Lines as storable JSON: Decimal amounts become numbers (a JSONField cannot hold them)."""

    def number(value):
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        raise TypeError(f"Not JSON serialisable: {type(value).__name__}")

    return json.loads(json.dumps(lines, default=number))


def receive_voucher(
    company: Company,
    *,
    application: Application | None,
    kind: str,
    voucher_date: dt.date,
    currency_code: str = "NOK",
    description: str = "",
    comment: str = "",
    lines: list[dict],
    external_import_reference: str = "",
    post: bool = False,
) -> JournalVoucher:
    """A voucher from an integration: into the voucher inbox, or posted at once (``post``)."""
    with transaction.atomic():
        if (
            external_import_reference
            and JournalVoucher.objects.filter(
                company=company, external_import_reference=external_import_reference
            ).exists()
        ):
            raise DuplicateReference(
                f"ExternalImportReference {external_import_reference!r} is already used."
            )
        try:
            with transaction.atomic():
                voucher = JournalVoucher.objects.create(
                    company=company,
                    application=application,
                    kind=kind,
                    voucher_date=voucher_date,
                    currency_code=currency_code,
                    description=description,
                    comment=comment,
                    lines=_json_lines(lines),
                    external_import_reference=external_import_reference,
                )
        except IntegrityError as exc:
            raise DuplicateReference(
                f"ExternalImportReference {external_import_reference!r} is already used."
            ) from exc
        if post:
            post_voucher(voucher)
            voucher.refresh_from_db()
    return voucher


# --- Debt collection cases (v1, driven by the agency) ------------------------------------------


def debt_collection_active(subscription: ClientSubscription) -> bool:
    """``IsActiveDebtCollection``: may this agency create new cases for the client."""
    return (
        subscription.is_active
        and subscription.can_create_cases
        and subscription.application.is_debt_collection_agency
    )


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
    if not debt_collection_active(subscription):
        raise SandboxError("Inkassobyrået kan ikke opprette nye saker for denne klienten.")
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


# --- Onboarding --------------------------------------------------------------------------------


def _admin_companies(user: GoUser):
    return Company.objects.filter(companyaccess__user=user, companyaccess__is_admin=True).order_by(
        "name"
    )


def onboarding_status_for(session: OnboardingSession, user: GoUser) -> str | None:
    """Why ``user`` cannot onboard in this session (an onboarding status), or None if they can."""
    State = OnboardingSession.State
    if session.client_org_no:
        company = Company.objects.filter(org_number=session.client_org_no).first()
        if company is None:
            return State.CLIENT_NOT_FOUND
        if not _admin_companies(user).filter(pk=company.pk).exists():
            return State.NO_CLIENT_ACCESS
        if company.integration_blocked:
            return State.INTEGRATION_BLOCKED
        return None
    companies = _admin_companies(user)
    if not companies.exists():
        return State.NO_CLIENT_ACCESS
    if not companies.filter(integration_blocked=False).exists():
        return State.INTEGRATION_BLOCKED
    return None


def onboarding_companies_for(session: OnboardingSession, user: GoUser) -> list[Company]:
    """Companies ``user`` may activate the integration for in this session."""
    companies = _admin_companies(user).filter(integration_blocked=False)
    if session.client_org_no:
        companies = companies.filter(org_number=session.client_org_no)
    return list(companies)


def _check_open(session: OnboardingSession) -> None:
    if session.state != OnboardingSession.State.PENDING:
        raise SandboxError("Denne tilkoblingen er allerede fullført eller avbrutt.")
    if session.valid_until <= timezone.now():
        raise SandboxError("Lenken har utløpt. Start tilkoblingen på nytt fra integrasjonen.")


def onboarding_accept(session: OnboardingSession, *, user: GoUser, company: Company) -> str:
    """The user accepts: activate the integration for ``company``; returns the onboarding token."""
    with transaction.atomic():
        session = OnboardingSession.objects.select_for_update().get(pk=session.pk)
        _check_open(session)
        if company not in onboarding_companies_for(session, user):
            raise SandboxError("Du har ikke tilgang til å koble denne virksomheten til.")
        subscription, created = ClientSubscription.objects.get_or_create(
            application=session.application,
            company=company,
            defaults={"privileges": list(DEFAULT_PRIVILEGES)},
        )
        if not created:
            subscription.is_active = True
            subscription.privileges = list(DEFAULT_PRIVILEGES)
        if session.application.is_debt_collection_agency:
            # Only one agency at a time may create new cases.
            ClientSubscription.objects.filter(
                company=company, application__is_debt_collection_agency=True
            ).exclude(pk=subscription.pk).update(can_create_cases=False)
            subscription.can_create_cases = True
            Customer.objects.filter(company=company).update(
                transfer_to_debt_collection_agency=True, last_changed=timezone.now()
            )
        subscription.save()
        session.user = user
        session.state = OnboardingSession.State.SUCCESS
        session.onboarding_token = secrets.token_urlsafe(32)
        session.save(update_fields=["user", "state", "onboarding_token"])
        session.companies.add(company)
    return session.onboarding_token


def onboarding_reject(session: OnboardingSession, *, status: str) -> None:
    """The user cancels, or Go refuses (ClientNotFound, NoClientAccess, IntegrationBlocked)."""
    if status not in OnboardingSession.State.values or status == OnboardingSession.State.PENDING:
        raise SandboxError(f"Ukjent status: {status}")
    with transaction.atomic():
        session = OnboardingSession.objects.select_for_update().get(pk=session.pk)
        _check_open(session)
        session.state = status
        session.save(update_fields=["state"])


def onboarding_finalize(application: Application, *, token: str) -> OnboardingSession:
    """Redeem a single-use onboarding token (``Onboarding/Finalize``)."""
    with transaction.atomic():
        session = (
            OnboardingSession.objects.select_for_update()
            .filter(application=application, onboarding_token=token)
            .exclude(onboarding_token="")
            .first()
        )
        if session is None:
            raise LookupError("Unknown onboarding token.")
        if session.finalized_at is not None:
            raise SandboxError("The onboarding token has already been used.")
        session.finalized_at = timezone.now()
        session.save(update_fields=["finalized_at"])
    return session


# --- Fault injection and request counting ------------------------------------------------------


def set_fault_rule(path_prefix: str, *, error_rate, faults, latency_ms: int = 0) -> FaultRule:
    """Make API paths under ``path_prefix`` fail at ``error_rate`` (0..1) and/or slow down."""
    unknown = set(faults) - set(FaultRule.Fault.values)
    if unknown:
        raise SandboxError(f"Unknown faults: {sorted(unknown)}")
    rule, _ = FaultRule.objects.update_or_create(
        path_prefix=path_prefix,
        defaults={
            "error_rate": Decimal(str(error_rate)),
            "faults": list(faults),
            "latency_ms": latency_ms,
            "is_active": True,
        },
    )
    return rule


def clear_faults() -> None:
    FaultRule.objects.all().delete()


def count_request(subscription_key: str, *, limit: int, second: int) -> bool:
    """Count one request against the key's per-second budget; False when over the limit.

    A conditional UPDATE keeps the count exact when several processes share the database.
    SQLite may answer "table is locked" under concurrent writers; that is retried briefly.
    """
    for attempt in range(COUNT_ATTEMPTS):
        try:
            return _count_request(subscription_key, limit=limit, second=second)
        except OperationalError:
            if attempt == COUNT_ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    return False  # not reached


def _count_request(subscription_key: str, *, limit: int, second: int) -> bool:
    # INSERT … ON CONFLICT DO NOTHING: concurrent first requests of a second cannot collide.
    RequestCount.objects.bulk_create(
        [RequestCount(subscription_key=subscription_key, second=second)], ignore_conflicts=True
    )
    rows = RequestCount.objects.filter(subscription_key=subscription_key, second=second)
    if rows.filter(count__lt=limit).update(count=F("count") + 1):
        return True
    rows.update(throttled=F("throttled") + 1)
    return False


def prune_request_counts(*, before_second: int) -> int:
    """Forget per-second counters older than ``before_second`` (they only feed benchmarks)."""
    deleted, _ = RequestCount.objects.filter(second__lt=before_second).delete()
    return deleted


def request_counts(subscription_key: str) -> dict[int, int]:
    """Accepted requests per second (unix time) for a subscription key."""
    return dict(
        RequestCount.objects.filter(subscription_key=subscription_key)
        .filter(~Q(count=0))
        .order_by("second")
        .values_list("second", "count")
    )

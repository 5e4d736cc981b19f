"""Inkasso → Utkast: when Go moves an unpaid invoice into Utkast, and what the creditor
does there (approve, remove). Dunning letters Go "sends" on the way are recorded here."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from pogo_sandbox.models import (
    Company,
    Customer,
    OutgoingInvoice,
)

from .common import SandboxError, Status, oslo_today

NO_REMINDER_DAYS = 1
FEE_FREE_REMINDER_DAYS = 14
LETTER_DAYS_AFTER_DUE = 14

PURRING = "OutgoingPaymentReminder"
INKASSOVARSEL = "OutgoingNoticeOfDebtCollection"


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

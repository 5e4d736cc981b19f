"""Customers, invoices and the customer ledger: payments, credit notes, write-offs ("Avskriv"),
all matched to their invoice by a shared ``match_id``."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from pogo_sandbox.models import (
    Company,
    Customer,
    JournalVoucher,
    LedgerEntry,
    OutgoingInvoice,
)

from .common import SandboxError, Status


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

"""Vouchers from integrations: the voucher inbox (proposals) and posting, which matches receivable
credits to their invoices."""

import datetime as dt
import json
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from pogo_sandbox.models import (
    Application,
    Company,
    Customer,
    GeneralLedgerAccount,
    JournalVoucher,
    JournalVoucherPage,
    OutgoingInvoice,
)

from .common import SandboxError
from .ledger import _lock_company, _next_voucher_no, _settle

RECEIVABLE_ACCOUNT_NO = 1500


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


def voucher_balance(lines: list[dict]) -> tuple[Decimal, Decimal]:
    """``(debits, credits)`` of voucher lines: a single-sided line counts on its side, a line
    with both accounts on both, a signed ``AccountId`` line by its sign."""
    debits = credits = Decimal("0")
    for line in lines:
        amount = Decimal(str(line.get("CurrencyAmount") or 0))
        if "DebitAccountId" in line or "CreditAccountId" in line:
            if line.get("DebitAccountId") is not None:
                debits += amount
            if line.get("CreditAccountId") is not None:
                credits += amount
        elif amount >= 0:
            debits += amount
        else:
            credits -= amount
    return debits, credits


def add_voucher_page(
    voucher: JournalVoucher, *, filename: str, content: bytes, content_type: str
) -> JournalVoucherPage:
    """Attach a file to an unposted voucher (a posted one cannot change: the API's 409)."""
    with transaction.atomic():
        voucher = JournalVoucher.objects.select_for_update().get(pk=voucher.pk)
        if voucher.is_posted:
            raise VoucherPosted("The voucher is posted and cannot be changed.")
        if not content:
            raise SandboxError("The file is empty.")
        return JournalVoucherPage.objects.create(
            voucher=voucher,
            filename=(filename or "side")[:255],
            content_type=(content_type or "application/octet-stream")[:100],
            content=content,
        )


class VoucherPosted(SandboxError):
    """The voucher is posted (the API's 409)."""


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

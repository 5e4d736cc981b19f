"""Sandbox rows → v2 DTOs (PascalCase), exactly as PowerOffice's spec describes them
(``pogo_sandbox/contract/poweroffice-go-v2.yaml``; the API wrappers check every response against
it, with no property the spec does not name)."""

import uuid

from pogo_sandbox.models import (
    Company,
    Customer,
    GeneralLedgerAccount,
    JournalVoucher,
    LedgerEntry,
    OutgoingInvoice,
    VatCode,
)

#: Namespace of the sandbox's derived uuids (ids Go keeps as guids that our rows keep as ints).
SANDBOX_NAMESPACE = uuid.UUID("6f1c1f0e-5b1a-4c35-9d0e-3a7f2b9c4e10")


def company_guid(company: Company) -> uuid.UUID:
    """The client's id in Go (``OrganizationSettings.Id``): a guid, stable per company."""
    return uuid.uuid5(SANDBOX_NAMESPACE, f"company:{company.pk}")


def voucher_guid(e: LedgerEntry) -> uuid.UUID:
    """``VoucherId`` of a ledger entry: the invoice's id, else one guid per voucher number."""
    if e.voucher_type == "OutgoingInvoice" and e.invoice_id:
        return e.invoice_id
    return uuid.uuid5(SANDBOX_NAMESPACE, f"voucher:{e.company_id}:{e.voucher_type}:{e.voucher_no}")


def _line_id(voucher: JournalVoucher, number: int) -> int:
    """A voucher line's int64 id, stable per voucher and position."""
    return (voucher.id.int % 10**12) * 1000 + number


def organization_settings(company: Company) -> dict:
    return {
        "Id": company_guid(company),
        "Name": company.name,
        "LegalName": company.legal_name or company.name,
        "OrganizationNumber": company.org_number,
        "EmailAddress": company.email,
        "PhoneNumber": None,
        "WebsiteUrl": None,
        "MailAddress": {
            "AddressLine1": company.address_line,
            "AddressLine2": None,
            "ZipCode": company.zip_code,
            "City": company.city,
            "CountryCode": company.country_code,
        },
        "MailAddressIsDeliveryAddress": True,
        "IsAgricultureClient": False,
    }


def _present(dto: dict, *names: str) -> dict:
    """Leave out ``names`` when None: the spec types them non-nullable (Go always has them) but
    does not require them; a sandbox row without one omits it rather than send null."""
    for name in names:
        if dto.get(name) is None:
            dto.pop(name, None)
    return dto


def customer(c: Customer) -> dict:
    return _present(_customer(c), "SubledgerAccountId", "Number")


def _customer(c: Customer) -> dict:
    return {
        "Id": c.pk,
        "Number": c.number,
        "SubledgerAccountId": c.subledger_account_id,
        "Name": c.name,
        "FirstName": c.first_name or None,
        "LastName": c.last_name or None,
        "LegalName": c.legal_name or None,
        "IsPerson": c.is_person,
        "IsActive": c.is_active,
        "IsArchived": False,
        "OrganizationNumber": c.organization_number or None,
        "EmailAddress": c.email_address or None,
        "InvoiceEmailAddress": c.invoice_email_address or None,
        "PaymentReminderEmailAddress": c.payment_reminder_email_address or None,
        "PhoneNumber": c.phone_number or None,
        "MailAddress": {
            "AddressLine1": c.address_line1 or None,
            "AddressLine2": None,
            "ZipCode": c.zip_code or None,
            "City": c.city or None,
            "CountryCode": c.country_code,
        },
        "CurrencyCode": "NOK",
        "TransferToDebtCollectionAgency": c.transfer_to_debt_collection_agency,
        "SendPaymentReminders": c.send_payment_reminders,
        "DoNotAddLatePaymentFees": c.do_not_add_late_payment_fees,
        "DoNotAddLatePaymentInterest": c.do_not_add_late_payment_interest,
        "ReminderDeliveryType": c.reminder_delivery_type,
        "NoticeOfDebtCollectionDeliveryType": c.notice_of_debt_collection_delivery_type,
        "CustomerCreatedDateTimeOffset": c.created_at,
        "LastChangedDateTimeOffset": c.last_changed,
    }


def outgoing_invoice(i: OutgoingInvoice) -> dict:
    return _present(_outgoing_invoice(i), "VoucherNo")


def _outgoing_invoice(i: OutgoingInvoice) -> dict:
    return {
        "Id": i.id,
        "InvoiceNo": i.invoice_no,
        "VoucherNo": i.voucher_no,
        "VoucherType": i.voucher_type,
        "VoucherDate": i.voucher_date,
        "DueDate": i.due_date,
        "CurrencyCode": i.currency_code,
        "CurrencyExchangeRate": 1,
        "NetAmount": i.net_amount,
        "TotalAmount": i.total_amount,
        "Balance": i.balance,
        "BalanceLastChangedDateTimeOffset": i.balance_last_changed,
        "Cid": i.cid or None,
        "MatchId": i.match_id,
        "CustomerId": i.customer_id,
        "CustomerNo": i.customer.number,
        "IsReversed": False,
        "SentDateTimeOffset": i.sent_at,
        "CreatedDateTimeOffset": i.created_at,
        "LastChangedDateTimeOffset": i.last_changed,
    }


def ledger_entry(e: LedgerEntry, *, balance=None) -> dict:
    return {
        "Id": e.pk,
        "VoucherId": voucher_guid(e),
        "VoucherNo": e.voucher_no,
        "VoucherType": e.voucher_type,
        "VoucherDate": e.voucher_date,
        "PostingDate": e.voucher_date,
        "DueDate": e.due_date,
        "InvoiceNo": None if e.invoice_no is None else str(e.invoice_no),
        "CustomerId": e.customer_id,
        "CustomerAccountNo": e.customer.number,
        "CustomerName": e.customer.name,
        "Amount": e.amount,
        "CurrencyAmount": e.amount,
        "CurrencyCode": e.currency_code,
        "Balance": e.amount if balance is None else balance,
        "MatchId": e.match_id,
        "Cid": e.cid or None,
        "IsWriteOff": e.is_write_off,
        "CreatedDateTimeOffset": e.created_at,
        "LastChangedDateTimeOffset": e.last_changed,
    }


def general_ledger_account(a: GeneralLedgerAccount) -> dict:
    return {
        "Id": a.pk,
        "AccountNo": a.account_no,
        "Name": a.name,
        "IsActive": a.is_active,
        "VatCode": a.vat_code or None,
        "CurrencyCode": "NOK",
        "LastChangedDateTimeOffset": a.last_changed,
    }


def vat_code(v: VatCode) -> dict:
    return {
        "Id": v.pk,
        "Code": v.code,
        "Name": v.name,
        "Rate": v.rate,
        "IsActive": True,
    }


def _proposal_line(v: JournalVoucher, number: int, line: dict) -> dict:
    """A stored proposal line (as posted) as Go returns it: with its id and timestamps."""
    return {
        "Id": _line_id(v, number),
        **line,
        "CreatedDateTimeOffset": v.created_at,
        "LastChangedDateTimeOffset": v.posted_at or v.created_at,
    }


def bank_journal_proposal(v: JournalVoucher) -> dict:
    """``BankJournalEntryVoucherDto`` / ``ManualJournalEntryVoucherDto`` (no comment, no posted
    flag: those are not part of the DTO; ``GET /JournalEntryVouchers`` has ``IsPosted``)."""
    lines_key = "BankVoucherLines" if v.kind == JournalVoucher.Kind.BANK else "ManualVoucherLines"
    return {
        "Id": v.id,
        "VoucherDate": v.voucher_date,
        "CurrencyCode": v.currency_code,
        "Description": v.description or None,
        lines_key: [_proposal_line(v, n, line) for n, line in enumerate(v.lines, start=1)],
        "Pages": [
            {"Id": page.pk, "VoucherId": v.id, "CreatedDateTimeOffset": page.created_at}
            for page in v.pages.all()
        ],
    }


def journal_entry_voucher_item(v: JournalVoucher, application) -> dict:
    return {
        "Id": v.id,
        "VoucherType": v.kind,
        "IsPosted": v.is_posted,
        "InApprovalWorkflow": False,
        "IsCreatedByCurrentIntegration": application is not None
        and v.application_id == application.pk,
        "OriginatedFromEhf": False,
        "CreatedDateTimeOffset": v.created_at,
        "LastChangedDateTimeOffset": v.posted_at or v.created_at,
    }


def bank_voucher(v: JournalVoucher) -> dict:
    return {
        "Id": v.id,
        "VoucherNo": v.voucher_no,
        "VoucherDate": v.voucher_date,
        "CurrencyCode": v.currency_code,
        "Description": v.description or None,
        "ExternalImportReference": v.external_import_reference or None,
        "IsReversed": False,
        "VoucherLines": [
            {"Id": _line_id(v, n), **line, "CreatedDateTimeOffset": v.created_at}
            for n, line in enumerate(v.lines, start=1)
        ],
        "CreatedDateTimeOffset": v.created_at,
    }


def voucher_documentation(i: OutgoingInvoice) -> dict:
    return {
        "VoucherId": i.id,
        "VoucherNo": i.voucher_no,
        "VoucherType": i.voucher_type,
        "HasPdf": True,
        "HasEhf": False,
        "HasImages": False,
        "HasSalesOrderAttachments": False,
        "IsImported": False,
    }

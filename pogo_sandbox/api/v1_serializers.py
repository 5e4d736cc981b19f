"""Sandbox rows → v1 DebtCollection objects (camelCase, as in PowerOffice/go-api-documentation;
checked against ``pogo_sandbox/contract/poweroffice-go-v1-debtcollection.yaml``: no property the
reference does not name)."""

from pogo_sandbox.models import DebtCollectionCase, LedgerEntry, OutgoingInvoice


def invoice(i: OutgoingInvoice) -> dict:
    customer = i.customer
    return {
        "id": i.id,
        "customerCode": customer.number,
        "invoiceDate": i.voucher_date,
        "invoiceNo": i.invoice_no,
        "dueDate": i.due_date,
        "originalAmount": i.total_amount,
        "remainingAmount": i.balance,
        "currencyCode": i.currency_code,
        "cID": i.cid or None,
        "lastChanged": i.last_changed,
        "lastReminderSentDate": i.last_reminder_sent_date,
        "lastReminderDueDate": i.last_reminder_due_date,
        "lastReminderVoucherType": i.last_reminder_voucher_type or None,
        "lastReminderEmailAddress": i.last_reminder_email_address or None,
        "invoiceEmailAddress": customer.invoice_email_address or customer.email_address or None,
        "externalImportReference": None,
        "originalPostedAmount": i.total_amount,
    }


def case(c: DebtCollectionCase) -> dict:
    invoices = list(c.invoices.select_related("customer").order_by("invoice_no"))
    return {
        "id": c.id,
        "code": c.code,
        "status": c.status,
        "invoices": [invoice(i) for i in invoices],
        "externalCaseUrl": c.external_case_url or None,
        "balanceAgency": c.balance_agency,
        "lastChanged": c.last_changed,
        "invoiceLastChanged": max((i.last_changed for i in invoices), default=None),
    }


def match(e: LedgerEntry) -> dict:
    return {
        "id": e.pk,
        "customerCode": e.customer.number,
        "voucherDate": e.voucher_date,
        "postingDate": e.voucher_date,
        "voucherNo": e.voucher_no,
        "voucherType": e.voucher_type,
        "amount": e.amount,
        "currencyAmount": e.amount,
        "currencyCode": e.currency_code,
        "cID": e.cid or None,
        "isWriteOff": e.is_write_off,
        "lastChanged": e.last_changed,
        "externalImportReference": None,
        "isNoteMainEntry": False,
        "matchId": e.match_id,
    }


def case_with_matches(c: DebtCollectionCase, entries: list[LedgerEntry]) -> dict:
    return {**case(c), "matchedItems": [match(e) for e in entries]}

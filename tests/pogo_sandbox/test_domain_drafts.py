"""Inkasso → Utkast timing rules (reference: "When invoices appear under Inkasso → Utkast")."""

import datetime as dt

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import OutgoingInvoice
from tests.pogo_sandbox.test_api_support import make_company, make_customer, make_invoice

Status = OutgoingInvoice.DebtCollectionStatus
DUE = dt.date(2026, 1, 15)
pytestmark = pytest.mark.django_db


def _status(invoice):
    invoice.refresh_from_db()
    return invoice.debt_collection_status


def _company(**settings):
    defaults = {
        "payment_reminder_enabled": False,
        "purring_enabled": False,
        "inkassovarsel_enabled": False,
        "reminder_deadline_days": 14,
    }
    return make_company(**{**defaults, **settings})


def test_no_reminder_step_appears_day_one_after_due():
    company = _company()
    invoice = make_invoice(make_customer(company), due=DUE)

    assert domain.refresh_drafts(company, today=DUE) == 0
    assert _status(invoice) == Status.NONE
    assert domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1)) == 1
    assert _status(invoice) == Status.DRAFT


def test_fee_free_reminder_only_appears_day_fourteen():
    company = _company(payment_reminder_enabled=True)
    invoice = make_invoice(make_customer(company), due=DUE)

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=13))
    assert _status(invoice) == Status.NONE
    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=14))
    assert _status(invoice) == Status.DRAFT


def test_fee_free_reminder_without_email_counts_as_no_step():
    company = _company(payment_reminder_enabled=True)
    invoice = make_invoice(make_customer(company, email_address=""), due=DUE)

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1))
    assert _status(invoice) == Status.DRAFT


def test_purring_appears_day_after_its_deadline_and_records_the_letter():
    company = _company(payment_reminder_enabled=True, purring_enabled=True)
    invoice = make_invoice(make_customer(company), due=DUE)
    sent = DUE + dt.timedelta(days=domain.LETTER_DAYS_AFTER_DUE)
    deadline = sent + dt.timedelta(days=14)

    domain.refresh_drafts(company, today=deadline)
    invoice.refresh_from_db()
    assert invoice.debt_collection_status == Status.NONE
    assert invoice.last_reminder_voucher_type == "OutgoingPaymentReminder"
    assert invoice.last_reminder_sent_date == sent
    assert invoice.last_reminder_due_date == deadline

    domain.refresh_drafts(company, today=deadline + dt.timedelta(days=1))
    assert _status(invoice) == Status.DRAFT


def test_purring_then_inkassovarsel_appears_after_the_varsel_deadline():
    company = _company(purring_enabled=True, inkassovarsel_enabled=True)
    invoice = make_invoice(make_customer(company), due=DUE)
    purring = DUE + dt.timedelta(days=14)
    varsel = purring + dt.timedelta(days=15)

    domain.refresh_drafts(company, today=varsel + dt.timedelta(days=14))
    invoice.refresh_from_db()
    assert invoice.last_reminder_voucher_type == "OutgoingNoticeOfDebtCollection"
    assert invoice.last_reminder_sent_date == varsel
    assert invoice.debt_collection_status == Status.NONE

    domain.refresh_drafts(company, today=varsel + dt.timedelta(days=15))
    assert _status(invoice) == Status.DRAFT


def test_customer_without_transfer_flag_never_appears():
    company = _company()
    invoice = make_invoice(
        make_customer(company, transfer_to_debt_collection_agency=False), due=DUE
    )

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=60))
    assert _status(invoice) == Status.NONE


def test_paid_invoice_never_appears():
    company = _company()
    invoice = make_invoice(make_customer(company), due=DUE)
    domain.register_payment(invoice, amount=invoice.total_amount, on=DUE)

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=60))
    assert _status(invoice) == Status.NONE


def test_auto_transfer_goes_straight_to_approved():
    company = _company(auto_transfer_to_agency=True)
    invoice = make_invoice(make_customer(company), due=DUE)

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1))
    assert _status(invoice) == Status.APPROVED


def test_refresh_bumps_last_changed():
    company = _company()
    invoice = make_invoice(make_customer(company), due=DUE)
    before = invoice.last_changed

    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1))
    invoice.refresh_from_db()
    assert invoice.last_changed > before


def test_approve_one_and_all():
    company = _company()
    customer = make_customer(company)
    first = make_invoice(customer, invoice_no=1, due=DUE)
    second = make_invoice(customer, invoice_no=2, due=DUE)
    third = make_invoice(customer, invoice_no=3, due=DUE)
    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1))

    assert domain.approve_drafts(company, invoice_ids=[first.id]) == 1
    assert _status(first) == Status.APPROVED
    assert _status(second) == Status.DRAFT
    assert domain.approve_drafts(company) == 2
    assert _status(third) == Status.APPROVED


def test_removed_draft_goes_on_hold_and_does_not_come_back():
    company = _company()
    invoice = make_invoice(make_customer(company), due=DUE)
    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=1))

    domain.remove_draft(company, invoice_id=invoice.id)
    domain.refresh_drafts(company, today=DUE + dt.timedelta(days=2))
    assert _status(invoice) == Status.ON_HOLD


def test_remove_draft_refuses_an_invoice_not_in_utkast():
    company = _company()
    invoice = make_invoice(make_customer(company), due=DUE)

    with pytest.raises(domain.SandboxError):
        domain.remove_draft(company, invoice_id=invoice.id)

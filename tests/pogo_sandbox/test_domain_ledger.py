"""Ledger operations: payments, credit notes, write-offs and voucher posting."""

import datetime as dt
from decimal import Decimal

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher, OutgoingInvoice
from tests.pogo_sandbox.test_api_support import make_company, make_customer, make_invoice

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 2, 1)
Status = OutgoingInvoice.DebtCollectionStatus


@pytest.fixture
def invoice():
    return make_invoice(make_customer(make_company()), amount="1000.00")


def test_invoice_has_its_own_open_ledger_entry(invoice):
    entry = invoice.ledger_entries.get()

    assert entry.voucher_type == "OutgoingInvoice"
    assert entry.amount == Decimal("1000.00")
    assert entry.match_id == invoice.match_id


def test_payment_lowers_balance_and_shares_the_match_id(invoice):
    before = invoice.balance_last_changed

    entry = domain.register_payment(invoice, amount=Decimal("400"), on=ON, cid="123")

    invoice.refresh_from_db()
    assert invoice.balance == Decimal("600.00")
    assert invoice.balance_last_changed > before
    assert entry.amount == Decimal("-400")
    assert entry.match_id == invoice.match_id
    assert entry.voucher_type == "BankJournal"
    assert entry.voucher_no != invoice.voucher_no


def test_payment_above_the_balance_is_refused(invoice):
    with pytest.raises(domain.SandboxError):
        domain.register_payment(invoice, amount=Decimal("1000.01"), on=ON)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("1000.00")


def test_zero_payment_is_refused(invoice):
    with pytest.raises(domain.SandboxError):
        domain.register_payment(invoice, amount=Decimal("0"), on=ON)


def test_credit_note(invoice):
    entry = domain.register_credit_note(invoice, amount=Decimal("250"), on=ON)

    invoice.refresh_from_db()
    note = OutgoingInvoice.objects.get(voucher_type="OutgoingCreditNote")
    assert entry.voucher_type == "OutgoingCreditNote"
    assert invoice.balance == Decimal("750.00")
    assert note.invoice_no == invoice.invoice_no + 1
    assert note.total_amount == Decimal("-250.00")
    assert note.balance == 0
    assert note.match_id == invoice.match_id == entry.match_id
    assert entry.invoice_no == note.invoice_no
    assert entry.voucher_no == note.voucher_no


def test_refused_credit_note_leaves_no_document(invoice):
    with pytest.raises(domain.SandboxError):
        domain.register_credit_note(invoice, amount=Decimal("5000"), on=ON)

    assert not OutgoingInvoice.objects.filter(voucher_type="OutgoingCreditNote").exists()


def test_write_off_clears_the_rest(invoice):
    domain.register_payment(invoice, amount=Decimal("100"), on=ON)

    entry = domain.write_off(invoice, on=ON)

    invoice.refresh_from_db()
    assert entry.is_write_off is True
    assert entry.amount == Decimal("-900.00")
    assert invoice.balance == 0


def test_full_payment_takes_an_approved_invoice_out_of_godkjent(invoice):
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(debt_collection_status=Status.APPROVED)

    domain.register_payment(invoice, amount=Decimal("1000"), on=ON)

    invoice.refresh_from_db()
    assert invoice.debt_collection_status == Status.NONE


def test_posting_a_proposal_matches_the_invoice(invoice):
    company = invoice.company
    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    voucher = JournalVoucher.objects.create(
        company=company,
        kind=JournalVoucher.Kind.BANK,
        voucher_date=ON,
        lines=[
            {
                "DebitAccountId": bank.pk,
                "CreditAccountId": invoice.customer.subledger_account_id,
                "CurrencyAmount": 300,
                "InvoiceNo": str(invoice.invoice_no),
            }
        ],
    )

    domain.post_voucher(voucher)

    voucher.refresh_from_db()
    invoice.refresh_from_db()
    assert voucher.is_posted and voucher.voucher_no
    assert invoice.balance == Decimal("700.00")
    assert invoice.ledger_entries.filter(voucher_no=voucher.voucher_no).exists()


def test_posting_twice_is_refused(invoice):
    voucher = JournalVoucher.objects.create(
        company=invoice.company, kind=JournalVoucher.Kind.MANUAL, voucher_date=ON, lines=[]
    )
    domain.post_voucher(voucher)

    with pytest.raises(domain.SandboxError):
        domain.post_voucher(voucher)


def test_posting_with_an_unknown_invoice_changes_nothing(invoice):
    voucher = JournalVoucher.objects.create(
        company=invoice.company,
        kind=JournalVoucher.Kind.MANUAL,
        voucher_date=ON,
        lines=[
            {
                "CreditAccountId": invoice.customer.subledger_account_id,
                "CurrencyAmount": 300,
                "InvoiceNo": "999999",
            }
        ],
    )

    with pytest.raises(domain.SandboxError):
        domain.post_voucher(voucher)
    voucher.refresh_from_db()
    assert voucher.is_posted is False


def test_request_counts_per_second():
    assert domain.count_request("k", limit=2, second=100)
    assert domain.count_request("k", limit=2, second=100)
    assert not domain.count_request("k", limit=2, second=100)
    assert domain.count_request("k", limit=2, second=101)

    assert domain.request_counts("k") == {100: 2, 101: 1}


def test_received_voucher_lines_may_hold_decimals(invoice):
    voucher = domain.receive_voucher(
        invoice.company,
        application=None,
        kind=JournalVoucher.Kind.MANUAL,
        voucher_date=ON,
        lines=[{"CurrencyAmount": Decimal("12.50"), "Description": "Gebyr"}],
    )

    voucher.refresh_from_db()
    assert voucher.lines == [{"CurrencyAmount": 12.5, "Description": "Gebyr"}]

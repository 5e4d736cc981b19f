"""Settlement vouchers to PowerOffice Go through the outbox, against the in-process sandbox:
balanced lines on the mapped accounts and the customer's sub-ledger, the statement PDF as a
voucher page, a missing account blocking everything, exactly once under failures, posted mode
with its reference, our own posting recognised when the sync sees it come back, and the case's
closing status waiting for the voucher."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection as db_connection
from django.utils import timezone

from collections_cases.cases.selectors import case_balance
from collections_cases.models import CollectionCase, LedgerEntry, Settlement
from creditors.models import Creditor, Debtor
from integrations.clients import poweroffice_config
from integrations.models import MatchedItem, OutboxMessage, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice import errors as pogo_errors
from integrations.services.outbox import deliver_outbox
from integrations.services.vouchers import settlement_reference, settlement_voucher_retry
from pogo_sandbox import domain
from pogo_sandbox.models import Customer as PogoCustomer
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher
from pogo_sandbox.models import OutgoingInvoice as PogoInvoice
from tests.integrations.settlement_support import PDF, make_settlement, pay_agency
from tests.integrations.test_sync import TODAY, connect, fast_clients

PROPOSALS = "/pogo/v2/JournalEntryVouchers/BankJournals"
VoucherStatus = Settlement.VoucherStatus
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.POGO_SANDBOX_TIMEOUT_SECONDS = 0


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    return go


@pytest.fixture
def paid_case(go):
    """A case of one 1000 kr invoice, paid in full to the agency (closed as paid)."""
    invoice = go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    pay_agency(case, "1000.00")
    case.refresh_from_db()
    assert case.close_reason == CollectionCase.CloseReason.PAID
    return case, invoice


def account_id(go, number: int) -> int:
    return GeneralLedgerAccount.objects.get(company=go.company, account_no=number).pk


def due_again():
    OutboxMessage.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())


def posted_proposals(go) -> list[int | None]:
    """Statuses Go answered to proposal creations (POST only: the path has no GET)."""
    return go.http.statuses(PROPOSALS)


# --- unposted: the proposal, its lines and its page ------------------------------------------


def test_the_voucher_proposal_lands_in_the_inbox_balanced_with_the_statement_attached(
    go, paid_case
):
    case, invoice = paid_case
    settlement = make_settlement(case)
    [row] = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER)
    assert row.settlement_id == settlement.pk
    assert row.dedupe_key == f"settlement_voucher:{settlement.pk}"

    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT
    assert settlement.voucher_error == ""
    voucher = JournalVoucher.objects.get()
    assert str(voucher.pk) == settlement.pogo_voucher_id
    assert not voucher.is_posted
    assert voucher.voucher_date == settlement.settled_on
    assert settlement.number in voucher.description
    debits, credits = domain.voucher_balance(voucher.lines)
    assert debits == credits == Decimal("1000.00")
    subledger = PogoCustomer.objects.get().subledger_account_id
    assert [
        (line.get("DebitAccountId"), line.get("CreditAccountId"), line.get("InvoiceNo"))
        for line in voucher.lines
    ] == [(account_id(go, 1920), None, None), (None, subledger, str(invoice.invoice_no))]
    [page] = voucher.pages.all()
    assert bytes(page.content) == PDF
    assert page.filename == f"oppgjor-{settlement.number}.pdf"
    assert Debtor.objects.get().pogo_subledger_account_id == subledger
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_commission_and_vat_lines_go_to_the_mapped_accounts_and_balance(go, paid_case):
    case, _invoice = paid_case
    for number, name in ((7770, "Inkassokostnader"), (2710, "Inngående mva.")):
        GeneralLedgerAccount.objects.create(company=go.company, account_no=number, name=name)
    settlement = make_settlement(case, commission="100.00", vat="25.00")

    deliver_outbox()

    voucher = JournalVoucher.objects.get()
    by_account = {
        (line.get("DebitAccountId"), line.get("CreditAccountId")): Decimal(
            str(line["CurrencyAmount"])
        )
        for line in voucher.lines
    }
    subledger = PogoCustomer.objects.get().subledger_account_id
    assert by_account == {
        (account_id(go, 1920), None): Decimal("875.00"),  # the payout
        (None, subledger): Decimal("1000.00"),
        (account_id(go, 7770), None): Decimal("100.00"),
        (account_id(go, 2710), None): Decimal("25.00"),
    }
    debits, credits = domain.voucher_balance(voucher.lines)
    assert debits == credits
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT


def test_the_sandbox_refuses_an_unbalanced_proposal(go):
    client = PowerOfficeClient(
        poweroffice_config(),
        client_key=go.subscription.client_key,
        session=go.http.session(),
        sleep=lambda s: None,
    )
    bank = account_id(go, 1920)
    receivables = account_id(go, 1500)
    with pytest.raises(pogo_errors.ValidationError, match="does not balance"):
        client.create_bank_journal_proposal(
            {
                "VoucherDate": TODAY.isoformat(),
                "CurrencyCode": "NOK",
                "BankJournalLines": [
                    {"DebitAccountId": bank, "CurrencyAmount": Decimal("100.00")},
                    {"CreditAccountId": receivables, "CurrencyAmount": Decimal("99.99")},
                ],
            }
        )
    assert JournalVoucher.objects.count() == 0


# --- blocked ---------------------------------------------------------------------------------


def test_a_missing_account_blocks_the_voucher_and_nothing_is_sent(go, paid_case):
    case, _invoice = paid_case
    settlement = make_settlement(case, commission="100.00")  # 7770 is not in Go's chart

    counts = deliver_outbox()

    assert counts.get(Status.FAILED) == 1
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.BLOCKED
    assert settlement.voucher_error == (
        "Konto 7770 (inkassokostnad) finnes ikke i kontoplanen i PowerOffice Go. Opprett "
        "kontoen i Go eller velg en annen konto under Innstillinger → Kontoer, og send "
        "bilaget på nytt."
    )
    assert posted_proposals(go) == []
    assert JournalVoucher.objects.count() == 0
    row = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER)
    assert row.status == Status.FAILED
    assert "7770" in row.last_error
    assert go.connection.blocked_settlements.get() == settlement

    # The creditor creates the account in Go and sends the voucher again.
    GeneralLedgerAccount.objects.create(company=go.company, account_no=7770, name="Inkasso")
    settlement_voucher_retry(settlement=settlement)
    settlement.refresh_from_db()
    assert (settlement.voucher_status, settlement.voucher_error) == (VoucherStatus.PENDING, "")
    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT
    assert JournalVoucher.objects.count() == 1


def test_the_settings_page_shows_a_blocked_voucher(go, paid_case):
    from django.template.loader import render_to_string

    case, _invoice = paid_case
    settlement = make_settlement(case, commission="100.00")
    deliver_outbox()

    html = render_to_string(
        "integrations/_settings_block.html", {"creditor": Creditor.objects.get()}
    )

    assert f"Oppgjør {settlement.number}" in html
    assert "Konto 7770 (inkassokostnad) finnes ikke i kontoplanen" in html


def test_a_customer_without_a_sub_ledger_blocks_the_voucher(go, paid_case):
    case, _invoice = paid_case
    PogoCustomer.objects.update(subledger_account_id=None)
    Debtor.objects.update(pogo_subledger_account_id=None)
    settlement = make_settlement(case)

    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.BLOCKED
    assert "har ingen reskontrokonto i PowerOffice Go" in settlement.voucher_error
    assert posted_proposals(go) == []


def test_mode_none_sends_nothing(go):
    Creditor.objects.update(bookkeeping_mode=Creditor.BookkeepingMode.NONE)
    go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    pay_agency(case, "1000.00")
    settlement = make_settlement(case)

    deliver_outbox()

    assert settlement.voucher_status == VoucherStatus.MANUAL
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).exists()
    assert JournalVoucher.objects.count() == 0


# --- exactly once ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "503", "429", "timeout"])
def test_delivered_exactly_once_when_go_fails_the_first_attempts(go, paid_case, fault):
    case, _invoice = paid_case
    settlement = make_settlement(case)
    domain.set_fault_rule(PROPOSALS, error_rate=1, faults=[fault])

    first = deliver_outbox()
    due_again()
    second = deliver_outbox()

    assert first.get("retry") == 1 and second.get("retry") == 1
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.PENDING
    assert JournalVoucher.objects.count() == 0

    domain.clear_faults()
    due_again()
    deliver_outbox()
    due_again()
    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT
    voucher = JournalVoucher.objects.get()
    assert voucher.pages.count() == 1
    assert OutboxMessage.objects.get(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).status == (
        Status.SENT
    )


def test_a_proposal_go_made_before_the_answer_was_lost_is_adopted_not_duplicated(
    go, paid_case, monkeypatch
):
    """Ambiguous failure: the proposal reached Go, the answer never came back."""
    case, _invoice = paid_case
    settlement = make_settlement(case)
    create = PowerOfficeClient.create_bank_journal_proposal
    calls = []

    def create_then_lose_the_answer(self, payload):
        calls.append(payload)
        create(self, payload)
        raise pogo_errors.Unavailable("read timeout", maybe_processed=True)

    monkeypatch.setattr(
        PowerOfficeClient, "create_bank_journal_proposal", create_then_lose_the_answer
    )
    assert deliver_outbox().get("retry") == 1
    settlement.refresh_from_db()
    assert settlement.pogo_voucher_id == ""
    monkeypatch.setattr(PowerOfficeClient, "create_bank_journal_proposal", create)

    due_again()
    deliver_outbox()

    assert len(calls) == 1
    voucher = JournalVoucher.objects.get()
    settlement.refresh_from_db()
    assert settlement.pogo_voucher_id == str(voucher.pk)
    assert settlement.voucher_status == VoucherStatus.SENT
    assert voucher.pages.count() == 1


def test_a_page_upload_that_reached_go_is_not_attached_twice(go, paid_case, monkeypatch):
    case, _invoice = paid_case
    settlement = make_settlement(case)
    add_page = PowerOfficeClient.add_voucher_page

    def add_then_lose_the_answer(self, voucher_id, **kwargs):
        add_page(self, voucher_id, **kwargs)
        raise pogo_errors.Unavailable("read timeout", maybe_processed=True)

    monkeypatch.setattr(PowerOfficeClient, "add_voucher_page", add_then_lose_the_answer)
    deliver_outbox()
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.PENDING
    assert settlement.pogo_voucher_id  # recorded before the page was tried
    monkeypatch.setattr(PowerOfficeClient, "add_voucher_page", add_page)

    due_again()
    deliver_outbox()

    voucher = JournalVoucher.objects.get()
    assert voucher.pages.count() == 1
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT


def test_no_call_to_go_happens_inside_a_database_transaction(go, paid_case, monkeypatch):
    case, _invoice = paid_case
    make_settlement(case)
    calls = []
    send = go.http.adapter.send

    def watching(request, *args, **kwargs):
        calls.append((request.path_url.split("?")[0], db_connection.in_atomic_block))
        return send(request, *args, **kwargs)

    monkeypatch.setattr(go.http.adapter, "send", watching)

    deliver_outbox()

    assert PROPOSALS in {path for path, _ in calls}
    assert [path for path, atomic in calls if atomic] == []


def test_the_voucher_waits_for_its_statement_pdf(go, paid_case):
    case, _invoice = paid_case
    settlement = make_settlement(case, pdf=False)

    assert deliver_outbox().get("deferred") == 1
    assert posted_proposals(go) == []
    row = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER)
    assert (row.status, row.attempts) == (Status.PENDING, 0)

    settlement.statement_pdf.save("oppgjor.pdf", ContentFile(PDF))
    due_again()
    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT


# --- posted mode -----------------------------------------------------------------------------


@pytest.fixture
def posted_mode(go):
    Creditor.objects.update(bookkeeping_mode=Creditor.BookkeepingMode.POSTED)


def test_posted_mode_posts_with_our_reference_signed_lines_and_the_kid(go, posted_mode, paid_case):
    case, invoice = paid_case
    settlement = make_settlement(case)

    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.POSTED
    voucher = JournalVoucher.objects.get()
    assert voucher.is_posted
    assert voucher.external_import_reference == f"kravia-settlement-{settlement.pk}"
    assert settlement.pogo_voucher_id == str(voucher.pk)
    subledger = PogoCustomer.objects.get().subledger_account_id
    assert [
        (line["AccountId"], Decimal(str(line["CurrencyAmount"])), line.get("Cid"))
        for line in voucher.lines
    ] == [
        (account_id(go, 1920), Decimal("1000"), None),
        (subledger, Decimal("-1000"), case.kid),
    ]
    invoice.refresh_from_db()
    assert invoice.balance == 0  # Go matched the open item
    before = ledger_snapshot(case)
    go.sync()
    assert MatchedItem.objects.get().outcome == MatchedItem.Outcome.OWN_SETTLEMENT
    assert ledger_snapshot(case) == before


def test_posted_mode_409_means_already_posted(go, posted_mode, paid_case):
    case, _invoice = paid_case
    settlement = make_settlement(case)
    domain.receive_voucher(
        go.company,
        application=None,
        kind=JournalVoucher.Kind.BANK,
        voucher_date=TODAY,
        lines=[],
        external_import_reference=settlement_reference(settlement),
    )

    deliver_outbox()

    assert go.http.statuses("/pogo/v2/Vouchers/BankJournals") == [409]
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.POSTED
    assert JournalVoucher.objects.count() == 1
    assert OutboxMessage.objects.get(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).status == (
        Status.SENT
    )


# --- the sync sees our posting come back ------------------------------------------------------


def ledger_snapshot(case):
    return sorted(LedgerEntry.objects.filter(case=case).values_list("kind", "amount"))


def test_posting_the_proposal_in_go_is_recognised_as_our_own_settlement(go, paid_case):
    case, invoice = paid_case
    settlement = make_settlement(case)
    deliver_outbox()
    before = ledger_snapshot(case)

    domain.post_voucher(JournalVoucher.objects.get())
    invoice.refresh_from_db()
    assert invoice.balance == 0
    run = go.sync()
    go.sync()

    item = MatchedItem.objects.get()
    assert item.outcome == MatchedItem.Outcome.OWN_SETTLEMENT
    assert item.settlement_part.line.settlement == settlement
    assert item.applied_amount == 0
    assert run.counts["matched_items"]["own_settlement"] == 1
    assert ledger_snapshot(case) == before
    case.refresh_from_db()
    assert case.close_reason == CollectionCase.CloseReason.PAID


def test_a_partial_payment_settled_on_an_open_case_is_not_a_direct_payment(go):
    invoice = go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    pay_agency(case, "400.00")
    make_settlement(case)
    deliver_outbox()
    before = ledger_snapshot(case)

    domain.post_voucher(JournalVoucher.objects.get())
    go.sync()

    invoice.refresh_from_db()
    assert invoice.balance == Decimal("600.00")
    assert MatchedItem.objects.get().outcome == MatchedItem.Outcome.OWN_SETTLEMENT
    assert ledger_snapshot(case) == before
    assert case_balance(case) == Decimal("600.00")
    case.refresh_from_db()
    assert case.is_open

    # A real direct payment afterwards still counts.
    domain.register_payment(invoice, amount=Decimal("100.00"), on=TODAY)
    go.sync()
    assert case_balance(case) == Decimal("500.00")
    assert sorted(MatchedItem.objects.values_list("outcome", flat=True)) == [
        MatchedItem.Outcome.APPLIED,
        MatchedItem.Outcome.OWN_SETTLEMENT,
    ]


def test_an_invoice_at_balance_0_by_our_voucher_is_not_booked_as_paid_directly(go, settings):
    """Principal first: the principal is paid and settled, the fee is still owed (open case)."""
    settings.PAYMENT_ALLOCATION_ORDER = ["principal", "fee", "salaer", "interest"]
    invoice = go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    LedgerEntry.objects.create(
        case=case, kind=LedgerEntry.Kind.FEE, amount=Decimal("70.00"), booked_on=TODAY
    )
    pay_agency(case, "1000.00")
    case.refresh_from_db()
    assert case.is_open
    make_settlement(case)
    deliver_outbox()
    before = ledger_snapshot(case)

    domain.post_voucher(JournalVoucher.objects.get())
    go.sync()

    invoice.refresh_from_db()
    assert invoice.balance == 0
    assert ledger_snapshot(case) == before
    assert not LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT)
    case.refresh_from_db()
    assert case.is_open


def test_the_customer_sync_stores_the_sub_ledger_account(go):
    customer = go.customer()
    go.sync()
    assert Debtor.objects.get().pogo_subledger_account_id == customer.subledger_account_id


# --- the closing status waits for the voucher -------------------------------------------------


def closing_rows(case):
    return [
        row
        for row in OutboxMessage.objects.filter(case=case, kind=OutboxMessage.Kind.UPDATE_STATUS)
        if row.payload.get("closed")
    ]


def test_the_closing_status_waits_for_the_voucher(go, paid_case):
    case, _invoice = paid_case
    deliver_outbox()
    assert closing_rows(case) == []
    assert PogoCase.objects.get().status == PogoCase.Status.ACTIVE

    settlement = make_settlement(case, commission="100.00")  # blocked: 7770 missing
    deliver_outbox()
    assert closing_rows(case) == []

    GeneralLedgerAccount.objects.create(company=go.company, account_no=7770, name="Inkasso")
    settlement_voucher_retry(settlement=settlement)
    deliver_outbox()

    [row] = closing_rows(case)
    assert row.status == Status.SENT
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status == PogoCase.Status.CLOSED
    assert pogo_case.balance_agency == 0


def test_the_closing_status_goes_at_once_when_the_creditor_posts_by_hand(go):
    Creditor.objects.update(bookkeeping_mode=Creditor.BookkeepingMode.NONE)
    go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()

    pay_agency(case, "1000.00")
    deliver_outbox()

    [row] = closing_rows(case)
    assert row.status == Status.SENT
    assert PogoCase.objects.get().status == PogoCase.Status.CLOSED


def test_waiting_writes_no_row_that_is_retried(go, paid_case):
    case, _invoice = paid_case
    deliver_outbox()
    rows = OutboxMessage.objects.count()
    for _ in range(3):
        due_again()
        assert deliver_outbox() == {}
    assert OutboxMessage.objects.count() == rows
    assert not OutboxMessage.objects.filter(status=Status.PENDING).exists()
    assert closing_rows(case) == []


def test_retry_refuses_a_voucher_already_sent(go, paid_case):
    from kravia_web.errors import ApplicationError

    case, _invoice = paid_case
    settlement = make_settlement(case)
    deliver_outbox()
    with pytest.raises(ApplicationError):
        settlement_voucher_retry(settlement=settlement)
    assert JournalVoucher.objects.count() == 1
    assert PogoInvoice.objects.get().balance == Decimal("1000.00")  # not posted yet


def test_go_refusing_the_voucher_fails_the_settlement_with_go_s_reason(go, paid_case, monkeypatch):
    case, _invoice = paid_case
    settlement = make_settlement(case)
    create = PowerOfficeClient.create_bank_journal_proposal

    def refuse(self, payload):
        raise pogo_errors.ValidationError(
            "PowerOffice: Bad Request: Period is closed.", status_code=400
        )

    monkeypatch.setattr(PowerOfficeClient, "create_bank_journal_proposal", refuse)
    deliver_outbox()

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.FAILED
    assert "Period is closed." in settlement.voucher_error
    assert OutboxMessage.objects.get(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).status == (
        Status.FAILED
    )

    monkeypatch.setattr(PowerOfficeClient, "create_bank_journal_proposal", create)
    settlement_voucher_retry(settlement=settlement)
    deliver_outbox()
    settlement.refresh_from_db()
    assert (settlement.voucher_status, settlement.voucher_error) == (VoucherStatus.SENT, "")


def test_a_settlement_made_while_not_connected_waits_until_sent_again(go, paid_case):
    case, _invoice = paid_case
    PowerOfficeConnection.objects.update(disconnected_at=timezone.now())

    settlement = make_settlement(case)

    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.PENDING
    assert "Ikke koblet til PowerOffice Go" in settlement.voucher_error
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).exists()

    PowerOfficeConnection.objects.update(disconnected_at=None)
    settlement_voucher_retry(settlement=settlement)
    deliver_outbox()
    settlement.refresh_from_db()
    assert settlement.voucher_status == VoucherStatus.SENT
    assert JournalVoucher.objects.count() == 1

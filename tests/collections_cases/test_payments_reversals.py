"""Payments the bank reversed (docs/payments.md, reference §6): the allocation is undone to
the øre, a case the payment closed is reopened, the money is never settled — or, already paid
out, becomes a claim deducted from the creditor's next payout — and a reversal that matches
no payment waits for a case handler."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_cases.cases.selectors import case_balance
from collections_cases.letters.documents.statements import document_settlement_pdf
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    SettlementClaim,
)
from collections_cases.payments import reversals
from collections_cases.payments.imports import payments_import_file
from collections_cases.payments.services import case_outstanding_by_component
from collections_cases.settlements import services as settlements
from collections_cases.settlements.vouchers import lines_balance
from kravia_web.errors import ApplicationError
from tests.collections_cases.bankfiles_support import Entry, Ocr, Tx, camt, ocr, payment_entry
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.collections_cases.test_documents import pdf_text
from tests.factories import CreditorFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
KID = "123456782"
PAID = dt.date(2026, 11, 5)


def owing(kid=KID, *, principal="1000.00", fee="0"):
    case = CollectionCaseFactory(kid=kid)
    LedgerEntryFactory(case=case, kind=Kind.PRINCIPAL, amount=Decimal(principal))
    if Decimal(fee):
        LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal(fee))
    return case


def reversal_entry(amount, kid=KID, *, ref, e2e="NOTPROVIDED", rvsl=True, day=PAID):
    return Entry(
        amount,
        [Tx(amount, kid=kid, ref=ref, e2e=e2e)],
        indicator="DBIT",
        reversal=rvsl,
        day=day + dt.timedelta(days=2),
    )


def test_a_rvslind_reversal_undoes_the_allocation_and_reopens_the_paid_case():
    # Given a case (fee 70, principal 1 000) paid in full by a camt.054 payment, closed as paid
    case = owing(fee="70.00")
    payments_import_file(
        content=camt(payment_entry("1070.00", KID, "P-1", e2e="E2E-1")), file_name="d1.xml"
    )
    case.refresh_from_db()
    assert (case.status, case_balance(case)) == (CollectionCase.Status.CLOSED, Decimal("0.00"))

    # When the bank reverses it (RvslInd=true on a debit, repeating the EndToEndId)
    batch = payments_import_file(
        content=camt(reversal_entry("1070.00", ref="R-1", e2e="E2E-1")), file_name="d2.xml"
    )

    # Then the payment is reversed, the balance is what it was before, per component too
    payment = Payment.objects.get(external_reference="camt:P-1")
    assert payment.status == Payment.Status.REVERSED
    assert (batch.reversal_count, batch.created_count) == (1, 0)
    case.refresh_from_db()
    assert case_balance(case) == Decimal("1070.00")
    assert case.stored_balance == Decimal("1070.00")
    assert case.stored_paid == Decimal("0.00")
    assert case_outstanding_by_component(case) == {
        "fee": Decimal("70.00"),
        "salaer": Decimal("0.00"),
        "interest": Decimal("0.00"),
        "principal": Decimal("1000.00"),
    }
    undone = LedgerEntry.objects.filter(case=case, kind=Kind.PAYMENT_REVERSAL)
    assert sorted(e.amount for e in undone) == [Decimal("70.00"), Decimal("1000.00")]
    assert all(a.reversal_entry_id for a in payment.allocations.all())
    # and the case is open again with its dunning step due, the timeline says why
    assert case.status == CollectionCase.Status.ACTIVE
    assert (case.close_reason, case.next_action) == ("", case.NextAction.SEND_INKASSOVARSEL)
    assert case.next_action_date is not None
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PAYMENT_REVERSED)
    assert "tilbakeført av banken" in event.message
    assert event.data["allocations"] == {"fee": "70.00", "principal": "1000.00"}
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.REOPENED).count() == 1
    reversal = PaymentReversal.objects.get()
    assert (reversal.payment, reversal.status, reversal.original_reference) == (
        payment,
        "reversed",
        "camt:e2e:E2E-1",
    )


def test_a_debit_reversing_a_kid_payment_is_matched_by_kid_and_amount():
    # Given a paid case, and a plain debit (no RvslInd, no reference) carrying the same KID
    # and amount — before the fix it was skipped and the case stayed paid
    case = owing()
    payments_import_file(content=camt(payment_entry("1000.00", KID, "P-1")), file_name="a.xml")

    batch = payments_import_file(
        content=camt(reversal_entry("1000.00", ref="D-1", rvsl=False)), file_name="b.xml"
    )

    assert batch.reversal_count == 1
    assert Payment.objects.get(external_reference="camt:P-1").status == Payment.Status.REVERSED
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE
    assert case_balance(case) == Decimal("1000.00")


def test_an_overpayment_is_undone_exactly_and_its_refund_cancelled():
    # Given 1 200 paid on 1 000 owed: 200 held as a refund due to the debtor
    case = owing()
    payments_import_file(content=camt(payment_entry("1200.00", KID, "P-1")), file_name="a.xml")

    payments_import_file(
        content=camt(reversal_entry("1200.00", ref="R-1", rvsl=True)), file_name="b.xml"
    )

    # Then the balance is exactly the 1 000 owed before, and no refund is due any more
    case.refresh_from_db()
    assert case_balance(case) == Decimal("1000.00")
    refund = sum(
        LedgerEntry.objects.filter(
            case=case, kind__in=[Kind.REFUND_DUE, Kind.REFUND_CANCELLED]
        ).values_list("amount", flat=True)
    )
    assert refund == Decimal("0.00")
    assert case_outstanding_by_component(case)["principal"] == Decimal("1000.00")


def test_the_same_reversal_twice_reverses_nothing_twice():
    case = owing()
    payments_import_file(content=camt(payment_entry("1000.00", KID, "P-1")), file_name="a.xml")
    content = camt(reversal_entry("1000.00", ref="R-1"))
    payments_import_file(content=content, file_name="b.xml")

    # The identical file is refused; a re-sent statement with the same reversal is a duplicate
    with pytest.raises(ApplicationError):
        payments_import_file(content=content, file_name="b.xml")
    again = payments_import_file(content=content + b"\n<!-- resent -->", file_name="c.xml")

    assert (again.duplicate_count, again.reversal_count) == (1, 0)
    assert LedgerEntry.objects.filter(case=case, kind=Kind.PAYMENT_REVERSAL).count() == 1
    assert case_balance(case) == Decimal("1000.00")
    # and the service itself is idempotent by the reversal's reference
    reversal = reversals.payment_reverse(
        payment=Payment.objects.get(), reversed_on=PAID, reference="camt:rvsl:R-1"
    )
    assert reversal.status == PaymentReversal.Status.REVERSED
    assert LedgerEntry.objects.filter(case=case, kind=Kind.PAYMENT_REVERSAL).count() == 1


def test_a_reversal_matching_no_payment_is_queued_for_a_case_handler(user):
    # Given a reversal (OCR type 18) of a payment that was never imported
    case = owing()
    batch = payments_import_file(
        content=ocr(Ocr(50000, KID, kind="18", sign="-")), file_name="o.txt"
    )

    # Then nothing is undone, and it waits in the queue with a note
    assert (batch.reversal_count, batch.reversal_unmatched_count) == (0, 1)
    queued = PaymentReversal.objects.get()
    assert queued.status == PaymentReversal.Status.UNMATCHED
    assert "Ingen innbetaling med KID 123456782" in queued.note
    assert queued.amount == Decimal("500.00")
    assert not LedgerEntry.objects.filter(kind=Kind.PAYMENT_REVERSAL).exists()

    # When a case handler names the payment (a different amount is refused, not guessed)
    payment = Payment.objects.create(
        source="manual", external_reference="m-1", amount=Decimal("500.00"), paid_on=PAID, kid=KID
    )
    from collections_cases.payments.services import payment_allocate

    payment_allocate(payment=payment, case=case)
    reversals.reversal_assign(reversal=queued, payment=payment, actor=user)

    # Then it is undone like an imported one
    queued.refresh_from_db()
    assert (queued.status, queued.payment, queued.handled_by) == ("reversed", payment, user)
    assert case_balance(case) == Decimal("1000.00")


def test_reversed_payments_are_never_settled():
    creditor = CreditorFactory(bank_account="15036123459")
    case = _case(creditor, "1000.00")
    payments_import_file(content=camt(payment_entry("400.00", case.kid, "P-1")), file_name="a.xml")
    payments_import_file(
        content=camt(reversal_entry("400.00", case.kid, ref="R-1")), file_name="b.xml"
    )

    with pytest.raises(settlements.NothingToSettle):
        settlements.settle_creditor(creditor_id=creditor.pk, on=dt.date(2026, 11, 27))
    assert not PaymentAllocation.objects.filter(settlement_line__isnull=False).exists()


def _case(creditor, principal, *, salaer="0"):
    """A case through the real service, its debtor without interest (the amounts stay exact
    whatever day the test runs)."""
    debtor = collectable_debtor(creditor, do_not_add_late_payment_interest=True)
    case = open_case(creditor, debtor=debtor, amounts=(principal,))
    if Decimal(salaer):
        LedgerEntryFactory(case=case, kind=Kind.SALAER, amount=Decimal(salaer))
    return case


def test_a_reversal_after_settlement_is_a_claim_deducted_from_the_next_payout():
    # Given a VAT-registered creditor (interest to the agency, no commission) whose debtor
    # paid salær 525 + principal 1 000, settled: payout 1 000 − 25 % VAT of 525 = 868,75
    creditor = CreditorFactory(bank_account="15036123459", vat_registered=True)
    first = _case(creditor, "1000.00", salaer="525.00")
    payments_import_file(
        content=camt(payment_entry("1525.00", first.kid, "P-1", e2e="E-1")), file_name="a.xml"
    )
    settled, _ = settlements.settle_creditor(creditor_id=creditor.pk, on=dt.date(2026, 11, 6))
    assert settled.payout == Decimal("868.75")

    # When the bank reverses that payment
    payments_import_file(
        content=camt(reversal_entry("1525.00", first.kid, ref="R-1", e2e="E-1")),
        file_name="b.xml",
    )

    # Then the creditor's share is a claim against the next payout, visible with its parts
    claim = SettlementClaim.objects.get()
    assert (claim.principal, claim.vat, claim.commission, claim.interest_to_creditor) == (
        Decimal("1000.00"),
        Decimal("131.25"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert claim.amount == Decimal("868.75")
    assert claim.deducted_in is None
    assert claim.settled_in.settlement == settled
    event = CaseEvent.objects.get(case=first, kind=CaseEvent.Kind.PAYMENT_REVERSED)
    assert "868,75" in event.message

    # When another debtor pays 2 000 and the creditor is settled again
    second = _case(creditor, "2000.00")
    payments_import_file(
        content=camt(payment_entry("2000.00", second.kid, "P-2", day=dt.date(2026, 11, 10))),
        file_name="c.xml",
    )
    nxt, created = settlements.settle_creditor(creditor_id=creditor.pk, on=dt.date(2026, 11, 13))

    # Then the claim is deducted to the øre, the reversed money is not settled again, and the
    # posting lines still balance
    assert created
    assert nxt.principal == Decimal("2000.00")
    assert nxt.claims == Decimal("868.75")
    assert nxt.payout == Decimal("1131.25")  # 2 000 − 868,75
    claim.refresh_from_db()
    assert claim.deducted_in == nxt
    assert [line.case_id for line in nxt.lines.all()] == [second.pk]
    debits, credits = lines_balance(nxt.voucher_lines)
    assert debits == credits
    assert any("Tilbakeført innbetaling" in line["description"] for line in nxt.voucher_lines)
    # and the statement shows the deduction with the case and where it was paid out
    text = pdf_text(document_settlement_pdf(settlement=nxt)).replace(" ", "")
    assert "Tilbakeførteinnbetalinger" in text
    assert f"{first.number}" in text
    assert "868,75" in text
    assert "1131,25" in text


def test_a_claim_larger_than_what_is_collected_waits_for_the_next_run():
    creditor = CreditorFactory(bank_account="15036123459")
    first = _case(creditor, "1000.00")
    payments_import_file(
        content=camt(payment_entry("1000.00", first.kid, "P-1")), file_name="a.xml"
    )
    settlements.settle_creditor(creditor_id=creditor.pk, on=dt.date(2026, 11, 6))
    payments_import_file(
        content=camt(reversal_entry("1000.00", first.kid, ref="R-1")), file_name="b.xml"
    )
    second = _case(creditor, "300.00")
    payments_import_file(
        content=camt(payment_entry("300.00", second.kid, "P-2", day=dt.date(2026, 11, 10))),
        file_name="c.xml",
    )

    with pytest.raises(settlements.NothingToSettle) as waits:
        settlements.settle_creditor(creditor_id=creditor.pk, on=dt.date(2026, 11, 13))

    assert "tilbakeførte innbetalinger" in str(waits.value)
    assert SettlementClaim.objects.get().deducted_in is None


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_the_agency_sees_and_works_the_reversal_queue_in_the_admin(admin_client):
    # Given a queued reversal and a claim (after a settlement)
    case = owing()
    payments_import_file(content=ocr(Ocr(100000, KID, kind="18", sign="-")), file_name="o.txt")
    queued = PaymentReversal.objects.get()
    payments_import_file(content=camt(payment_entry("1000.00", KID, "P-1")), file_name="a.xml")
    payment = Payment.objects.get()

    # Then the queue and the claims list show them
    changelist = reverse("admin:collections_cases_paymentreversal_changelist")
    page = admin_client.get(changelist, {"status__exact": "unmatched"})
    assert page.status_code == 200
    assert "Ingen innbetaling med KID 123456782" in page.content.decode()
    assert (
        admin_client.get(reverse("admin:collections_cases_settlementclaim_changelist")).status_code
        == 200
    )

    # When the case handler names the payment and saves
    url = reverse("admin:collections_cases_paymentreversal_change", args=[queued.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"payment": payment.pk})

    # Then the payment is reversed and the case reopened
    assert response.status_code == 302
    queued.refresh_from_db()
    assert (queued.status, queued.handled_by) == ("reversed", admin_client.staff)
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE
    assert case_balance(case) == Decimal("1000.00")

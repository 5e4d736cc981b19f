import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from collections_cases.cases import services as case_services
from collections_cases.cases.selectors import case_balance
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Payment
from collections_cases.payments import services
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
DAY = dt.date(2026, 11, 5)


def case_owing(principal="1000.00", fee="70.00", salaer="0", interest="12.50", **kwargs):
    case = CollectionCaseFactory(**kwargs)
    for kind, amount in [
        (Kind.PRINCIPAL, principal),
        (Kind.FEE, fee),
        (Kind.SALAER, salaer),
        (Kind.INTEREST, interest),
    ]:
        if Decimal(amount) > 0:
            LedgerEntryFactory(case=case, kind=kind, amount=Decimal(amount))
    return case


def register(amount, case=None, kid="", ref=None):
    return services.payment_register(
        amount=Decimal(amount),
        paid_on=DAY,
        external_reference=ref or f"manual-{amount}-{kid}-{case and case.pk}",
        kid=kid,
        case=case,
    )


def split(payment):
    return [(a.component, a.amount) for a in payment.allocations.order_by("id")]


def test_payments_default_order_costs_interest_principal():
    case = case_owing()
    payment = register("100.00", case=case)
    assert payment.status == Payment.Status.ALLOCATED
    assert split(payment) == [
        ("fee", Decimal("70.00")),
        ("interest", Decimal("12.50")),
        ("principal", Decimal("17.50")),
    ]
    assert case_balance(case) == Decimal("982.50")
    entries = LedgerEntry.objects.filter(case=case, kind=Kind.PAYMENT)
    assert sorted(e.amount for e in entries) == sorted(
        [Decimal("-70.00"), Decimal("-12.50"), Decimal("-17.50")]
    )
    assert all(a.ledger_entry.amount == -a.amount for a in payment.allocations.all())
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PAYMENT)
    assert "kr 100,00" in event.message and "fordelt" in event.message
    assert event.data["payment_id"] == payment.pk


@override_settings(PAYMENT_ALLOCATION_ORDER=["principal", "interest", "fee", "salaer"])
def test_payments_configured_order():
    case = case_owing()
    payment = register("1005.00", case=case)
    assert split(payment) == [("principal", Decimal("1000.00")), ("interest", Decimal("5.00"))]


@override_settings(PAYMENT_ALLOCATION_ORDER=["fee", "principal"])
def test_payments_incomplete_order_is_refused():
    case = case_owing()
    with pytest.raises(ApplicationError):
        register("10.00", case=case)


def test_payments_full_payment_closes_case_as_paid():
    case = case_owing()
    register("1082.50", case=case)
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.PAID
    assert case_balance(case) == 0


def test_payments_overpayment_becomes_refund_due():
    case = case_owing(fee="0", interest="0")
    payment = register("1250.00", case=case)
    assert split(payment) == [("principal", Decimal("1000.00")), ("overpayment", Decimal("250.00"))]
    refund = LedgerEntry.objects.get(case=case, kind=Kind.REFUND_DUE)
    assert refund.amount == Decimal("250.00")
    assert case_balance(case) == 0
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED


def test_payments_kid_match_allocates_single_open_case():
    case = case_owing()
    payment = register("50.00", kid=case.kid)
    assert payment.status == Payment.Status.ALLOCATED
    assert payment.case == case


@pytest.mark.parametrize(
    "kid,status,note",
    [
        ("", Payment.Status.UNMATCHED, "Ingen KID"),
        ("123456780", Payment.Status.UNMATCHED, "kontrollsiffer"),
        ("999999998", Payment.Status.UNMATCHED, "Ingen sak"),
    ],
)
def test_payments_unmatched_go_to_queue(kid, status, note):
    payment = register("50.00", kid=kid)
    assert payment.status == status
    assert note in payment.match_note
    assert payment.case is None
    assert not payment.allocations.exists()


def test_payments_closed_case_is_queued_not_guessed():
    case = case_owing(status=CollectionCase.Status.CLOSED)
    payment = register("50.00", kid=case.kid)
    assert payment.status == Payment.Status.AMBIGUOUS
    assert case.number in payment.match_note
    assert not LedgerEntry.objects.filter(case=case, kind=Kind.PAYMENT).exists()


def test_payments_assign_from_queue_allocates():
    case = case_owing()
    handler = UserFactory(is_staff=True)
    payment = register("100.00", kid="999999998")
    payment = services.payment_assign(payment=payment, case=case, actor=handler)
    assert payment.status == Payment.Status.ALLOCATED
    assert payment.matched_by == handler
    assert payment.case == case
    with pytest.raises(ApplicationError):
        services.payment_assign(payment=payment, case=case, actor=handler)


def test_payments_unique_external_reference():
    case = case_owing()
    register("10.00", case=case, ref="R1")
    with pytest.raises(ApplicationError):
        register("10.00", case=case, ref="R1")
    assert Payment.objects.count() == 1


def test_payments_reduction_and_direct_payment_counted():
    case = case_owing(fee="70.00", interest="0")
    # a direct payment to the creditor reduces only the principal (existing service)
    LedgerEntryFactory(case=case, kind=Kind.DIRECT_PAYMENT, amount=Decimal("-400.00"))
    LedgerEntryFactory(case=case, kind=Kind.REDUCTION, amount=Decimal("-70.00"))
    outstanding = services.case_outstanding_by_component(case)
    assert outstanding == {
        "fee": Decimal("0.00"),
        "salaer": Decimal("0.00"),
        "interest": Decimal("0.00"),
        "principal": Decimal("600.00"),
    }
    payment = register("600.00", case=case)
    assert split(payment) == [("principal", Decimal("600.00"))]
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED


def test_payments_direct_payment_service_unchanged():
    """The direct-payment service (case_services) reduces only the principal, beside the
    payments module's allocation: no Payment, fee and interest still owed, the case open."""
    case = case_owing()
    assert services.case_outstanding_by_component(case)["principal"] == Decimal("1000.00")

    case = case_services.case_register_direct_payment(
        case=case, actor=UserFactory(), amount="400.00", paid_on=DAY, reference="bank 17"
    )

    entry = LedgerEntry.objects.get(case=case, kind=Kind.DIRECT_PAYMENT)
    assert (entry.amount, entry.booked_on, entry.description) == (
        Decimal("-400.00"),
        DAY,
        "bank 17",
    )
    assert services.case_outstanding_by_component(case) == {
        "fee": Decimal("70.00"),
        "salaer": Decimal("0.00"),
        "interest": Decimal("12.50"),
        "principal": Decimal("600.00"),
    }
    assert case_balance(case) == Decimal("682.50")
    assert not Payment.objects.exists()
    case.refresh_from_db()
    assert case.status != CollectionCase.Status.CLOSED
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DIRECT_PAYMENT).count() == 1

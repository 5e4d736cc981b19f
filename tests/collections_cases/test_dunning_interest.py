"""Forsinkelsesrente booked by the dunning run: per invoice from its own due date, on its
principal still outstanding day by day, each period once."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_cases.cases import services
from collections_cases.ledger.interest import accruals_from, case_interest_facts
from collections_cases.models import LedgerEntry
from tests.collections_cases.dunning_support import on_day, run
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

D = dt.date
OPENED = D(2025, 12, 1)
BO_DAY = D(2025, 12, 18)


def interest_by_invoice(case, booked_on):
    return {
        entry.invoice.invoice_no: entry.amount
        for entry in LedgerEntry.objects.filter(
            case=case, kind=LedgerEntry.Kind.INTEREST, booked_on=booked_on
        )
    }


@pytest.fixture
def two_invoice_case():
    with on_day(OPENED, hour=10):
        debtor = DebtorFactory()
        a = InvoiceFactory(
            debtor=debtor, invoice_no=1, due_date=D(2025, 11, 14), total_amount=Decimal("4000")
        )
        b = InvoiceFactory(
            debtor=debtor, invoice_no=2, due_date=D(2025, 11, 21), total_amount=Decimal("6000")
        )
        return services.case_create(
            creditor=debtor.creditor, debtor=debtor, invoices=[a, b], needs_approval=False
        )


def test_interest_runs_per_invoice_from_its_own_due_date(two_invoice_case):
    case = two_invoice_case

    run(OPENED)

    # 4 000 × 12.25 % × 17/365 and 6 000 × 12.25 % × 10/365
    assert interest_by_invoice(case, OPENED) == {1: Decimal("22.82"), 2: Decimal("20.14")}
    # one fee per letter, the smaller one: invoice 2 is not yet 14 days overdue
    assert not LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.FEE).exists()


def test_a_direct_payment_lowers_the_oldest_invoice_first_and_periods_do_not_overlap(
    two_invoice_case,
):
    case = two_invoice_case
    run(OPENED)
    with on_day(D(2025, 12, 10), hour=12):
        services.case_register_direct_payment(
            case=case, actor=None, amount=Decimal("1000"), paid_on=D(2025, 12, 10)
        )

    facts = case_interest_facts(case)
    assert [(f.principal, f.reductions) for f in facts] == [
        (Decimal("4000.00"), [(D(2025, 12, 10), Decimal("1000.00"))]),
        (Decimal("6000.00"), []),
    ]
    run(BO_DAY)

    # Invoice 1: 4 000 up to and including the payment day (26 days from due), 3 000 for the
    # 8 days after: 34.904… + 8.054… = 42.96 in all, 22.82 of it booked with the IV.
    # Invoice 2: 6 000 for the 17 days since the IV.
    assert interest_by_invoice(case, BO_DAY) == {1: Decimal("20.14"), 2: Decimal("34.23")}
    assert accruals_from(case_interest_facts(case), on=BO_DAY) == []


def test_an_invoice_merged_after_the_inkassovarsel_accrues_from_its_own_due_date(
    two_invoice_case,
):
    case = two_invoice_case
    run(OPENED)
    with on_day(D(2025, 12, 5), hour=12):
        older = InvoiceFactory(
            debtor=case.debtor, invoice_no=3, due_date=D(2025, 10, 31), total_amount=Decimal("2000")
        )
        services.case_add_invoices(case=case, actor=None, invoices=[older])

    run(BO_DAY)

    # 2 000 × 12.25 % × 48/365 (31.10 → 18.12)
    assert interest_by_invoice(case, BO_DAY)[3] == Decimal("32.22")


def test_grace_days_come_from_the_setting(settings, two_invoice_case):
    settings.DUNNING_GRACE_DAYS = 5
    case = two_invoice_case

    run(OPENED)

    case.refresh_from_db()
    # IV deadline Mon 15.12 + 5 banking days: 16, 17, 18, 19, 22.12
    assert case.next_action_date == D(2025, 12, 22)

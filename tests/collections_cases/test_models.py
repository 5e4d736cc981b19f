import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from collections_cases.cases.selectors import case_amounts, case_balance
from collections_cases.models import AppendOnlyError, CaseEvent, CollectionCase, LedgerEntry
from creditors.models import Creditor
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    LedgerEntryFactory,
)

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind


def make_event(case):
    return CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTE, message="Notat")


def test_case_event_cannot_be_updated():
    event = make_event(CollectionCaseFactory())
    event.message = "Endret"

    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).update(message="Endret")

    event.refresh_from_db()
    assert event.message == "Notat"


def test_case_event_cannot_be_deleted():
    event = make_event(CollectionCaseFactory())

    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).delete()

    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_case_with_events_cannot_be_deleted():
    case = CollectionCaseFactory()
    make_event(case)

    with pytest.raises(IntegrityError):
        with transaction.atomic():
            case.delete()


def test_ledger_entry_is_append_only():
    entry = LedgerEntryFactory()
    entry.amount = Decimal("1")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (Kind.PRINCIPAL, "-1"),
        (Kind.FEE, "0"),
        (Kind.PAYMENT, "100"),
        (Kind.DIRECT_PAYMENT, "0"),
    ],
)
def test_ledger_sign_follows_kind(kind, amount):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            LedgerEntryFactory(kind=kind, amount=Decimal(amount))


def test_every_ledger_kind_is_either_debit_or_credit():
    assert set(LedgerEntry.DEBIT_KINDS) | set(LedgerEntry.CREDIT_KINDS) == set(Kind)
    assert not set(LedgerEntry.DEBIT_KINDS) & set(LedgerEntry.CREDIT_KINDS)


def test_balance_is_the_sum_of_the_ledger():
    case = CollectionCaseFactory()
    for kind, amount in [
        (Kind.PRINCIPAL, "1000.00"),
        (Kind.FEE, "38.00"),
        (Kind.INTEREST, "12.34"),
        (Kind.SALAER, "300.00"),
        (Kind.PAYMENT, "-500.00"),
        (Kind.DIRECT_PAYMENT, "-100.00"),
    ]:
        LedgerEntryFactory(case=case, kind=kind, amount=Decimal(amount))
    CollectionCaseFactory()  # another case, no entries

    assert case_balance(case) == Decimal("750.34")
    annotated = CollectionCase.objects.with_balance()
    assert annotated.get(pk=case.pk).balance == Decimal("750.34")
    assert {c.balance for c in annotated.exclude(pk=case.pk)} == {Decimal("0")}
    amounts = case_amounts(case)
    assert amounts[Kind.PRINCIPAL] == Decimal("1000.00")
    assert amounts[Kind.PAYMENT] == Decimal("-500.00")
    assert amounts[Kind.CREDIT_NOTE] == Decimal("0.00")
    assert amounts["principal_outstanding"] == Decimal("900.00")
    assert amounts["balance"] == Decimal("750.34")


class TestBalanceProperty(HypothesisTestCase):
    @settings(max_examples=50, deadline=None)
    # SQLite sums decimals as floats: this one came back as 2893.00999999999.
    @example(
        [
            (Kind.PRINCIPAL, Decimal("0.01")),
            (Kind.PRINCIPAL, Decimal("19890.17")),
            (Kind.PRINCIPAL, Decimal("0.01")),
            (Kind.PAYMENT, Decimal("16997.18")),
        ]
    )
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(list(Kind)),
                st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
            ),
            max_size=8,
        )
    )
    def test_balance_equals_sum_of_signed_entries(self, entries):
        case = CollectionCaseFactory()
        expected = Decimal("0")
        for kind, amount in entries:
            signed = amount if kind in LedgerEntry.DEBIT_KINDS else -amount
            LedgerEntryFactory(case=case, kind=kind, amount=signed)
            expected += signed
        assert case_balance(case) == expected
        assert CollectionCase.objects.with_balance().get(pk=case.pk).balance == expected
        assert case_amounts(case)["balance"] == expected


def test_case_number_and_kid_are_unique():
    case = CollectionCaseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionCaseFactory(number=case.number)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionCaseFactory(kid=case.kid)


def test_debtor_pogo_id_unique_per_creditor_only():
    debtor = DebtorFactory(pogo_id=42)
    DebtorFactory(pogo_id=42)  # another creditor
    DebtorFactory(creditor=debtor.creditor, pogo_id=None)
    DebtorFactory(creditor=debtor.creditor, pogo_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        DebtorFactory(creditor=debtor.creditor, pogo_id=42)


def test_debtor_entry_step_falls_back_to_creditor():
    debtor = DebtorFactory(creditor__entry_step=Creditor.EntryStep.BETALINGSOPPFORDRING)
    assert debtor.effective_entry_step == Creditor.EntryStep.BETALINGSOPPFORDRING
    debtor.entry_step = Creditor.EntryStep.INKASSOVARSEL
    assert debtor.effective_entry_step == Creditor.EntryStep.INKASSOVARSEL
    assert debtor.is_business is False


def test_str():
    case = CollectionCaseFactory(number="K-2026-000007")
    assert str(case) == "K-2026-000007"
    assert str(LedgerEntryFactory(case=case, booked_on=dt.date(2026, 1, 1))).startswith("Hovedstol")

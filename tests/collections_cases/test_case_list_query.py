"""The Saker list's query at scale: balances are per-row subqueries, so neither the page nor
its count aggregates every case of the creditor (docs/performance.md)."""

from decimal import Decimal

import pytest

from collections_cases.models import CollectionCase, LedgerEntry
from collections_cases.page_selectors import case_page_list
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.factories_pages import open_case

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


def test_balances_come_per_case_without_grouping_all_cases(user, creditor):
    case = open_case(creditor, amounts=("1000.00", "250.00"))
    LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("70.00"))
    LedgerEntryFactory(case=case, kind=Kind.PAYMENT, amount=Decimal("-300.00"))
    LedgerEntryFactory(case=case, kind=Kind.DIRECT_PAYMENT, amount=Decimal("-20.00"))
    other = open_case(creditor)

    rows = {row.pk: row for row in case_page_list(user=user, creditor=creditor)}
    sql = str(case_page_list(user=user, creditor=creditor).order_by("pk")[:50].query)

    assert (rows[case.pk].balance, rows[case.pk].principal, rows[case.pk].paid) == (
        Decimal("1000.00"),
        Decimal("1250.00"),
        Decimal("-320.00"),
    )
    assert rows[other.pk].balance == Decimal("1000.00")
    assert 'GROUP BY "collections_cases_collectioncase"' not in sql
    assert (
        case_page_list(user=user, creditor=creditor).count()
        == CollectionCase.objects.filter(creditor=creditor).count()
    )


def test_sorting_by_balance_computes_every_balance_in_one_grouped_join(
    user, creditor, logged_in_client
):
    case = open_case(creditor, amounts=("1000.00",))
    LedgerEntryFactory(case=case, kind=Kind.PAYMENT, amount=Decimal("-400.00"))
    richer = open_case(creditor, amounts=("900.00",))

    grouped = case_page_list(user=user, creditor=creditor, every_balance=True)
    per_row = case_page_list(user=user, creditor=creditor)

    values = ("pk", "balance", "principal", "paid")
    assert sorted(grouped.values_list(*values)) == sorted(per_row.values_list(*values))
    assert 'GROUP BY "collections_cases_collectioncase"' in str(grouped.query)
    response = logged_in_client.get("/saker/?sort=-balance")
    numbers = [row.number for row in response.context["page"].object_list]
    assert numbers == [richer.number, case.number]

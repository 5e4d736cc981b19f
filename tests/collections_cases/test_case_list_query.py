"""The Saker list's query at scale: balances are the totals stored on each case (kept by the
ledger's triggers), so neither the page nor its count aggregates the ledger
(docs/performance.md)."""

from decimal import Decimal

import pytest

from collections_cases.models import CollectionCase, LedgerEntry
from collections_cases.page_selectors import case_page_list
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.factories_pages import open_case

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


def test_balances_come_per_case_without_reading_the_ledger(user, creditor):
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
    assert "collections_cases_ledgerentry" not in sql
    assert (
        case_page_list(user=user, creditor=creditor).count()
        == CollectionCase.objects.filter(creditor=creditor).count()
    )


def test_sorting_and_filtering_by_balance_read_the_stored_column_not_the_ledger(
    user, creditor, logged_in_client
):
    case = open_case(creditor, amounts=("1000.00",))
    LedgerEntryFactory(case=case, kind=Kind.PAYMENT, amount=Decimal("-400.00"))
    richer = open_case(creditor, amounts=("900.00",))

    sql = str(case_page_list(user=user, creditor=creditor).order_by("-balance").query)
    response = logged_in_client.get("/saker/?sort=-balance")
    filtered = logged_in_client.get("/saker/?balance_min=700")

    assert "collections_cases_ledgerentry" not in sql
    numbers = [row.number for row in response.context["page"].object_list]
    assert numbers == [richer.number, case.number]
    assert [row.number for row in filtered.context["page"].object_list] == [richer.number]
    assert [row.balance for row in response.context["rows"]] == ["kr 900,00", "kr 600,00"]

"""The Saker list's query at scale: balances are the totals stored on each case (kept by the
ledger's triggers), so neither the page nor its count aggregates the ledger
(docs/performance.md)."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_cases.cases import filters
from collections_cases.cases.lists import CASE_LIST
from collections_cases.cases.page_selectors import case_page_list
from collections_cases.models import CollectionCase, LedgerEntry
from kravia_web import listing
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory
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
    numbers = [row["number"] for row in response.context["page"].object_list]
    assert numbers == [richer.number, case.number]
    assert [row["number"] for row in filtered.context["page"].object_list] == [richer.number]
    assert [row["balance"] for row in response.context["rows"]] == ["kr 900,00", "kr 600,00"]


@pytest.mark.parametrize("sort", ["next_action", "-balance", "debtor", "-created", "number"])
def test_a_later_page_reads_ids_first_and_shows_the_same_rows_in_the_same_order(
    user, creditor, logged_in_client, django_assert_max_num_queries, sort
):
    for i in range(30):
        case = CollectionCaseFactory(
            debtor__creditor=creditor,
            debtor__name=f"Skyldner {i % 7}",
            next_action_date=dt.date(2026, 10, 1 + i % 5),
        )
        LedgerEntryFactory(case=case, kind=Kind.PRINCIPAL, amount=Decimal(100 + i % 4))
    ordered, _sort = CASE_LIST.order(case_page_list(user=user, creditor=creditor), sort)
    expected = [case.number for case in ordered][25:]

    with django_assert_max_num_queries(10):
        response = logged_in_client.get("/saker/", {"sort": sort, "per_side": 25, "side": 2})

    page = response.context["page"]
    assert page.number == 2
    assert [case["number"] for case in page.object_list] == expected
    assert [row["number"] for row in response.context["rows"]] == expected
    assert "Side 2 av 2 · 30 treff" in response.content.decode()


@pytest.mark.parametrize("side", [1, 2])
def test_a_search_with_many_matches_shows_the_same_page_read_the_other_way(
    creditor, logged_in_client, monkeypatch, django_assert_max_num_queries, side
):
    for i in range(30):
        CollectionCaseFactory(debtor__creditor=creditor, debtor__name=f"Ola Nordmann {i % 4}")
    CollectionCaseFactory(debtor__creditor=creditor, debtor__name="Kari")
    query = {"q": "nordmann", "sort": "debtor", "per_side": 25, "side": side}
    with django_assert_max_num_queries(10):
        few = logged_in_client.get("/saker/", query)

    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 10)
    many = logged_in_client.get("/saker/", query)

    few_sql = str(few.context["page"].paginator.object_list.query)
    many_sql = str(many.context["page"].paginator.object_list.query)
    assert "LIKE" not in few_sql  # the matches' ids, read once
    assert "LIKE" in many_sql
    rows = [row["number"] for row in many.context["rows"]]
    assert rows == [row["number"] for row in few.context["rows"]]
    assert len(rows) == (25 if side == 1 else 5)
    assert many.context["page"].paginator.count == few.context["page"].paginator.count == 30


def test_the_filter_form_is_kept_per_query_string(creditor, logged_in_client):
    CollectionCaseFactory(debtor__creditor=creditor, debtor__name="Ola Nordmann")
    listing._FILTERS_HTML.clear()
    queries = [{}, {"q": "Ola"}, {"q": "Kari", "status": "active"}, {"balance_min": "x"}]

    first = [logged_in_client.get("/saker/", q).content.decode() for q in queries]
    again = [logged_in_client.get("/saker/", q).content.decode() for q in queries]
    object.__setattr__(CASE_LIST, "static_filters", False)  # rendered every time
    try:
        fresh = [logged_in_client.get("/saker/", q).content.decode() for q in queries]
    finally:
        object.__setattr__(CASE_LIST, "static_filters", True)

    def form(html):
        return html[html.index('<form method="get" class="card filters"') :].split("</form>")[0]

    assert len(listing._FILTERS_HTML) == len(queries)
    assert [form(h) for h in first] == [form(h) for h in again] == [form(h) for h in fresh]
    assert 'value="Kari"' in form(first[2]) and 'value="Ola"' not in form(first[2])
    assert "has-error" in form(first[3]) and "has-error" not in form(first[1])


def test_the_search_counts_only_the_creditors_own_matches(creditor, logged_in_client, monkeypatch):
    mine = [CollectionCaseFactory(debtor__creditor=creditor, debtor__name="Ola Nordmann")]
    for _ in range(6):  # another creditor's namesakes do not make the search "many"
        CollectionCaseFactory(debtor__name="Ola Nordmann")
    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 5)

    response = logged_in_client.get("/saker/", {"q": "nordmann"})

    assert "LIKE" not in str(response.context["page"].paginator.object_list.query)
    assert [row["number"] for row in response.context["rows"]] == [c.number for c in mine]


def test_the_sort_headers_are_kept_per_query_string_and_language(creditor, logged_in_client):
    CollectionCaseFactory(debtor__creditor=creditor, debtor__name="Ola Nordmann")
    listing._HEADERS_HTML.clear()
    queries = [{}, {"sort": "-balance"}, {"sort": "debtor", "q": "Ola"}, {"sort": "number"}]

    def headers(html):
        return html[html.index("<thead>") : html.index("</thead>")]

    def pages(language):
        logged_in_client.cookies["django_language"] = language
        return [headers(logged_in_client.get("/saker/", q).content.decode()) for q in queries]

    first, again, english = pages("nb"), pages("nb"), pages("en")
    object.__setattr__(CASE_LIST, "static_filters", False)  # rendered every time
    try:
        fresh, fresh_english = pages("nb"), pages("en")
    finally:
        object.__setattr__(CASE_LIST, "static_filters", True)

    assert len(listing._HEADERS_HTML) == 2 * len(queries)
    assert first == again == fresh
    assert english == fresh_english and english != first
    assert 'aria-sort="descending"' in first[1] and 'aria-sort="descending"' not in first[0]
    assert "q=Ola" in first[2] and "q=Ola" not in first[3]


@pytest.mark.parametrize(
    ("term", "word"),
    [
        ("Skyldner 91928", "91928"),
        ("Ola Hansen AS", "Hansen"),
        ("Hansen", None),
        ("AS AB", None),
    ],
)
def test_a_several_word_search_asks_the_index_for_its_most_telling_word(term, word):
    assert filters.telling_word(term) == word


def test_a_name_search_by_its_telling_word_still_matches_the_whole_term(logged_in_client, creditor):
    from tests.collections_cases.factories import DebtorFactory

    names = ["Ola Hansen AS", "Kari Hansen", "Hansen Ola AS", "Ola  Hansen", "OLA HANSEN ASA"]
    cases = {
        name: open_case(creditor, debtor=DebtorFactory(creditor=creditor, name=name))
        for name in names
    }

    html = logged_in_client.get("/saker/", {"q": "ola hansen as"}).content.decode()

    shown = {name for name, case in cases.items() if case.number in html}
    assert shown == {"Ola Hansen AS", "OLA HANSEN ASA"}


@pytest.mark.parametrize("term", ["%", "_", "\\", "50%", "a_b"])
def test_like_wildcards_in_a_search_are_plain_characters(logged_in_client, creditor, term):
    from tests.collections_cases.factories import DebtorFactory

    plain = open_case(creditor, debtor=DebtorFactory(creditor=creditor, name="Vanlig Navn AS"))
    odd = open_case(creditor, debtor=DebtorFactory(creditor=creditor, name=f"Rabatt {term} AS"))

    html = logged_in_client.get("/saker/", {"q": term}).content.decode()

    assert odd.number in html
    assert plain.number not in html


def test_the_case_filter_form_class_is_made_once_and_still_checks_each_request():
    from django.utils import translation

    first = filters.CaseFilter({"balance_min": "500", "balance_max": "100"})
    second = filters.CaseFilter({"balance_min": "100", "balance_max": "500"})

    assert type(first.form) is type(second.form)
    assert not first.is_valid() and "balance_max" in first.form.errors
    assert second.is_valid()
    with translation.override("en"):
        label = str(filters.CaseFilter().form["only_open"].label)
    with translation.override("nb"):
        assert str(filters.CaseFilter().form["only_open"].label) != label


def _shown_count(client, query: str) -> int:
    response = client.get(f"/saker/?{query}")
    assert response.status_code == 200
    return response.context["page"].paginator.count


def _rows_count(user, creditor, **lookups) -> int:
    return case_page_list(user=user, creditor=creditor).filter(**lookups).count()


def test_counts_with_a_balance_bound_are_the_cases_listed(user, creditor, logged_in_client):
    low = open_case(creditor, amounts=("100.00",))
    for _ in range(4):
        open_case(creditor, amounts=("2000.00",))
    overpaid = open_case(creditor, amounts=("500.00",))
    LedgerEntryFactory(case=overpaid, kind=Kind.PAYMENT, amount=Decimal("-600.00"))  # -100
    CollectionCase.objects.filter(pk=low.pk).update(status=CollectionCase.Status.CLOSED)
    open_statuses = [s for s in CollectionCase.Status.values if s != "closed"]

    cases = {
        # fewer than half outside: counted as the kept count less those outside
        "balance_min=1000": {"balance__gte": 1000},
        "only_open=1&balance_min=1000": {"balance__gte": 1000, "status__in": open_statuses},
        "status=active&balance_min=1000&balance_max=5000": {
            "balance__gte": 1000,
            "balance__lte": 5000,
            "status": "active",
        },
        # an amount of 0 narrows too (the overpaid case's balance is below it)
        "balance_min=0": {"balance__gte": 0},
        "balance_max=0": {"balance__lte": 0},
        # most cases outside: the pager counts those within
        "balance_min=3000": {"balance__gte": 3000},
        "balance_max=1000": {"balance__lte": 1000},
        "status=disputed&balance_min=1": {"status": "disputed", "balance__gte": 1},
    }
    for query, lookups in cases.items():
        assert _shown_count(logged_in_client, query) == _rows_count(user, creditor, **lookups), (
            query
        )
    assert _shown_count(logged_in_client, "balance_min=1000") == 4
    assert _shown_count(logged_in_client, "balance_min=0") == 5
    assert _shown_count(logged_in_client, "balance_max=0") == 1


def test_a_bound_most_cases_meet_counts_only_those_outside_it(user, creditor, logged_in_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        open_case(creditor, amounts=("2000.00",))
    open_case(creditor, amounts=("100.00",))

    with CaptureQueriesContext(connection) as queries:
        count = _shown_count(logged_in_client, "only_open=1&balance_min=1000")

    assert count == 5
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert '"stored_balance" < ' in counts[0]  # the one case outside, not the five within

"""Saker, Klar for inkasso and Skyldnere as lists: filters, search, sorting, page size, CSV and
Excel export of the filtered list, scoping to the active creditor and query bounds."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collections_cases.models import CollectionCase
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case, overdue
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
TODAY = timezone.localdate


def _pks(response):
    # The Saker list's rows are dicts of values (CASE_LIST.page_values), the others models.
    rows = response.context["page"].object_list
    return [row["pk"] if isinstance(row, dict) else row.pk for row in rows]


def _csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def _xlsx(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, *rows = list(workbook.active.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _filename(response):
    return response["Content-Disposition"].split("filename=")[1].strip('"')


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


@pytest.fixture
def three_cases(creditor):
    """A person at the inkassovarsel, a business at the betalingsoppfordring with a bigger
    balance, and a closed case; created on three different days."""
    person = open_case(
        creditor,
        debtor=collectable_debtor(creditor, name="Kari Hansen", is_person=True),
        amounts=("500.00",),
    )
    business = open_case(
        creditor,
        debtor=collectable_debtor(
            creditor, name="Fjordkaffe AS", is_person=False, org_number="912345678"
        ),
        amounts=("9000.00", "1234.50"),
    )
    closed = open_case(creditor, amounts=("100.00",))
    from collections_cases.cases.services import case_withdraw

    case_withdraw(case=closed, actor=None, reason="Feil sendt")
    CollectionCase.objects.filter(pk=business.pk).update(
        stage=CollectionCase.Stage.BETALINGSOPPFORDRING
    )
    now = timezone.now()
    for days, case in ((30, person), (10, business), (1, closed)):
        CollectionCase.objects.filter(pk=case.pk).update(created_at=now - dt.timedelta(days=days))
    return person, business, closed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "betalingsoppfordring"}, ["business"]),
        ({"status": "closed"}, ["closed"]),
        ({"only_open": "on"}, ["person", "business"]),
        ({"debtor_kind": "business"}, ["business"]),
        ({"balance_min": "1 000,00"}, ["business"]),
        ({"balance_max": "500"}, ["person", "closed"]),
        ({"created_from": (TODAY() - dt.timedelta(days=15)).isoformat()}, ["business", "closed"]),
        ({"created_to": (TODAY() - dt.timedelta(days=20)).strftime("%d.%m.%Y")}, ["person"]),
        ({"q": "912 345 678"}, ["business"]),
        ({"q": "fjordkaffe"}, ["business"]),
    ],
)
def test_the_case_list_filters(logged_in_client, three_cases, query, expected):
    cases = dict(zip(("person", "business", "closed"), three_cases, strict=True))

    response = logged_in_client.get(reverse("case_list"), query)

    assert response.status_code == 200
    assert set(_pks(response)) == {cases[name].pk for name in expected}


def test_the_case_list_searches_by_kid(logged_in_client, three_cases):
    _person, business, _closed = three_cases

    response = logged_in_client.get(reverse("case_list"), {"q": business.kid})

    assert _pks(response) == [business.pk]


def test_the_case_list_filters_by_next_step_date(logged_in_client, creditor):
    soon, later = open_case(creditor), open_case(creditor)
    CollectionCase.objects.filter(pk=soon.pk).update(next_action_date=TODAY())
    CollectionCase.objects.filter(pk=later.pk).update(
        next_action_date=TODAY() + dt.timedelta(days=30)
    )

    response = logged_in_client.get(
        reverse("case_list"), {"next_to": (TODAY() + dt.timedelta(days=7)).isoformat()}
    )

    assert _pks(response) == [soon.pk]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-balance", ["business", "person", "closed"]),
        ("balance", ["closed", "person", "business"]),
        ("-created", ["closed", "business", "person"]),
        ("debtor", ["business", "person", "closed"]),
    ],
)
def test_the_case_list_sorts_by_column(logged_in_client, three_cases, sort, expected):
    cases = dict(zip(("person", "business", "closed"), three_cases, strict=True))
    cases["closed"].debtor.name = "Vik Bygg"
    cases["closed"].debtor.save()

    response = logged_in_client.get(reverse("case_list"), {"sort": sort})

    assert _pks(response) == [cases[name].pk for name in expected]


def test_the_sorted_header_says_so_to_screen_readers(logged_in_client, three_cases):
    response = logged_in_client.get(reverse("case_list"), {"sort": "-balance", "status": "active"})

    body = response.content.decode()
    assert 'aria-sort="descending"' in body
    assert body.count("aria-sort=") == 1
    assert 'href="?status=active&amp;sort=balance"' in body


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "debtor__creditor__name"},
        {"side": "9999"},
        {"side": "x"},
        {"per_side": "100000"},
        {"balance_min": "mange penger"},
        {"created_from": "31.02.2026"},
        {"status": "bogus"},
        {"q": "x" * 500},
        {"eksport": "pdf"},
    ],
)
def test_bad_list_parameters_never_fail_the_page(logged_in_client, three_cases, query):
    response = logged_in_client.get(reverse("case_list"), query)

    assert response.status_code == 200


def test_a_wrong_amount_filter_says_what_to_write(logged_in_client, three_cases):
    response = logged_in_client.get(reverse("case_list"), {"balance_min": "mange"})

    body = response.content.decode()
    assert "Filtrene som er merket ble ikke brukt. Rett dem og trykk Vis." in body
    assert "Skriv beløpet med siffer" in body
    assert len(_pks(response)) == 3


def test_a_filter_without_hits_offers_a_reset(logged_in_client, three_cases):
    response = logged_in_client.get(reverse("case_list"), {"q": "finnes ikke"})

    body = response.content.decode()
    assert "Ingen saker passer til søket eller filtrene." in body
    assert f'<a href="{reverse("case_list")}">nullstill filtrene</a>' in body


def test_the_page_size_is_selectable_and_links_keep_the_filters(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)
    for _ in range(30):
        open_case(creditor, debtor=debtor)

    response = logged_in_client.get(
        reverse("case_list"), {"per_side": "25", "status": "active", "sort": "-created"}
    )

    assert len(_pks(response)) == 25
    assert "?per_side=25&amp;status=active&amp;sort=-created&amp;side=2" in (
        response.content.decode()
    )


def test_the_case_csv_holds_every_filtered_case_in_the_pages_order(logged_in_client, three_cases):
    person, business, closed = three_cases
    foreign = open_case(MembershipFactory().creditor)

    response = logged_in_client.get(
        reverse("case_list"), {"sort": "-balance", "only_open": "on", "eksport": "csv"}
    )

    assert _filename(response) == f"saker-{TODAY():%Y-%m-%d}.csv"
    rows = _csv(response)
    assert [row["Saksnummer"] for row in rows] == [business.number, person.number]
    assert foreign.number not in {row["Saksnummer"] for row in rows}
    first = rows[0]
    assert first["KID"] == business.kid
    assert first["Skyldner"] == "Fjordkaffe AS"
    assert first["Organisasjonsnummer"] == "912345678"
    assert first["Skyldnertype"] == "Næringsdrivende"
    assert first["Status"] == "Pågående"
    assert first["Steg"] == "Betalingsoppfordring"
    assert first["Hovedstol"] == "10234,50"
    assert first["Innbetalt"] == "0,00"
    assert first["Saldo"] == "10234,50"
    assert first["Opprettet"] == (TODAY() - dt.timedelta(days=10)).strftime("%d.%m.%Y")


def test_the_case_xlsx_has_amounts_as_numbers_and_dates_as_dates(logged_in_client, three_cases):
    _person, business, closed = three_cases

    response = logged_in_client.get(reverse("case_list"), {"sort": "-balance", "eksport": "xlsx"})

    assert _filename(response) == f"saker-{TODAY():%Y-%m-%d}.xlsx"
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx(response)
    assert [row["Saksnummer"] for row in rows][0] == business.number
    assert rows[0]["Saldo"] == 10234.5
    assert rows[0]["Opprettet"] == dt.datetime.combine(TODAY() - dt.timedelta(days=10), dt.time())
    closed_row = next(row for row in rows if row["Saksnummer"] == closed.number)
    assert closed_row["Avslutningsårsak"] == "Trukket tilbake"
    assert closed_row["Avsluttet"] == dt.datetime.combine(TODAY(), dt.time())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_is_scoped_to_the_active_creditor(logged_in_client, user, creditor, fmt):
    mine = open_case(creditor)
    second_of_mine = open_case(MembershipFactory(user=user).creditor)
    foreign = open_case(MembershipFactory().creditor)

    response = logged_in_client.get(reverse("case_list"), {"eksport": fmt})

    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    assert [row["Saksnummer"] for row in rows] == [mine.number]
    assert second_of_mine.number not in str(rows) and foreign.number not in str(rows)


def test_an_export_needs_a_login(client):
    response = client.get(reverse("case_list"), {"eksport": "csv"})

    assert response.status_code == 302
    assert "logg-inn" in response["Location"]


@pytest.mark.parametrize("count", [5, 60])
@pytest.mark.parametrize("fmt", [None, "csv", "xlsx"])
def test_the_case_list_and_its_exports_run_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count, fmt
):
    for _ in range(count):
        open_case(creditor)
    query = {"q": "Ola", "sort": "-balance", "only_open": "on", "per_side": "100"}
    if fmt:
        query["eksport"] = fmt

    # A page: session, user, creditor, the menu's creditors, count, rows. An export: the
    # rows in one query, read in chunks. A search first reads its matches' ids, once.
    with django_assert_max_num_queries(5 if fmt else 9):
        response = logged_in_client.get(reverse("case_list"), query)
        if fmt:
            body = b"".join(response.streaming_content)

    if fmt == "csv":
        assert body.decode("utf-8").count("\r\n") == count + 1
    elif fmt is None:
        assert len(response.context["page"].object_list) == count


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------


@pytest.fixture
def ready_invoices(creditor):
    person = collectable_debtor(creditor, name="Kari Hansen", is_person=True)
    business = collectable_debtor(
        creditor, name="Bakeri Berg AS", is_person=False, org_number="998877665", address_line=""
    )
    old = InvoiceFactory(debtor=person, due_date=overdue(60), total_amount=Decimal("300.00"))
    recent = InvoiceFactory(
        debtor=business,
        due_date=overdue(5),
        total_amount=Decimal("12500.00"),
        balance=Decimal("12000.00"),
        cid="0012345678",
    )
    return old, recent


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"debtor_kind": "person"}, ["old"]),
        ({"missing_address": "on"}, ["recent"]),
        ({"due_from": overdue(10).isoformat()}, ["recent"]),
        ({"due_to": overdue(10).strftime("%d.%m.%Y")}, ["old"]),
        ({"amount_min": "1000"}, ["recent"]),
        ({"amount_max": "1 000,00"}, ["old"]),
        ({"q": "bakeri"}, ["recent"]),
        ({"q": "998877665"}, ["recent"]),
        ({"q": "0012345678"}, ["recent"]),
    ],
)
def test_ready_for_collection_filters(logged_in_client, ready_invoices, query, expected):
    invoices = dict(zip(("old", "recent"), ready_invoices, strict=True))

    response = logged_in_client.get(reverse("ready_for_collection"), query)

    assert _pks(response) == [invoices[name].pk for name in expected]


def test_ready_for_collection_searches_by_invoice_number(logged_in_client, ready_invoices):
    old, _recent = ready_invoices

    response = logged_in_client.get(reverse("ready_for_collection"), {"q": str(old.invoice_no)})

    assert _pks(response) == [old.pk]


def test_ready_for_collection_sorts_by_amount_and_due_date(logged_in_client, ready_invoices):
    old, recent = ready_invoices

    by_amount = logged_in_client.get(reverse("ready_for_collection"), {"sort": "-balance"})
    by_due = logged_in_client.get(reverse("ready_for_collection"), {"sort": "-due"})

    assert _pks(by_amount) == [recent.pk, old.pk]
    assert _pks(by_due) == [recent.pk, old.pk]


def test_ready_for_collection_exports_csv_and_xlsx(logged_in_client, ready_invoices):
    old, recent = ready_invoices
    InvoiceFactory(debtor=collectable_debtor(MembershipFactory().creditor), due_date=overdue(9))

    as_csv = logged_in_client.get(
        reverse("ready_for_collection"), {"sort": "due", "eksport": "csv"}
    )
    as_xlsx = logged_in_client.get(
        reverse("ready_for_collection"), {"sort": "due", "eksport": "xlsx"}
    )

    assert _filename(as_csv) == f"klar-for-inkasso-{TODAY():%Y-%m-%d}.csv"
    rows = _csv(as_csv)
    assert [row["Fakturanummer"] for row in rows] == [str(old.invoice_no), str(recent.invoice_no)]
    assert rows[1]["Udekket"] == "12000,00"
    assert rows[1]["Fakturabeløp"] == "12500,00"
    assert rows[1]["KID"] == "0012345678"
    assert rows[0]["Dager over forfall"] == "60"
    assert rows[0]["Forfall"] == overdue(60).strftime("%d.%m.%Y")
    sheet = _xlsx(as_xlsx)
    assert [row["Fakturanummer"] for row in sheet] == [old.invoice_no, recent.invoice_no]
    assert sheet[1]["Udekket"] == 12000
    assert sheet[0]["Forfall"] == dt.datetime.combine(overdue(60), dt.time())


def test_starting_from_a_filtered_page_returns_to_it(logged_in_client, ready_invoices):
    old, recent = ready_invoices
    url = reverse("ready_for_collection") + "?debtor_kind=person"

    response = logged_in_client.post(url, {"invoices": [old.pk]})

    assert response["Location"] == url
    assert CollectionCase.objects.filter(debtor=old.debtor).exists()


@pytest.mark.parametrize("count", [5, 60])
@pytest.mark.parametrize("fmt", [None, "csv", "xlsx"])
def test_ready_for_collection_and_its_exports_run_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count, fmt
):
    for n in range(count):
        InvoiceFactory(debtor=collectable_debtor(creditor, is_person=n % 2 == 0))
    query = {"sort": "-balance", "debtor_kind": "person", "q": "Ola"}
    if fmt:
        query["eksport"] = fmt

    # A page: session, user, creditor, the menu's creditors, count, rows. An export: the
    # rows in one query, read in chunks.
    with django_assert_max_num_queries(4 if fmt else 9):
        response = logged_in_client.get(reverse("ready_for_collection"), query)
        if fmt:
            body = b"".join(response.streaming_content)

    expected = (count + 1) // 2
    if fmt == "csv":
        assert body.decode("utf-8").count("\r\n") == expected + 1
    elif fmt is None:
        assert len(response.context["page"].object_list) == expected


# --------------------------------------------------------------------------------------------
# Skyldnere
# --------------------------------------------------------------------------------------------


@pytest.fixture
def debtor_rows(creditor):
    busy = collectable_debtor(
        creditor, name="Aas Regnskap", is_person=False, org_number="911222333"
    )
    open_case(creditor, debtor=busy, amounts=("1000.00", "500.00"))
    quiet = DebtorFactory(creditor=creditor, name="Berg Bakeri", collection_opt_out=True)
    return busy, quiet


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"with_open_cases": "on"}, ["busy"]),
        ({"missing_address": "on"}, ["quiet"]),
        ({"opted_out": "on"}, ["quiet"]),
        ({"debtor_kind": "person"}, ["quiet"]),
        ({"outstanding_min": "1500"}, ["busy"]),
        ({"outstanding_max": "0"}, ["quiet"]),
        ({"q": "911 222 333"}, ["busy"]),
    ],
)
def test_the_debtor_list_filters(logged_in_client, debtor_rows, query, expected):
    debtors = dict(zip(("busy", "quiet"), debtor_rows, strict=True))

    response = logged_in_client.get(reverse("debtor_list"), query)

    assert _pks(response) == [debtors[name].pk for name in expected]


def test_the_debtor_list_sorts_by_outstanding(logged_in_client, debtor_rows):
    busy, quiet = debtor_rows

    response = logged_in_client.get(reverse("debtor_list"), {"sort": "outstanding"})

    assert _pks(response) == [quiet.pk, busy.pk]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_debtor_export(logged_in_client, debtor_rows, fmt):
    DebtorFactory(creditor=MembershipFactory().creditor, name="Fremmed AS")

    response = logged_in_client.get(
        reverse("debtor_list"), {"sort": "-outstanding", "eksport": fmt}
    )

    assert _filename(response) == f"skyldnere-{TODAY():%Y-%m-%d}.{fmt}"
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    assert [row["Navn"] for row in rows] == ["Aas Regnskap", "Berg Bakeri"]
    busy, quiet = rows
    if fmt == "csv":
        assert (busy["Åpne saker"], busy["Utestående i inkasso"]) == ("1", "1500,00")
        assert quiet["Unntatt fra inkasso"] == "Ja"
    else:
        assert (busy["Åpne saker"], busy["Utestående i inkasso"]) == (1, 1500)
        assert quiet["Unntatt fra inkasso"] == "Ja"


@pytest.mark.parametrize("count", [5, 60])
@pytest.mark.parametrize("fmt", [None, "csv", "xlsx"])
def test_the_debtor_list_and_its_exports_run_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count, fmt
):
    for _ in range(count):
        open_case(creditor)
    query = {"sort": "-outstanding", "with_open_cases": "on", "per_side": "100"}
    if fmt:
        query["eksport"] = fmt

    # A page: session, user, creditor, the menu's creditors, count, rows. An export: the
    # rows in one query, read in chunks.
    with django_assert_max_num_queries(4 if fmt else 9):
        response = logged_in_client.get(reverse("debtor_list"), query)
        if fmt:
            body = b"".join(response.streaming_content)

    if fmt == "csv":
        assert body.decode("utf-8").count("\r\n") == count + 1
    elif fmt is None:
        assert len(response.context["page"].object_list) == count


# --------------------------------------------------------------------------------------------
# Search indexes (PostgreSQL)
# --------------------------------------------------------------------------------------------


def test_postgresql_has_the_list_search_indexes():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The trigram search indexes exist on PostgreSQL only.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN "
            "('debtor_name_trgm_idx', 'case_number_trgm_idx', 'invoice_no_idx')"
        )
        found = {row[0] for row in cursor.fetchall()}

    assert found == {"debtor_name_trgm_idx", "case_number_trgm_idx", "invoice_no_idx"}

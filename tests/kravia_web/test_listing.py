"""kravia_web.listing: the sort whitelist, bad query strings, pagination edges, filters and the
CSV / xlsx writers, on a small list of debtors."""

import csv
import datetime as dt
import io
from decimal import Decimal

import django_filters
import pytest
from django.db.models import Q
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from creditors.models import Debtor
from kravia_web.listing import (
    Column,
    ExportColumn,
    ListFilterSet,
    ListSpec,
    attr,
    csv_cell,
    csv_lines,
    list_from_request,
    xlsx_file,
)
from tests.collections_cases.factories import DebtorFactory
from tests.factories import CreditorFactory


class NameFilter(ListFilterSet):
    ranges = (("number_from", "number_to"),)

    q = django_filters.CharFilter(method="search")
    number_from = django_filters.NumberFilter(field_name="customer_number", lookup_expr="gte")
    number_to = django_filters.NumberFilter(field_name="customer_number", lookup_expr="lte")

    class Meta:
        model = Debtor
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value))


SPEC = ListSpec(
    name="test",
    columns=(
        Column("name", "Navn", sort=("name",)),
        Column("email", "E-post"),
        Column("number", "Kundenummer", sort=("customer_number",), descending_first=True),
    ),
    default_sort="name",
    filterset_class=NameFilter,
    export_columns=(
        ExportColumn("Navn", attr("name")),
        ExportColumn("Kundenummer", attr("customer_number"), "int"),
    ),
    page_sizes=(2, 5),
    default_page_size=2,
)


def _listing(query=None):
    request = RequestFactory().get("/liste/", query or {})
    return list_from_request(request, spec=SPEC, queryset=Debtor.objects.all())


@pytest.fixture
def debtors(db):
    creditor = CreditorFactory()
    return [
        DebtorFactory(creditor=creditor, name=name, customer_number=number)
        for name, number in [("Berg", 3), ("Aas", 1), ("Dahl", 2), ("Aas", 5), ("Eik", 4)]
    ]


# --------------------------------------------------------------------------------------------
# Sorting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("name", ("name", False)), ("-name", ("name", True)), ("-number", ("number", True))],
)
def test_a_declared_column_key_sorts(value, expected):
    column, descending = SPEC.parse_sort(value)

    assert (column.key, descending) == expected


@pytest.mark.parametrize(
    "value", ["", "-", "email", "customer_number", "password", "debtor__creditor__name", "x" * 60]
)
def test_anything_but_a_sortable_column_key_is_refused(value):
    assert SPEC.parse_sort(value) is None


def test_a_refused_sort_falls_back_to_the_default_and_never_reaches_order_by(debtors):
    listing = _listing({"sort": "creditor__password"})

    assert listing.sort == "name"
    assert "password" not in str(listing.queryset.query)


def test_equal_sort_values_are_ordered_by_pk_in_the_same_direction(debtors):
    aas_first, aas_second = sorted((d for d in debtors if d.name == "Aas"), key=lambda d: d.pk)

    ascending = [d.pk for d in _listing({"sort": "name", "per_side": 5}).page.object_list]
    descending = [d.pk for d in _listing({"sort": "-name", "per_side": 5}).page.object_list]

    assert ascending[:2] == [aas_first.pk, aas_second.pk]
    assert descending[-2:] == [aas_second.pk, aas_first.pk]


def test_a_spec_refuses_a_default_sort_that_is_not_a_sortable_column():
    with pytest.raises(ValueError, match="default_sort"):
        ListSpec(name="x", columns=(Column("a", "A"),), default_sort="a")


def test_headers_mark_the_sorted_column_and_link_to_the_other_direction(debtors):
    listing = _listing({"sort": "-number", "q": "a", "side": "2"})

    name, email, number = listing.headers

    assert number.aria_sort == "descending"
    assert number.url == "?q=a&sort=number"
    assert name.aria_sort is None
    assert name.url == "?q=a&sort=name"
    assert email.url is None and email.aria_sort is None


def test_an_unsorted_column_starts_in_its_preferred_direction(debtors):
    _name, _email, number = _listing().headers

    assert number.url == "?sort=-number"


# --------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "number"), [("abc", 1), ("", 1), ("2", 2), ("3", 3), ("4", 3), ("-1", 3), ("0", 3)]
)
def test_a_bad_page_number_gives_the_first_or_last_page(debtors, side, number):
    assert _listing({"side": side}).page.number == number


@pytest.mark.parametrize(("value", "size"), [("5", 5), ("2", 2), ("100", 2), ("x", 2), ("", 2)])
def test_only_offered_page_sizes_are_used(debtors, value, size):
    listing = _listing({"per_side": value})

    assert listing.page_size == size
    assert len(listing.page.object_list) == size


def test_page_links_keep_the_filters_and_sort_but_not_the_page_or_export(debtors):
    listing = _listing({"q": "a", "sort": "-name", "side": "2", "eksport": "csv"})

    assert listing.query == "q=a&sort=-name"
    assert listing.page_url(3) == "?q=a&sort=-name&side=3"
    assert listing.export_urls["xlsx"] == "?q=a&sort=-name&eksport=xlsx"
    assert listing.kept_by_filters == [("sort", "-name")]


def test_empty_fields_from_the_filter_form_are_left_out_of_links(debtors):
    listing = _listing({"q": "", "number_from": "  ", "number_to": "4", "sort": "-name"})

    assert listing.query == "number_to=4&sort=-name"
    assert listing.filtered


def test_an_unknown_export_format_shows_the_page():
    request = RequestFactory().get("/liste/", {"eksport": "pdf"})

    listing = list_from_request(request, spec=SPEC, queryset=Debtor.objects.none())

    assert listing.export_format is None


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


def test_a_search_filters_and_counts_as_filtered(debtors):
    listing = _listing({"q": "aas", "per_side": 5})

    assert {d.name for d in listing.page.object_list} == {"Aas"}
    assert listing.filtered
    assert not _listing().filtered
    assert not _listing({"sort": "-name"}).filtered


def test_a_backwards_range_is_a_field_error_and_its_upper_bound_is_not_applied(debtors):
    listing = _listing({"number_from": "3", "number_to": "1", "per_side": 5})

    assert listing.form.errors["number_to"] == ["Til-verdien kan ikke være mindre enn fra-verdien."]
    assert sorted(d.customer_number for d in listing.page.object_list) == [3, 4, 5]


def test_an_invalid_filter_value_is_ignored_with_an_error(debtors):
    listing = _listing({"number_from": "mange"})

    assert "number_from" in listing.form.errors
    assert listing.page.paginator.count == 5


# --------------------------------------------------------------------------------------------
# Export cells and files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (Decimal("1234.5"), "money", "1234,50"),
        (Decimal("-0.01"), "money", "-0,01"),
        (Decimal("1000000.00"), "money", "1000000,00"),
        (dt.date(2026, 1, 31), "date", "31.01.2026"),
        (dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC), "datetime", "01.07.2026 00:30"),
        (12, "int", "12"),
        (True, "bool", "Ja"),
        (False, "bool", "Nei"),
        (None, "money", ""),
        ("Fjordkaffe AS", "text", "Fjordkaffe AS"),
        ('=HYPERLINK("x")', "text", '\'=HYPERLINK("x")'),
        ("-1+1", "text", "'-1+1"),
        ("@SUM(A1)", "text", "'@SUM(A1)"),
    ],
)
def test_csv_cells_are_written_the_way_norwegian_excel_reads_them(value, kind, text):
    assert csv_cell(value, kind) == text


COLUMNS = (
    ExportColumn("Navn", lambda row: row["name"]),
    ExportColumn("Beløp", lambda row: row["amount"], "money"),
    ExportColumn("Forfall", lambda row: row["due"], "date"),
    ExportColumn("Registrert", lambda row: row["at"], "datetime"),
)
ROWS = [
    {
        "name": "Ærlig Øl; og Å",
        "amount": Decimal("1234.50"),
        "due": dt.date(2026, 11, 1),
        "at": dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC),
    },
    {"name": "=2+2", "amount": Decimal("-10.00"), "due": None, "at": None},
]


def test_csv_has_a_bom_semicolons_and_quotes_what_needs_quoting():
    text = "".join(csv_lines(iter(ROWS), COLUMNS))

    assert text.startswith("\ufeffNavn;Beløp;Forfall;Registrert\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [
        ["Navn", "Beløp", "Forfall", "Registrert"],
        ["Ærlig Øl; og Å", "1234,50", "01.11.2026", "28.11.2026 09:00"],
        ["'=2+2", "-10,00", "", ""],
    ]


def test_csv_is_produced_line_by_line_from_an_iterator():
    consumed = []

    def rows():
        for row in ROWS:
            consumed.append(row)
            yield row

    lines = csv_lines(rows(), COLUMNS)
    next(lines)

    assert consumed == []
    next(lines)
    assert len(consumed) == 1


def test_xlsx_holds_numbers_as_numbers_dates_as_dates_and_text_never_as_a_formula():
    handle = xlsx_file(iter(ROWS), COLUMNS, sheet_title="Saker")

    sheet = load_workbook(handle).active

    assert sheet.title == "Saker"
    header, first, second = list(sheet.iter_rows(values_only=True))
    assert header == ("Navn", "Beløp", "Forfall", "Registrert")
    assert first == (
        "Ærlig Øl; og Å",
        1234.5,
        dt.datetime(2026, 11, 1),
        dt.datetime(2026, 11, 28, 9),
    )
    assert second == ("=2+2", -10, None, None)
    assert sheet["B2"].number_format == "#,##0.00"
    assert sheet["C2"].number_format == "DD.MM.YYYY"
    assert sheet["A3"].data_type == "s"


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sort=st.text(max_size=60),
    side=st.text(max_size=12),
    per_side=st.text(max_size=6),
    number_from=st.text(max_size=12),
    export=st.text(max_size=6),
)
def test_no_query_string_breaks_the_list(sort, side, per_side, number_from, export):
    listing = _listing(
        {
            "sort": sort,
            "side": side,
            "per_side": per_side,
            "number_from": number_from,
            "eksport": export,
        }
    )

    assert listing.page.number >= 1
    assert len(listing.headers) == 3
    assert listing.export_format in (None, "csv", "xlsx")

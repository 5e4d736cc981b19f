"""Lists that scale: declared sort columns, a django-filter filter set, server-side pagination
and CSV / Excel export of the filtered, sorted list.

A list is declared once as a :class:`ListSpec`; a view hands it the request and the scoped
queryset from a selector and gets a :class:`Listing` back::

    listing = list_from_request(request, spec=CASE_LIST, queryset=case_page_list(...))
    if listing.export_format:
        return listing.export_response()
    return render(request, "...", {"listing": listing})

Query string: the filter set's own fields, ``sort`` (a column key, ``-`` in front for
descending), ``side`` (page number), ``per_side`` (25, 50 or 100) and ``eksport`` (``csv`` or
``xlsx``). Anything unknown or malformed falls back to the default (a bad page number to the
first or last page); user input never reaches ``order_by`` unchecked.

Exports hold every row of the filtered list, read with ``.iterator()`` in chunks (one query
whatever the size, rows never all in memory): CSV for Norwegian Excel (UTF-8 with BOM, ``;``
between fields, ``1234,50``, ``31.12.2026``), xlsx written by openpyxl in write-only mode
(amounts as numbers, dates as dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import attrgetter
from typing import Any, Literal

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kravia_web.money import to_ore

SORT_PARAM = "sort"
PAGE_PARAM = "side"
PAGE_SIZE_PARAM = "per_side"
EXPORT_PARAM = "eksport"
EXPORT_FORMATS = ("csv", "xlsx")
PAGE_SIZES = (25, 50, 100)
#: Filter forms kept per process by ``Listing.filters_html`` (then it starts again).
FILTERS_HTML_MAX = 1000
_FILTERS_HTML: dict[tuple, SafeString] = {}
_HEADERS_HTML: dict[tuple, SafeString] = {}
#: Form classes of the filter sets with ``static_form`` (``ListFilterSet.get_form_class``).
_FORM_CLASSES: dict[type, type] = {}
#: Rows fetched per round trip while exporting (one query, read in chunks).
EXPORT_CHUNK_SIZE = 2000
#: Cells starting with these are formulas to a spreadsheet (CSV injection); they get a quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Kind = Literal["text", "int", "money", "date", "datetime", "bool"]


# --------------------------------------------------------------------------------------------
# Declaration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the page's table. ``sort`` names the fields (or annotations) it sorts by,
    ascending; without it the column cannot be sorted. ``descending_first``: the first click
    sorts it descending (amounts, newest first). ``nullable=False`` (every sort field is NOT
    NULL) sorts without ``NULLS LAST``, so PostgreSQL can read an index either way instead
    of sorting every row."""

    key: str
    label: Any
    sort: tuple[str, ...] = ()
    descending_first: bool = False
    css: str = ""
    nullable: bool = True

    @property
    def sortable(self) -> bool:
        return bool(self.sort)


@dataclass(frozen=True)
class ExportColumn:
    """A column of the export: a header and how to read the value from a row."""

    header: Any
    value: Callable[[Any], Any]
    kind: Kind = "text"


def attr(path: str) -> Callable[[Any], Any]:
    """``attr("debtor.name")`` reads ``row.debtor.name`` (``None`` on the way stays ``None``)."""
    getter = attrgetter(path)

    def read(row):
        try:
            return getter(row)
        except AttributeError:
            return None

    return read


def display(name: str) -> Callable[[Any], Any]:
    """The label of a choice field: ``display("status")`` calls ``row.get_status_display()``."""
    return lambda row: getattr(row, f"get_{name}_display")()


class ListFilterSet(django_filters.FilterSet):
    """A filter set whose ``ranges`` (pairs of from/to field names) must not run backwards;
    a backwards pair is a field error on its *to* field, and that bound is not applied."""

    ranges: tuple[tuple[str, str], ...] = ()
    #: Fields shown at once; the others fold under "Flere filtre" unless one of them is set.
    primary: tuple[str, ...] = ("q",)
    #: The form's fields depend on nothing but the class (no choices or querysets read per
    #: request): its form class is made once per process, not per request (two classes
    #: built each time were ≈ 0.4 ms of a Saker page's CPU, docs/performance.md).
    static_form: bool = False

    def get_form_class(self):
        if not self.static_form:
            return self._range_checked_form_class()
        cls = _FORM_CLASSES.get(type(self))
        if cls is None:
            cls = _FORM_CLASSES[type(self)] = self._range_checked_form_class()
        return cls

    def _range_checked_form_class(self):
        base = super().get_form_class()
        ranges = self.ranges

        class RangeCheckedForm(base):
            def clean(self):
                data = super().clean()
                for low_name, high_name in ranges:
                    low, high = data.get(low_name), data.get(high_name)
                    if low is not None and high is not None and low > high:
                        self.add_error(
                            high_name, gettext("Til-verdien kan ikke være mindre enn fra-verdien.")
                        )
                return data

        return RangeCheckedForm


@dataclass(frozen=True)
class ListSpec:
    """One list: its columns, default sort, filters, exports and page sizes."""

    name: str  # export file name prefix, e.g. "saker"
    columns: tuple[Column, ...]
    default_sort: str
    filterset_class: type[django_filters.FilterSet] | None = None
    export_columns: tuple[ExportColumn, ...] = ()
    sheet_title: Any = ""
    page_sizes: tuple[int, ...] = PAGE_SIZES
    default_page_size: int = 50
    #: The filter form's HTML depends on nothing but the query string and the language (no
    #: choices or initial values read from the database): rendered once per process and
    #: query string (``Listing.filters_html``).
    static_filters: bool = False
    #: Pages after the first read their rows' ids first (the sort and offset on the table's
    #: own index), then those rows with their joins: with ``OFFSET n`` the database would
    #: otherwise join every one of the n skipped rows (side 150 of 100 000 cases: 60 ms).
    deep_pages_by_id: bool = False
    #: The values the page's table shows: the page's rows are dicts of them
    #: (``QuerySet.values``, "pk" first; the export reads model instances of every field).
    #: 50 Saker rows as model instances with their debtors took 2.8 ms of CPU, as dicts
    #: 1.0 ms (docs/performance.md).
    page_values: tuple[str, ...] = ()

    def __post_init__(self):
        if self.parse_sort(self.default_sort) is None:
            raise ValueError(f"default_sort {self.default_sort!r} is not a sortable column")
        if self.default_page_size not in self.page_sizes:
            raise ValueError("default_page_size must be one of page_sizes")

    @cached_property
    def sortable(self) -> dict[str, Column]:
        return {column.key: column for column in self.columns if column.sortable}

    def parse_sort(self, value: str | None) -> tuple[Column, bool] | None:
        """``"balance"`` → (column, ascending), ``"-balance"`` → (column, descending); ``None``
        for anything that is not a sortable column's key."""
        if not value or len(value) > 50:
            return None
        descending = value.startswith("-")
        column = self.sortable.get(value.removeprefix("-"))
        return None if column is None else (column, descending)

    def order(self, queryset: QuerySet, sort: str | None) -> tuple[QuerySet, str]:
        """The queryset sorted by ``sort`` (or the default), pk last so equal rows keep one
        order from page to page; returns the sort actually used."""
        parsed = self.parse_sort(sort)
        if parsed is None:
            sort = self.default_sort
            parsed = self.parse_sort(sort)
        column, descending = parsed
        nulls_last = True if column.nullable else None
        ordering = [
            F(name).desc(nulls_last=nulls_last)
            if descending
            else F(name).asc(nulls_last=nulls_last)
            for name in column.sort
        ]
        ordering.append(F("pk").desc() if descending else F("pk").asc())
        return queryset.order_by(*ordering), sort

    def parse_page_size(self, value: str | None) -> int:
        try:
            size = int(value or "")
        except ValueError:
            return self.default_page_size
        return size if size in self.page_sizes else self.default_page_size


# --------------------------------------------------------------------------------------------
# One request's list
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    label: Any
    css: str
    url: str | None  # link that sorts by this column (None: not sortable)
    aria_sort: str | None  # "ascending" / "descending" on the sorted column
    next_direction: str  # what a click does, for the screen-reader hint


class KnownCountPaginator(Paginator):
    """A paginator told its number of rows instead of counting them."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


@dataclass
class Listing:
    spec: ListSpec
    params: QueryDict
    filterset: django_filters.FilterSet | None
    queryset: QuerySet  # filtered and sorted, not paged
    sort: str
    page_size: int
    export_format: str | None = None
    #: The number of rows of ``queryset`` when the caller knows it without counting them
    #: (e.g. from counts a trigger keeps): the pager then sends no ``COUNT``.
    known_count: int | None = None
    _page: Page | None = field(default=None, repr=False)

    # -- filters ---------------------------------------------------------------------------

    @property
    def form(self) -> forms.Form | None:
        return self.filterset.form if self.filterset is not None else None

    @cached_property
    def filtered(self) -> bool:
        """Whether any filter narrows the list (to tell "no results" from "nothing yet")."""
        if self.filterset is None or not self.filterset.is_bound:
            return False
        self.filterset.is_valid()  # validates; cleaned_data keeps the fields that are valid
        data = self.filterset.form.cleaned_data
        return any(value not in (None, "", [], (), False) for value in data.values())

    @property
    def has_errors(self) -> bool:
        return self.filterset is not None and self.filterset.is_bound and bool(self.form.errors)

    def _split_fields(self):
        primary = getattr(self.filterset, "primary", ())
        fields = list(self.form) if self.form is not None else []
        return (
            [f for f in fields if f.name in primary],
            [f for f in fields if f.name not in primary],
        )

    @property
    def primary_fields(self) -> list[forms.BoundField]:
        return self._split_fields()[0]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        return self._split_fields()[1]

    @property
    def more_active(self) -> bool:
        """Whether a folded filter is set (or wrong), so its panel opens."""
        return any(
            f.errors or f.value() not in (None, "", False, [], "False", "false")
            for f in self.more_fields
        )

    def filters_html(self, *, reset_url: str) -> SafeString:
        """``lists/_filters.html`` for this request. With ``spec.static_filters`` the HTML is
        a pure function of the list, the language, the reset link and the query string, so
        it is kept per process (up to ``FILTERS_HTML_MAX``): the 11 fields' widgets were a
        tenth of a Saker page's CPU (docs/performance.md). No amounts, no rows."""
        key = (self.spec.name, get_language(), reset_url, self.params.urlencode())
        html = _FILTERS_HTML.get(key) if self.spec.static_filters else None
        if html is None:
            html = render_to_string(
                "lists/_filters.html", {"listing": self, "reset_url": reset_url}
            )
            if self.spec.static_filters:
                if len(_FILTERS_HTML) >= FILTERS_HTML_MAX:
                    _FILTERS_HTML.clear()
                _FILTERS_HTML[key] = html
        return html  # the template engine's output, a SafeString (escaped there)

    def headers_html(self) -> SafeString:
        """``lists/_sort_headers.html`` for this request: a pure function of the columns, the
        language and the query string (the sort and the links keep every other parameter),
        so with ``spec.static_filters`` it is kept per process like ``filters_html``."""
        key = (self.spec.name, get_language(), self.params.urlencode())
        html = _HEADERS_HTML.get(key) if self.spec.static_filters else None
        if html is None:
            html = render_to_string("lists/_sort_headers.html", {"listing": self})
            if self.spec.static_filters:
                if len(_HEADERS_HTML) >= FILTERS_HTML_MAX:
                    _HEADERS_HTML.clear()
                _HEADERS_HTML[key] = html
        return html  # the template engine's output, a SafeString (escaped there)

    def _params_except(self, *names: str) -> list[tuple[str, str]]:
        return [
            (key, value)
            for key, values in self.params.lists()
            if key not in names
            for value in values
        ]

    @property
    def kept_by_filters(self) -> list[tuple[str, str]]:
        """Hidden inputs of the filter form: the sort and page size (a new filter starts
        again at page one)."""
        return [
            (key, value)
            for key, value in self._params_except(PAGE_PARAM, EXPORT_PARAM)
            if key in (SORT_PARAM, PAGE_SIZE_PARAM)
        ]

    @property
    def kept_by_page_size(self) -> list[tuple[str, str]]:
        """Hidden inputs of the page size form: every filter and the sort."""
        return self._params_except(PAGE_PARAM, EXPORT_PARAM, PAGE_SIZE_PARAM)

    # -- page ------------------------------------------------------------------------------

    @property
    def page(self) -> Page:
        """The requested page; a page number that is not a number gives the first page, one
        past the end the last (Django's ``get_page``)."""
        if self._page is None:
            queryset = self.queryset
            if self.spec.page_values:
                queryset = queryset.values(*self.spec.page_values)
            if self.known_count is not None:
                paginator = KnownCountPaginator(queryset, self.page_size, count=self.known_count)
            elif self.spec.page_values:
                # Counted without the page's values: those join the debtor for every row.
                count = self.queryset.count()
                paginator = KnownCountPaginator(queryset, self.page_size, count=count)
            else:
                paginator = Paginator(queryset, self.page_size)
            page = paginator.get_page(self.params.get(PAGE_PARAM))
            if self.spec.deep_pages_by_id and page.number > 1:
                page.object_list = self._rows_by_id(page)
            self._page = page
        return self._page

    def _rows_by_id(self, page: Page) -> list:
        queryset = page.paginator.object_list
        bottom = (page.number - 1) * self.page_size
        # The ids from the list without the page's values: those join the debtor, which the
        # ids' walk of the sort's index must not do for every skipped row.
        ids = list(self.queryset.values_list("pk", flat=True)[bottom : bottom + self.page_size])
        if self.spec.page_values:
            rows = {row["pk"]: row for row in queryset.order_by().filter(pk__in=ids)}
        else:
            rows = queryset.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def _url(self, **changes) -> str:
        params = self.params.copy()
        for key in (PAGE_PARAM, EXPORT_PARAM, *changes):
            params.pop(key, None)
        for key, value in changes.items():
            if value is not None:
                params[key] = value
        encoded = params.urlencode()
        return f"?{encoded}" if encoded else "?"

    @property
    def query(self) -> str:
        """The query string without page and export, for the pager's links."""
        return self._url().removeprefix("?")

    def page_url(self, number: int) -> str:
        params = self.query
        return f"?{params}&{PAGE_PARAM}={number}" if params else f"?{PAGE_PARAM}={number}"

    @property
    def page_size_choices(self) -> list[tuple[int, bool]]:
        return [(size, size == self.page_size) for size in self.spec.page_sizes]

    # -- sorting ---------------------------------------------------------------------------

    @property
    def headers(self) -> list[Header]:
        current, descending = self.spec.parse_sort(self.sort)
        headers = []
        for column in self.spec.columns:
            if not column.sortable:
                headers.append(Header(column.label, column.css, None, None, ""))
                continue
            if column is current:
                next_descending = not descending
                aria = "descending" if descending else "ascending"
            else:
                next_descending = column.descending_first
                aria = None
            value = f"-{column.key}" if next_descending else column.key
            headers.append(
                Header(
                    column.label,
                    column.css,
                    self._url(**{SORT_PARAM: value}),
                    aria,
                    gettext("synkende") if next_descending else gettext("stigende"),
                )
            )
        return headers

    # -- export ----------------------------------------------------------------------------

    def export_url(self, fmt: str) -> str:
        return self._url(**{EXPORT_PARAM: fmt})

    @property
    def export_urls(self) -> dict[str, str]:
        return {fmt: self.export_url(fmt) for fmt in EXPORT_FORMATS}

    def filename(self, fmt: str) -> str:
        return f"{self.spec.name}-{timezone.localdate():%Y-%m-%d}.{fmt}"

    def rows(self) -> Iterator[Any]:
        return self.queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE)

    def export_response(self):
        fmt = self.export_format or "csv"
        if fmt == "xlsx":
            return xlsx_response(
                self.rows(),
                self.spec.export_columns,
                filename=self.filename("xlsx"),
                sheet_title=str(self.spec.sheet_title or self.spec.name),
            )
        return csv_response(self.rows(), self.spec.export_columns, filename=self.filename("csv"))


def _without_empty(query: QueryDict) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, values in query.lists():
        kept = [value for value in values if value.strip()]
        if kept:
            params.setlist(key, kept)
    return params


def list_from_request(
    request, *, spec: ListSpec, queryset: QuerySet, filter_kwargs: dict | None = None
) -> Listing:
    """Filter, sort and page ``queryset`` (already scoped by a selector) from the request's
    query string. ``filter_kwargs`` go to the filter set (e.g. the scope it searches in)."""
    # Empty fields (every filter the form submits unset) mean nothing: drop them, so links
    # and exports carry only what narrows the list.
    params = _without_empty(request.GET)
    filterset = None
    if spec.filterset_class is not None:
        filterset = spec.filterset_class(
            params or None, queryset=queryset, request=request, **(filter_kwargs or {})
        )
        queryset = filterset.qs
    ordered, sort = spec.order(queryset, params.get(SORT_PARAM))
    export_format = params.get(EXPORT_PARAM)
    return Listing(
        spec=spec,
        params=params,
        filterset=filterset,
        queryset=ordered,
        sort=sort,
        page_size=spec.parse_page_size(params.get(PAGE_SIZE_PARAM)),
        export_format=export_format if export_format in EXPORT_FORMATS else None,
    )


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def _safe_text(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any, kind: Kind) -> str:
    """One value the way Norwegian Excel reads it from a CSV file."""
    if value is None or value == "":
        return ""
    if kind == "money":
        return f"{to_ore(value):.2f}".replace(".", ",")
    if kind == "int":
        return str(int(value))
    if kind == "datetime":
        return _local(value).strftime("%d.%m.%Y %H:%M")
    if kind == "date":
        return value.strftime("%d.%m.%Y")
    if kind == "bool":
        return gettext("Ja") if value else gettext("Nei")
    return _safe_text(str(value))


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[Any], columns: Iterable[ExportColumn]) -> Iterator[str]:
    """The CSV text line by line, the first one starting with the UTF-8 byte order mark that
    tells Excel the encoding."""
    columns = tuple(columns)
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([str(column.header) for column in columns])
    for row in rows:
        yield writer.writerow([csv_cell(column.value(row), column.kind) for column in columns])


def csv_response(rows, columns, *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(rows, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX_FORMATS = {"money": "#,##0.00", "date": "DD.MM.YYYY", "datetime": "DD.MM.YYYY HH:MM"}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_cell(sheet, value: Any, kind: Kind):
    if value is None or value == "":
        return None
    if kind == "money":
        value = float(to_ore(value)) if isinstance(value, Decimal) else float(value)
    elif kind == "int":
        value = int(value)
    elif kind == "datetime":
        value = _local(value)
    elif kind == "bool":
        value = gettext("Ja") if value else gettext("Nei")
    elif kind == "text":
        value = str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if kind == "text":
        cell.data_type = "s"  # never a formula, whatever the text starts with
    if kind in XLSX_FORMATS:
        cell.number_format = XLSX_FORMATS[kind]
    return cell


def xlsx_file(rows, columns, *, sheet_title: str):
    """The workbook in a temporary file (write-only mode: rows go to disk as they come)."""
    columns = tuple(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "Liste")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns):
        width = 14 if column.kind in ("money", "date", "datetime", "int") else 24
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.data_type = "s"
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, column.value(row), column.kind) for column in columns])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return handle


def xlsx_response(rows, columns, *, filename: str, sheet_title: str) -> FileResponse:
    handle = xlsx_file(rows, columns, sheet_title=sheet_title)
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


__all__ = [
    "EXPORT_FORMATS",
    "PAGE_SIZES",
    "Column",
    "ExportColumn",
    "Header",
    "ListFilterSet",
    "ListSpec",
    "Listing",
    "attr",
    "csv_cell",
    "csv_lines",
    "csv_response",
    "display",
    "list_from_request",
    "xlsx_file",
    "xlsx_response",
]

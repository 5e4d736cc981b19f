"""Filters of the Kundeweb lists (*Saker*, *Klar for inkasso*, *Skyldnere*), as django-filter
filter sets over a queryset a selector has already scoped to one creditor."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import CharField, Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.forms import DATE_INPUT_FORMATS, NokAmountField
from collections_cases.cases.page_selectors import case_search_ids
from collections_cases.cases.states import OPEN_STATUSES
from collections_cases.models import CollectionCase, Invoice
from creditors.models import Debtor
from kravia_web.listing import ListFilterSet

SEARCH_MAX_LENGTH = 100
#: A Saker search matching at most this many cases (of the creditor) filters by their ids.
SEARCH_IDS_MAX = 2000

DEBTOR_TYPES = [("person", _("Privatperson")), ("business", _("Næringsdrivende"))]


class NokAmountFilter(django_filters.Filter):
    field_class = NokAmountField


def search_filter(placeholder):
    return django_filters.CharFilter(
        label=_("Søk"),
        method="search",
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": placeholder, "type": "search"}),
    )


def date_filter(label, field_name, lookup_expr):
    return django_filters.DateFilter(
        label=label,
        field_name=field_name,
        lookup_expr=lookup_expr,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Skriv datoen som dd.mm.åååå, for eksempel 31.01.2026.")},
    )


def amount_filter(label, field_name, lookup_expr):
    return NokAmountFilter(
        label=label,
        field_name=field_name,
        lookup_expr=lookup_expr,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )


def _only_filter(label, method):
    return django_filters.BooleanFilter(label=label, method=method, widget=forms.CheckboxInput)


def _debtor_type_filter(field_name):
    return django_filters.ChoiceFilter(
        label=_("Skyldnertype"),
        choices=DEBTOR_TYPES,
        empty_label=_("Alle"),
        method="debtor_type",
        field_name=field_name,
    )


def telling_word(term: str) -> str | None:
    """The word of a several-word search term most likely to be rare among names: one with
    digits, else the longest (at least 3 characters, a trigram). None for a one-word term."""
    words = [word for word in term.split() if len(word) >= 3]
    if len(term.split()) < 2 or not words:
        return None
    return max(words, key=lambda word: (any(c.isdigit() for c in word), len(word)))


def digits_only(text: str) -> str:
    return text.replace(" ", "").replace("\u00a0", "")


class _DebtorTypeMixin:
    def debtor_type(self, queryset, name, value):
        return queryset.filter(**{name: value == "person"})


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


class CaseFilter(_DebtorTypeMixin, ListFilterSet):
    primary = ("q", "status", "only_open")
    static_form = True  # fixed choices only
    ranges = (
        ("created_from", "created_to"),
        ("next_from", "next_to"),
        ("balance_min", "balance_max"),
    )

    q = search_filter(_("Saksnummer, KID, skyldner, org.nr. eller fakturanummer"))
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CollectionCase.Status.choices, empty_label=_("Alle statuser")
    )
    stage = django_filters.ChoiceFilter(
        label=_("Steg"), choices=CollectionCase.Stage.choices, empty_label=_("Alle steg")
    )
    # The debtor's type stored on the case (kept by triggers): no join of the debtors.
    debtor_kind = _debtor_type_filter("debtor_is_person")
    created_from = date_filter(_("Opprettet fra"), "created_at__date", "gte")
    created_to = date_filter(_("Opprettet til"), "created_at__date", "lte")
    next_from = date_filter(_("Neste steg fra"), "next_action_date", "gte")
    next_to = date_filter(_("Neste steg til"), "next_action_date", "lte")
    balance_min = amount_filter(_("Saldo fra"), "balance", "gte")
    balance_max = amount_filter(_("Saldo til"), "balance", "lte")
    only_open = _only_filter(_("Bare aktive saker"), "open_only")

    class Meta:
        model = CollectionCase
        fields: list[str] = []

    def __init__(self, *args, creditor=None, **kwargs):
        super().__init__(*args, **kwargs)
        #: The creditor whose cases are listed: the search's id lookups stay within it.
        self.creditor = creditor
        #: How many cases the search matched, when it filtered by their ids (else None).
        self.search_matches: int | None = None

    def active_filters(self) -> dict[str, object] | None:
        """The filters that narrow the list, by name, or None when the form is wrong."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        # ``is not False``: an amount of 0 (``balance_min=0``) narrows the list too, and
        # ``Decimal(0) == False``.
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if value is not False and value not in (None, "", [], ())
        }

    def search(self, queryset, name, value):
        """Case number (part of it), KID, debtor name or org number; a whole number may also
        be one of the case's invoice numbers.

        The matching cases' ids come first from one ``UNION ALL`` of index lookups (trigram
        indexes for the parts of a case number or name, exact ones for the rest), read once:
        the page and its count are then lookups by id. An ``OR`` across the debtor join made
        PostgreSQL test every case of the creditor (0.5–0.7 s at 100 000 cases, twice: page
        and count; docs/performance.md). A term that matches more than ``SEARCH_IDS_MAX``
        cases (``Skyldner``, ``AS``) keeps that ``OR``, which for so many matches is the fast
        form: the page walks the sort's index and stops when it is full."""
        term = value.strip()
        if not term:
            return queryset
        digits = digits_only(term)
        whole_number = digits.isdigit() and len(digits) <= 18
        invoice_cases = None
        if whole_number:
            invoice_cases = (
                Invoice.objects.order_by()
                .filter(invoice_no=int(digits), case__isnull=False)
                .values("case_id")
            )
        if self.creditor is not None:
            ids = set(
                case_search_ids(
                    creditor_id=self.creditor.pk,
                    term=term,
                    word=telling_word(term),
                    digits=digits,
                    limit=SEARCH_IDS_MAX + 1,
                )
            )
        else:
            cases = CollectionCase.objects.order_by()
            lookups = [
                cases.filter(number__icontains=term),
                cases.filter(debtor__in=self._debtors_named(term).values("pk")),
                cases.filter(kid=digits),
                cases.filter(
                    debtor__in=Debtor.objects.order_by().filter(org_number=digits).values("pk")
                ),
            ]
            if invoice_cases is not None:
                lookups.append(cases.filter(pk__in=invoice_cases))
            first, *rest = (lookup.values_list("pk", flat=True) for lookup in lookups)
            ids = set(first.union(*rest, all=True)[: SEARCH_IDS_MAX + 1])
        if len(ids) <= SEARCH_IDS_MAX:
            self.search_matches = len(ids)
            return queryset.filter(pk__in=sorted(ids))
        match = (
            Q(number__icontains=term)
            | Q(debtor__name__icontains=term)
            | Q(kid=digits)
            | Q(debtor__org_number=digits)
        )
        if invoice_cases is not None:
            match |= Q(pk__in=invoice_cases)
        return queryset.filter(match)

    def _debtors_named(self, term: str):
        """The debtors (of the creditor) whose name contains ``term``. The trigram index is
        asked for the term's most telling word only, the whole term tested on the rows it
        finds: an index lookup of every trigram of ``Skyldner 91928`` (or ``Hansen AS``)
        walks the long lists of the common ones (9 ms at 140 000 debtors against 0.3 ms for
        ``91928``); the word is part of the term, so the matches are the same."""
        debtors = Debtor.objects.order_by()
        if self.creditor is not None:
            debtors = debtors.filter(creditor=self.creditor)
        word = telling_word(term)
        if word is None:
            return debtors.filter(name__icontains=term)
        # ``name || ''`` is not the indexed expression: a filter on the found rows.
        whole = Concat("name", Value(""), output_field=CharField())
        return (
            debtors.filter(name__icontains=word)
            .alias(whole_name=whole)
            .filter(whole_name__icontains=term)
        )

    def open_only(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------


class ReadyInvoiceFilter(_DebtorTypeMixin, ListFilterSet):
    ranges = (("due_from", "due_to"), ("amount_min", "amount_max"))

    q = search_filter(_("Skyldner, org.nr., kundenummer, fakturanummer eller KID"))
    debtor_kind = _debtor_type_filter("debtor__is_person")
    due_from = date_filter(_("Forfall fra"), "due_date", "gte")
    due_to = date_filter(_("Forfall til"), "due_date", "lte")
    amount_min = amount_filter(_("Udekket fra"), "balance", "gte")
    amount_max = amount_filter(_("Udekket til"), "balance", "lte")
    missing_address = _only_filter(_("Bare skyldnere uten adresse"), "without_address")

    class Meta:
        model = Invoice
        fields: list[str] = []

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        digits = digits_only(term)
        match = Q(debtor__name__icontains=term) | Q(debtor__org_number=digits) | Q(cid=digits)
        if digits.isdigit() and len(digits) <= 18:
            match |= Q(invoice_no=int(digits)) | Q(debtor__customer_number=int(digits))
        return queryset.filter(match)

    def without_address(self, queryset, name, value):
        return queryset.filter(debtor__address_line="") if value else queryset


# --------------------------------------------------------------------------------------------
# Skyldnere
# --------------------------------------------------------------------------------------------


class DebtorFilter(_DebtorTypeMixin, ListFilterSet):
    primary = ("q", "with_open_cases")
    ranges = (("outstanding_min", "outstanding_max"),)

    q = search_filter(_("Navn, e-post, organisasjons- eller kundenummer"))
    debtor_kind = _debtor_type_filter("is_person")
    outstanding_min = amount_filter(_("Utestående fra"), "outstanding", "gte")
    outstanding_max = amount_filter(_("Utestående til"), "outstanding", "lte")
    with_open_cases = _only_filter(_("Bare med åpne saker"), "with_cases")
    missing_address = _only_filter(_("Bare uten adresse"), "without_address")
    opted_out = _only_filter(_("Bare unntatt fra inkasso"), "only_opted_out")

    class Meta:
        model = Debtor
        fields: list[str] = []

    def search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        digits = digits_only(term)
        match = Q(name__icontains=term) | Q(email__icontains=term) | Q(org_number__icontains=digits)
        if digits.isdigit() and len(digits) <= 18:
            match |= Q(customer_number=int(digits))
        return queryset.filter(match)

    def with_cases(self, queryset, name, value):
        return queryset.filter(open_cases__gt=0) if value else queryset

    def without_address(self, queryset, name, value):
        return queryset.filter(address_line="") if value else queryset

    def only_opted_out(self, queryset, name, value):
        return queryset.filter(collection_opt_out=True) if value else queryset

"""«Utbetalinger» declared for ``kravia_web.listing``: filters, sortable columns, export."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.filters import amount_filter, date_filter, digits_only, search_filter
from collections_cases.models import Settlement
from kravia_web.listing import Column, ExportColumn, ListFilterSet, ListSpec, attr, display


class SettlementFilter(ListFilterSet):
    primary = ("q", "payout_status", "voucher_status")
    ranges = (("settled_from", "settled_to"), ("payout_min", "payout_max"))

    q = search_filter(_("Oppgjørsnummer eller saksnummer"))
    payout_status = django_filters.ChoiceFilter(
        label=_("Utbetaling"), choices=Settlement.PayoutStatus.choices, empty_label=_("Alle")
    )
    voucher_status = django_filters.ChoiceFilter(
        label=_("Bokføring"), choices=Settlement.VoucherStatus.choices, empty_label=_("Alle")
    )
    settled_from = date_filter(_("Dato fra"), "settled_on", "gte")
    settled_to = date_filter(_("Dato til"), "settled_on", "lte")
    payout_min = amount_filter(_("Utbetalt fra"), "payout", "gte")
    payout_max = amount_filter(_("Utbetalt til"), "payout", "lte")

    class Meta:
        model = Settlement
        fields: list[str] = []

    def search(self, queryset, name, value):
        """«O-2026-000123» (or its number) finds the settlement; a case number finds the
        settlements that paid out that case."""
        term = value.strip().upper()
        if not term:
            return queryset
        match = Q(lines__case__number__iexact=term)
        tail = digits_only(term.rsplit("-", 1)[-1])
        if tail.isdigit() and len(tail) <= 12:
            match |= Q(pk=int(tail))
        return queryset.filter(match).distinct()


SETTLEMENT_LIST = ListSpec(
    name="utbetalinger",
    sheet_title=_("Utbetalinger"),
    filterset_class=SettlementFilter,
    default_sort="-date",
    columns=(
        Column("number", _("Oppgjør"), sort=("pk",), descending_first=True),
        Column("date", _("Dato"), sort=("settled_on",), descending_first=True),
        Column("period", _("Periode")),
        Column("cases", _("Saker"), sort=("cases_count",), descending_first=True, css="amount"),
        Column(
            "collected", _("Innbetalt"), sort=("collected",), descending_first=True, css="amount"
        ),
        Column("payout", _("Utbetales"), sort=("payout",), descending_first=True, css="amount"),
        Column("payout_status", _("Utbetaling"), sort=("payout_status",)),
        Column("voucher_status", _("Bokføring"), sort=("voucher_status",)),
    ),
    export_columns=(
        ExportColumn(_("Oppgjør"), attr("number")),
        ExportColumn(_("Dato"), attr("settled_on"), "date"),
        ExportColumn(_("Fra"), attr("period_start"), "date"),
        ExportColumn(_("Til"), attr("period_end"), "date"),
        ExportColumn(_("Saker"), attr("cases_count"), "int"),
        ExportColumn(_("Innbetalt"), attr("collected"), "money"),
        ExportColumn(_("Hovedstol"), attr("principal"), "money"),
        ExportColumn(_("Renter"), attr("interest"), "money"),
        ExportColumn(_("Renter til deg"), attr("interest_to_creditor"), "money"),
        ExportColumn(_("Gebyrer"), attr("fees"), "money"),
        ExportColumn(_("Salær"), attr("salaer"), "money"),
        ExportColumn(_("Suksessprovisjon"), attr("commission"), "money"),
        ExportColumn(_("Mva."), attr("vat"), "money"),
        ExportColumn(_("Utbetales"), attr("payout"), "money"),
        ExportColumn(_("Til konto"), attr("payout_account")),
        ExportColumn(_("Utbetaling"), display("payout_status")),
        ExportColumn(_("Utbetalt"), attr("paid_out_at"), "datetime"),
        ExportColumn(_("Bokføring"), display("voucher_status")),
        ExportColumn(_("Markert som bokført"), attr("booked_at"), "datetime"),
    ),
)

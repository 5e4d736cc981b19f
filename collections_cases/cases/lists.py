"""The Kundeweb lists declared for ``kravia_web.listing``: which columns sort (and by what),
which filters apply, and what the CSV / Excel export holds."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.filters import CaseFilter, DebtorFilter, ReadyInvoiceFilter
from kravia_web.listing import Column, ExportColumn, ListSpec, attr, display


def _debtor_type(debtor) -> str:
    return _gettext("Privatperson") if debtor.is_person else _gettext("Næringsdrivende")


def _days_overdue(invoice) -> int | None:
    if invoice.due_date is None:
        return None
    return (timezone.localdate() - invoice.due_date).days


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------

CASE_LIST = ListSpec(
    name="saker",
    sheet_title=_("Saker"),
    filterset_class=CaseFilter,
    default_sort="next_action",
    deep_pages_by_id=True,
    static_filters=True,
    # What page_selectors.case_page_rows reads.
    page_values=(
        "pk",
        "number",
        "status",
        "stage",
        "close_reason",
        "next_action",
        "next_action_date",
        "created_at",
        "debtor__name",
        "balance",
    ),
    columns=(
        Column("number", _("Saksnummer"), sort=("number",), nullable=False),
        Column("debtor", _("Skyldner"), sort=("debtor__name",), nullable=False),
        Column("status", _("Status")),
        Column(
            "balance",
            _("Saldo"),
            sort=("balance",),
            descending_first=True,
            css="amount",
            nullable=False,
        ),
        Column("next_action", _("Neste steg"), sort=("next_action_date",)),
        Column(
            "created",
            _("Opprettet"),
            sort=("created_at",),
            descending_first=True,
            nullable=False,
        ),
    ),
    export_columns=(
        ExportColumn(_("Saksnummer"), attr("number")),
        ExportColumn(_("KID"), attr("kid")),
        ExportColumn(_("Skyldner"), attr("debtor.name")),
        ExportColumn(_("Organisasjonsnummer"), attr("debtor.org_number")),
        ExportColumn(_("Kundenummer"), attr("debtor.customer_number"), "int"),
        ExportColumn(_("Skyldnertype"), lambda case: _debtor_type(case.debtor)),
        ExportColumn(_("Status"), display("status")),
        ExportColumn(_("Steg"), display("stage")),
        ExportColumn(_("Avslutningsårsak"), display("close_reason")),
        ExportColumn(_("Hovedstol"), attr("principal"), "money"),
        ExportColumn(_("Innbetalt"), lambda case: -case.paid, "money"),
        ExportColumn(_("Saldo"), attr("balance"), "money"),
        ExportColumn(_("Neste steg"), display("next_action")),
        ExportColumn(_("Dato neste steg"), attr("next_action_date"), "date"),
        ExportColumn(_("Opprettet"), lambda case: timezone.localdate(case.created_at), "date"),
        ExportColumn(
            _("Avsluttet"),
            lambda case: timezone.localdate(case.closed_at) if case.closed_at else None,
            "date",
        ),
        ExportColumn(_("Foreldelsesdato"), attr("limitation_date"), "date"),
    ),
)


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------

READY_LIST = ListSpec(
    name="klar-for-inkasso",
    sheet_title=_("Klar for inkasso"),
    filterset_class=ReadyInvoiceFilter,
    default_sort="debtor",
    default_page_size=100,
    columns=(
        Column("debtor", _("Skyldner"), sort=("debtor__name", "debtor_id", "due_date")),
        Column("invoice", _("Faktura"), sort=("invoice_no",)),
        Column("due", _("Forfall"), sort=("due_date",)),
        Column(
            "total",
            _("Fakturabeløp"),
            sort=("total_amount",),
            descending_first=True,
            css="amount",
        ),
        Column("balance", _("Udekket"), sort=("balance",), descending_first=True, css="amount"),
    ),
    export_columns=(
        ExportColumn(_("Skyldner"), attr("debtor.name")),
        ExportColumn(_("Organisasjonsnummer"), attr("debtor.org_number")),
        ExportColumn(_("Kundenummer"), attr("debtor.customer_number"), "int"),
        ExportColumn(_("Skyldnertype"), lambda invoice: _debtor_type(invoice.debtor)),
        ExportColumn(_("Fakturanummer"), attr("invoice_no"), "int"),
        ExportColumn(_("KID"), attr("cid")),
        ExportColumn(_("Fakturadato"), attr("invoice_date"), "date"),
        ExportColumn(_("Forfall"), attr("due_date"), "date"),
        ExportColumn(_("Dager over forfall"), _days_overdue, "int"),
        ExportColumn(_("Fakturabeløp"), attr("total_amount"), "money"),
        ExportColumn(_("Udekket"), attr("balance"), "money"),
        ExportColumn(_("Valuta"), attr("currency")),
    ),
)


# --------------------------------------------------------------------------------------------
# Skyldnere
# --------------------------------------------------------------------------------------------

DEBTOR_LIST = ListSpec(
    name="skyldnere",
    sheet_title=_("Skyldnere"),
    filterset_class=DebtorFilter,
    default_sort="name",
    columns=(
        Column("name", _("Navn"), sort=("name",)),
        Column("contact", _("Kontakt")),
        Column("open_cases", _("Åpne saker"), sort=("open_cases",), descending_first=True),
        Column(
            "outstanding",
            _("Utestående i inkasso"),
            sort=("outstanding",),
            descending_first=True,
            css="amount",
        ),
    ),
    export_columns=(
        ExportColumn(_("Navn"), attr("name")),
        ExportColumn(_("Kundenummer"), attr("customer_number"), "int"),
        ExportColumn(_("Organisasjonsnummer"), attr("org_number")),
        ExportColumn(_("Skyldnertype"), _debtor_type),
        ExportColumn(_("E-post"), attr("email")),
        ExportColumn(_("E-post for inkassobrev"), attr("reminder_email")),
        ExportColumn(_("Telefon"), attr("phone")),
        ExportColumn(_("Adresse"), attr("address_line")),
        ExportColumn(_("Postnummer"), attr("postal_code")),
        ExportColumn(_("Poststed"), attr("postal_city")),
        ExportColumn(_("Åpne saker"), attr("open_cases"), "int"),
        ExportColumn(_("Utestående i inkasso"), attr("outstanding"), "money"),
        ExportColumn(_("Unntatt fra inkasso"), attr("collection_opt_out"), "bool"),
    ),
)

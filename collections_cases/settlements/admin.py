"""Admin for settlements: see what each creditor was paid and why, download the payout file
(pain.001) for the bank, mark payouts as done. Settlements are made by the settlement run
(``settle``), never edited here: every amount field is read-only."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from collections_cases.cases.staff_queue import StaffQueueFilter
from collections_cases.models import Settlement, SettlementClaim, SettlementLine
from collections_cases.settlements import services
from collections_cases.settlements.payout import payout_instruction_xml
from kravia_web.errors import ApplicationError

MONEY = (
    "collected",
    "principal",
    "interest",
    "fees",
    "salaer",
    "interest_to_creditor",
    "commission",
    "vat",
    "payout",
)


class SettlementLineInline(admin.TabularInline):
    model = SettlementLine
    fields = ("case", "days_overdue", *MONEY)
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class DeductedClaimInline(admin.TabularInline):
    """Payments reversed after an earlier payout, deducted from this one."""

    model = SettlementClaim
    fk_name = "deducted_in"
    fields = ("case", "principal", "interest_to_creditor", "commission", "vat", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("tilbakeførte innbetalinger trukket")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = (
        "number_display",
        "creditor_name",
        "settled_on",
        "collected",
        "payout",
        "payout_status",
        "voucher_status",
    )
    list_filter = (
        StaffQueueFilter,
        "payout_status",
        "voucher_status",
        "bookkeeping_mode",
        "settled_on",
    )
    search_fields = ("creditor__name", "creditor__org_number")
    date_hierarchy = "settled_on"
    list_select_related = ("creditor",)
    inlines = [SettlementLineInline, DeductedClaimInline]
    actions = ["download_payout_file", "mark_paid_out"]
    # The stored JSON stays out; ``voucher_lines_display`` shows the postings readably.
    exclude = ("voucher_lines",)
    readonly_fields = (
        "creditor",
        "settled_on",
        "period_start",
        "period_end",
        "bookkeeping_mode",
        "vat_registered",
        "interest_to",
        "commission_percent",
        "vat_percent",
        *MONEY,
        "claims",
        "payout_account",
        "payout_status",
        "paid_out_at",
        "paid_out_by",
        "statement_pdf",
        "voucher_status",
        "voucher_error",
        "voucher_lines_display",
        "pogo_voucher_id",
        "voucher_sent_at",
        "booked_at",
        "created_at",
    )

    @admin.display(description=_("posteringer"))
    def voucher_lines_display(self, obj):
        return render_to_string(
            "admin/collections_cases/settlement/_voucher_lines.html",
            {"lines": obj.voucher_lines or []},
        )

    @admin.display(description=_("kreditor"), ordering="creditor__name")
    def creditor_name(self, obj):
        return obj.creditor.name

    @admin.display(description=_("oppgjør"), ordering="pk")
    def number_display(self, obj):
        return obj.number

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Last ned betalingsfil (pain.001) for valgte oppgjør"))
    def download_payout_file(self, request, queryset):
        try:
            data = payout_instruction_xml(queryset.select_related("creditor").order_by("pk"))
        except ApplicationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        response = HttpResponse(data, content_type="application/xml")
        name = f"utbetalinger-{timezone.localdate():%Y-%m-%d}.xml"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description=_("Marker valgte oppgjør som utbetalt"))
    def mark_paid_out(self, request, queryset):
        count = services.settlement_mark_paid_out(
            settlement_ids=queryset.values_list("pk", flat=True), actor=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d oppgjør er markert som utbetalt.",
                "%(count)d oppgjør er markert som utbetalt.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

"""Admin for incoming payments: register one by hand, work the queue of unmatched and
ambiguous payments (assign a case, which allocates), see each payment's split and the
imported bank files; work the queue of reversals the bank sent that match no payment (name
the payment, which undoes it) and see the claims against creditors' next payouts. Money moves
only through :mod:`collections_cases.payments.services` and ``payments.reversals``."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.staff_queue import StaffQueueFilter
from collections_cases.models import (
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentReversal,
    SettlementClaim,
)
from collections_cases.payments import reversals
from collections_cases.payments import services as payment_services
from collections_cases.payments.imports import payments_import_file
from kravia_web.errors import ApplicationError


class PaymentRegisterForm(forms.ModelForm):
    """Manual registration: amount, date, KID or case, reference."""

    class Meta:
        model = Payment
        fields = [
            "amount",
            "paid_on",
            "kid",
            "case",
            "external_reference",
            "payer_name",
            "payer_reference",
        ]
        help_texts = {
            "case": _("Velg saken, eller la stå tom og oppgi KID for automatisk kobling."),
            "external_reference": _("Bankens referanse (arkivreferanse); må være unik."),
        }

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= Decimal("0"):
            raise forms.ValidationError(_("Beløpet må være større enn 0."))
        return amount


class PaymentAssignForm(forms.ModelForm):
    """A queued payment: the case handler picks the case it belongs to."""

    class Meta:
        model = Payment
        fields = ["case"]
        help_texts = {"case": _("Saken innbetalingen gjelder. Lagre for å fordele beløpet.")}

    def clean_case(self):
        case = self.cleaned_data.get("case")
        if case is None:
            raise forms.ValidationError(_("Velg en sak."))
        return case


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    fields = [
        "component",
        "amount",
        "case",
        "ledger_entry",
        "settlement_line",
        "reversal_entry",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


PAYMENT_DETAIL_FIELDS = [
    "source",
    "external_reference",
    "amount",
    "paid_on",
    "kid",
    "payer_name",
    "payer_reference",
    "status",
    "match_note",
    "case",
    "matched_by",
    "import_batch",
    "created_at",
]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "paid_on",
        "amount",
        "kid",
        "payer_name",
        "status",
        "case",
        "source",
        "match_note",
    ]
    list_filter = [StaffQueueFilter, "status", "source", "paid_on"]
    search_fields = ["kid", "external_reference", "payer_name", "payer_reference", "case__number"]
    date_hierarchy = "paid_on"
    raw_id_fields = ["case"]
    inlines = [AllocationInline]
    actions = ["mark_refunded"]

    @admin.action(description=_("Marker overbetalingen som tilbakebetalt til skyldner"))
    def mark_refunded(self, request, queryset):
        done = 0
        for payment in queryset:
            try:
                payment_services.payment_mark_refunded(payment=payment, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{payment}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(
                request,
                _("%(count)d overbetaling(er) er markert som tilbakebetalt.") % {"count": done},
                messages.SUCCESS,
            )

    def _queued(self, obj) -> bool:
        return obj is not None and obj.status in Payment.QUEUE_STATUSES

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PaymentRegisterForm
            kwargs["fields"] = PaymentRegisterForm.Meta.fields
        elif self._queued(obj):
            kwargs["form"] = PaymentAssignForm
            kwargs["fields"] = ["case"]
        else:
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return PaymentRegisterForm.Meta.fields
        if self._queued(obj):
            return [f for f in PAYMENT_DETAIL_FIELDS if f != "case"] + ["case"]
        return PAYMENT_DETAIL_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if self._queued(obj):
            return [f for f in PAYMENT_DETAIL_FIELDS if f != "case"]
        return PAYMENT_DETAIL_FIELDS

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                data = form.cleaned_data
                payment = payment_services.payment_register(
                    amount=data["amount"],
                    paid_on=data["paid_on"],
                    external_reference=data["external_reference"],
                    kid=data.get("kid", ""),
                    case=data.get("case"),
                    payer_name=data.get("payer_name", ""),
                    payer_reference=data.get("payer_reference", ""),
                    actor=request.user,
                )
                obj.pk = payment.pk
                obj.status = payment.status
            elif "case" in form.changed_data and self._queued(Payment.objects.get(pk=obj.pk)):
                payment_services.payment_assign(
                    payment=Payment.objects.get(pk=obj.pk),
                    case=form.cleaned_data["case"],
                    actor=request.user,
                )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines


class PaymentFileUploadForm(forms.Form):
    """A bank file: size-checked here, its content checked completely by the parsers."""

    file = forms.FileField(
        label=_("Bankfil"),
        help_text=_("camt.054 (XML) eller OCR giro (tekst), høyst 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xml,.txt,.dat,.ocr,text/xml,text/plain"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = getattr(settings, "PAYMENT_FILE_MAX_BYTES", 10 * 1024 * 1024)
        if upload.size > limit:
            raise forms.ValidationError(
                _("Filen er for stor (%(size)d byte); største tillatte er %(limit)d byte.")
                % {"size": upload.size, "limit": limit}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("Filen er tom."))
        return upload


@admin.register(PaymentImport)
class PaymentImportAdmin(admin.ModelAdmin):
    # Fits 1 280 px beside the filters: the counts after the first in one readable column
    # (each is on the import's own page).
    list_display = [
        "file_name",
        "format",
        "imported_at",
        "transactions_count",
        "result_display",
    ]
    list_filter = ["format"]

    @admin.display(description=_("hoppet over"))
    def skipped_count(self, obj):
        return len(obj.skipped or [])

    @admin.display(description=_("resultat"))
    def result_display(self, obj):
        return gettext(
            "%(created)d nye, %(matched)d koblet til sak, %(unmatched)d til manuell behandling, "
            "%(duplicates)d allerede importert, %(reversals)d tilbakeføringer "
            "(%(reversals_unmatched)d ikke koblet), %(ignored)d ignorert, "
            "%(skipped)d hoppet over"
        ) % {
            "created": obj.created_count,
            "matched": obj.matched_count,
            "unmatched": obj.unmatched_count,
            "duplicates": obj.duplicate_count,
            "reversals": obj.reversal_count,
            "reversals_unmatched": obj.reversal_unmatched_count,
            "ignored": obj.ignored_count,
            "skipped": len(obj.skipped or []),
        }

    search_fields = ["file_name", "sha256"]

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [
            path("upload/", upload, name="collections_cases_paymentimport_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        """«Importer bankfil»: the same import as ``manage.py import_payments``."""
        if not request.user.has_perm("collections_cases.add_payment"):
            raise PermissionDenied
        form = PaymentFileUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = payments_import_file(
                    content=upload.read(), file_name=upload.name, actor=request.user
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                self.message_user(
                    request,
                    _(
                        "%(name)s: %(created)d nye innbetalinger (%(matched)d koblet til sak, "
                        "%(unmatched)d til manuell behandling), %(duplicates)d allerede importert, "
                        "%(reversed)d tilbakeført (%(reversal_queue)d til saksbehandler), "
                        "%(ignored)d poster som ikke er innbetalinger, %(skipped)d hoppet over."
                    )
                    % {
                        "name": batch.file_name,
                        "created": batch.created_count,
                        "matched": batch.matched_count,
                        "unmatched": batch.unmatched_count,
                        "duplicates": batch.duplicate_count,
                        "reversed": batch.reversal_count,
                        "reversal_queue": batch.reversal_unmatched_count,
                        "ignored": batch.ignored_count,
                        "skipped": len(batch.skipped or []),
                    },
                    messages.WARNING if batch.skipped else messages.SUCCESS,
                )
                for problem in batch.skipped or []:
                    self.message_user(request, problem["error"], messages.WARNING)
                return redirect("admin:collections_cases_paymentimport_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Importer bankfil"),
        }
        return TemplateResponse(
            request, "admin/collections_cases/payment_import_upload.html", context
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in PaymentImport._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


REVERSAL_FIELDS = [
    "source",
    "external_reference",
    "amount",
    "reversed_on",
    "kid",
    "original_reference",
    "payer_name",
    "payer_reference",
    "status",
    "note",
    "payment",
    "handled_by",
    "import_batch",
    "created_at",
]


class ReversalAssignForm(forms.ModelForm):
    """A queued reversal: the case handler names the payment the bank took back."""

    class Meta:
        model = PaymentReversal
        fields = ["payment"]
        help_texts = {
            "payment": _("Innbetalingen banken tok tilbake. Lagre for å tilbakeføre den.")
        }

    def clean_payment(self):
        payment = self.cleaned_data.get("payment")
        if payment is None:
            raise forms.ValidationError(_("Velg en innbetaling."))
        return payment


@admin.register(PaymentReversal)
class PaymentReversalAdmin(admin.ModelAdmin):
    """Reversals from the bank files. Those waiting (*Venter på saksbehandler*) matched no
    payment, or could not be undone automatically (the note says why)."""

    list_display = [
        "reversed_on",
        "amount",
        "kid",
        "payer_name",
        "status",
        "payment",
        "source",
        "note",
    ]
    list_filter = ["status", "source", "reversed_on"]
    search_fields = ["kid", "external_reference", "original_reference", "payer_name"]
    date_hierarchy = "reversed_on"
    raw_id_fields = ["payment"]
    actions = ["dismiss"]

    def _queued(self, obj) -> bool:
        return obj is not None and obj.status == PaymentReversal.Status.UNMATCHED

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._queued(obj):
            kwargs["form"] = ReversalAssignForm
            kwargs["fields"] = ["payment"]
        else:
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if self._queued(obj):
            return [f for f in REVERSAL_FIELDS if f != "payment"] + ["payment"]
        return REVERSAL_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if self._queued(obj):
            return [f for f in REVERSAL_FIELDS if f != "payment"]
        return REVERSAL_FIELDS

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        queued = PaymentReversal.objects.get(pk=obj.pk)
        if "payment" in form.changed_data and self._queued(queued):
            try:
                reversals.reversal_assign(
                    reversal=queued, payment=form.cleaned_data["payment"], actor=request.user
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description=_("Avslutt valgte tilbakeføringer uten å tilbakeføre"))
    def dismiss(self, request, queryset):
        done = 0
        note = _("Avsluttet i admin av %(user)s.") % {"user": request.user}
        for reversal in queryset:
            try:
                reversals.reversal_dismiss(reversal=reversal, actor=request.user, note=note)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{reversal}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(
                request,
                _("%(count)d tilbakeføring(er) er avsluttet.") % {"count": done},
                messages.SUCCESS,
            )


class ClaimOpenFilter(admin.SimpleListFilter):
    title = _("trukket")
    parameter_name = "deducted"

    def lookups(self, request, model_admin):
        return [("no", _("Venter på neste utbetaling")), ("yes", _("Trukket"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deducted_in__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deducted_in__isnull=False)
        return queryset


@admin.register(SettlementClaim)
class SettlementClaimAdmin(admin.ModelAdmin):
    """Reversed payments that had been paid out: the creditor's share, deducted from its next
    payout by the settlement run (never edited here)."""

    list_display = [
        "created_at",
        "creditor",
        "case",
        "principal",
        "interest_to_creditor",
        "commission",
        "vat",
        "amount",
        "deducted_in",
    ]
    list_filter = [ClaimOpenFilter]
    search_fields = ["creditor__name", "case__number"]
    list_select_related = ["creditor", "case", "deducted_in"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SettlementClaim._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

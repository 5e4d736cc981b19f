"""Admin for letter delivery: every delivery with its status and errors, the print queue
(*utskriftskø*: one merged PDF to print, then «Merk som postlagt»), sending a letter again to
another address, and the letters the dunning run records (read-only: the run writes them).
Actions parse input and call one service."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.staff_queue import StaffQueueFilter
from collections_cases.letters import services as delivery_services
from collections_cases.models import Letter, LetterDelivery, PrintQueueItem
from kravia_web.errors import ApplicationError

Channel = LetterDelivery.Channel
Status = LetterDelivery.Status

DELIVERY_FIELDS = [
    "letter",
    "channel",
    "recipient",
    "reason",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "sent_at",
    "posted_at",
    "created_by",
    "created_at",
    "updated_at",
]


class LetterAdmin(admin.ModelAdmin):
    list_display = ["case", "kind", "step", "sent_on", "deadline", "fee", "status"]
    list_filter = ["kind", "status", "sent_on"]
    search_fields = ["case__number", "case__debtor__name"]
    date_hierarchy = "sent_on"
    list_select_related = ["case"]
    # The stored JSON stays out; ``amounts_display`` shows it readably.
    exclude = ["amounts"]
    readonly_fields = [
        "case",
        "kind",
        "step",
        "sent_on",
        "deadline",
        "fee",
        "amounts_display",
        "status",
        "created_at",
    ]

    @admin.display(description=_("beløp i brevet"))
    def amounts_display(self, obj):
        """The amounts the letter showed, in Norwegian (the stored JSON is for the record)."""
        return render_to_string(
            "admin/collections_cases/letter/_amounts.html", {"amounts": obj.amounts or {}}
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ResendForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Kanal"), choices=Channel.choices, widget=forms.RadioSelect, initial=Channel.EMAIL
    )
    email = forms.EmailField(label=_("E-postadresse"), required=False)
    address = forms.CharField(
        label=_("Postadresse"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Navn, adresse og postnummer med sted, hver på sin linje."),
    )

    def recipient(self) -> str:
        data = self.cleaned_data
        return data["email"] if data["channel"] == Channel.EMAIL else data["address"]


def resend_url(letter_id: int) -> str:
    return reverse("admin:collections_cases_letterdelivery_resend", args=[letter_id])


class DeliveryAdminBase(admin.ModelAdmin):
    list_select_related = ["letter", "letter__case"]
    search_fields = ["letter__case__number", "recipient", "letter__case__debtor__name"]
    readonly_fields = DELIVERY_FIELDS
    fields = DELIVERY_FIELDS

    @admin.display(description=_("sak"), ordering="letter__case__number")
    def case_number(self, obj):
        return obj.letter.case.number

    @admin.display(description=_("mottaker"))
    def recipient_line(self, obj):
        return delivery_services.one_line(obj.recipient)

    @admin.display(description=_("siste feil"))
    def error_short(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LetterDelivery)
class LetterDeliveryAdmin(DeliveryAdminBase):
    # Fits 1 280 px beside the filters: the reason is a filter, the day is the date hierarchy.
    list_display = [
        "case_number",
        "letter",
        "channel",
        "recipient_line",
        "status",
        "attempts",
        "next_attempt_at",
        "error_short",
    ]
    list_filter = [StaffQueueFilter, "status", "channel", "reason", "created_at"]
    date_hierarchy = "created_at"
    actions = ["retry_now", "resend_other_address"]

    @admin.action(description=_("Prøv igjen nå"), permissions=["change"])
    def retry_now(self, request, queryset):
        count = delivery_services.delivery_retry(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d utsending(er) sendes på nytt.") % {"count": count})

    @admin.action(description=_("Send brevet på nytt til en annen adresse"), permissions=["change"])
    def resend_other_address(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Velg én utsending."), messages.WARNING)
            return None
        return HttpResponseRedirect(resend_url(queryset.get().letter_id))

    def get_urls(self):
        return [
            path(
                "resend/<int:letter_id>/",
                self.admin_site.admin_view(self.resend_view),
                name="collections_cases_letterdelivery_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request, letter_id: int):
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        letter = get_object_or_404(Letter.objects.select_related("case__debtor"), pk=letter_id)
        form = ResendForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                delivery_services.delivery_resend(
                    letter=letter,
                    channel=form.cleaned_data["channel"],
                    recipient=form.recipient(),
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("%(letter)s i sak %(case)s sendes til %(recipient)s.")
                    % {
                        "letter": letter.get_kind_display(),
                        "case": letter.case.number,
                        "recipient": delivery_services.one_line(form.recipient()),
                    },
                )
                return HttpResponseRedirect(
                    reverse("admin:collections_cases_letterdelivery_changelist")
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send brevet på nytt"),
            "opts": self.model._meta,
            "letter": letter,
            "deliveries": letter.deliveries.order_by("created_at"),
            "form": form,
        }
        return render(request, "admin/collections_cases/letter_resend.html", context)


@admin.register(PrintQueueItem)
class PrintQueueAdmin(DeliveryAdminBase):
    """Post deliveries. Filter a day (or *i utskriftskø*), select all, download one PDF to
    print, then mark them as posted."""

    list_display = ["case_number", "letter", "recipient_line", "status", "created_at", "posted_at"]
    list_filter = [StaffQueueFilter, "status", "created_at"]
    date_hierarchy = "created_at"
    actions = ["download_pdf", "mark_posted"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(channel=Channel.POST)

    @admin.action(description=_("Last ned samlet PDF"))
    def download_pdf(self, request, queryset):
        try:
            pdf = delivery_services.print_queue_pdf(
                deliveries=queryset.select_related("letter__case").order_by("created_at", "pk")
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.WARNING)
            return None
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"utskrift-{timezone.localdate():%Y-%m-%d}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description=_("Merk som postlagt"), permissions=["change"])
    def mark_posted(self, request, queryset):
        count = delivery_services.delivery_mark_posted(
            deliveries=queryset.select_related("letter__case"), actor=request.user
        )
        self.message_user(request, _("%(count)d brev merket som postlagt.") % {"count": count})


class LetterDeliveryInline(admin.TabularInline):
    model = LetterDelivery
    fields = ["channel", "recipient", "reason", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Letter)
class LetterWithDeliveriesAdmin(LetterAdmin):
    """The letters admin, with each letter's deliveries and «Send på nytt»."""

    inlines = [*LetterAdmin.inlines, LetterDeliveryInline]
    actions = [*(LetterAdmin.actions or []), "resend_other_address"]

    @admin.action(description=_("Send brevet på nytt til en annen adresse"))
    def resend_other_address(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Velg ett brev."), messages.WARNING)
            return None
        return HttpResponseRedirect(resend_url(queryset.get().pk))

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor, Debtor, Membership, User
from kravia_web.errors import ApplicationError


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personalia"), {"fields": ("first_name", "last_name")}),
        (
            _("Tilganger"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Datoer"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class VerifiedFilter(admin.SimpleListFilter):
    title = _("verifisert")
    parameter_name = "verifisert"

    def lookups(self, request, model_admin):
        return [("ja", _("Ja")), ("nei", _("Nei"))]

    def queryset(self, request, queryset):
        if self.value() == "ja":
            return queryset.filter(verified_at__isnull=False)
        if self.value() == "nei":
            return queryset.filter(verified_at__isnull=True)
        return queryset


class VerifyForm(forms.Form):
    reason = forms.CharField(
        label=_("Hvorfor er kreditoren verifisert?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Hva du har sjekket, for eksempel «Daglig leder i Brønnøysund, bekreftet på telefon "
            "12.03.»: står i kreditorens logg med ditt navn og tidspunktet."
        ),
    )


@admin.register(Creditor)
class CreditorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "org_number",
        "verified",
        "email",
        "bookkeeping_mode",
        "vat_display",
    ]
    # The case app's work-queue filter («arbeidskø») is put first by collections_cases.cases.admin
    # (creditors does not import the case app).
    list_filter = [
        VerifiedFilter,
        "bookkeeping_mode",
        "vat_registered",
        "entry_step",
    ]
    search_fields = ["org_number", "name", "email"]
    readonly_fields = [
        "verified_at",
        "verified_by",
        "verification_method",
        "payout_account_changed_at",
        "payout_account_changed_by",
        "payout_hold_until",
        "payout_change_confirmed_at",
        "payout_change_confirmed_by",
    ]
    inlines = [MembershipInline]
    actions = ["verify"]

    # A short header: the field's own name («Registrert i Merverdiavgiftsregisteret») alone is
    # wider than the list has room for at 1 280 px.
    @admin.display(description=_("mva"), boolean=True, ordering="vat_registered")
    def vat_display(self, obj):
        return obj.vat_registered

    @admin.display(description=_("verifisert"), boolean=True, ordering="verified_at")
    def verified(self, obj):
        return obj.is_verified

    def get_readonly_fields(self, request, obj=None):
        # The payout account changes through Kundeweb (owners, with the hold and the e-mail
        # to every owner); the org number is what verification is about.
        extra = ["bank_account", "org_number"] if obj is not None else []
        return [*self.readonly_fields, *extra]

    @admin.action(description=_("Verifiser kreditor (etter kontroll)"))
    def verify(self, request, queryset):
        """Ask why, then ``creditor_verify(method="case_handler")`` for each: refused with a
        message when another creditor is verified for the org number already."""
        from creditors.services import creditor_verify

        creditors = list(queryset.order_by("pk"))
        if "apply" in request.POST:
            form = VerifyForm(request.POST)
            if form.is_valid():
                done = 0
                for creditor in creditors:
                    try:
                        creditor_verify(
                            creditor=creditor,
                            actor=request.user,
                            method=Creditor.VerificationMethod.CASE_HANDLER,
                            reason=form.cleaned_data["reason"],
                        )
                    except ApplicationError as exc:
                        self.message_user(
                            request, f"{creditor.name}: {exc.message}", messages.ERROR
                        )
                    else:
                        done += 1
                if done:
                    self.message_user(
                        request,
                        _("%(n)s kreditor(er) er verifisert.") % {"n": done},
                        messages.SUCCESS,
                    )
                return None
        else:
            form = VerifyForm()
        org_numbers = {creditor.org_number for creditor in creditors}
        same = list(Creditor.objects.filter(org_number__in=org_numbers).order_by("pk"))
        rows = [
            {
                "creditor": creditor,
                "owners": list(
                    creditor.memberships.filter(role=Membership.Role.OWNER).values_list(
                        "user__email", flat=True
                    )
                ),
                "others": [
                    other
                    for other in same
                    if other.org_number == creditor.org_number and other.pk != creditor.pk
                ],
            }
            for creditor in creditors
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Verifiser kreditor"),
            "form": form,
            "rows": rows,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/creditors/creditor/verify.html", context)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "creditor", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "creditor__name", "creditor__org_number"]
    autocomplete_fields = ["user", "creditor"]


@admin.register(Debtor)
class DebtorAdmin(admin.ModelAdmin):
    # Fits 1 280 px beside the filters with room for long names: short headers for the flags
    # (the fields' own names are whole sentences), the creditor by name; person or company is
    # a filter (and the org number column shows a company).
    list_display = [
        "name",
        "creditor_name",
        "customer_number",
        "org_number",
        "email",
        "transfer_display",
        "opt_out_display",
    ]
    list_filter = ["is_person", "transfer_to_debt_collection_agency", "collection_opt_out"]

    @admin.display(description=_("kreditor"), ordering="creditor__name")
    def creditor_name(self, obj):
        return obj.creditor.name

    @admin.display(
        description=_("til inkasso"), boolean=True, ordering="transfer_to_debt_collection_agency"
    )
    def transfer_display(self, obj):
        return obj.transfer_to_debt_collection_agency

    @admin.display(description=_("unntatt"), boolean=True, ordering="collection_opt_out")
    def opt_out_display(self, obj):
        return obj.collection_opt_out

    search_fields = ["name", "org_number", "email", "customer_number__exact", "creditor__name"]
    list_select_related = ["creditor"]
    autocomplete_fields = ["creditor"]
    readonly_fields = ["pogo_id", "pogo_last_changed", "created_at", "updated_at"]

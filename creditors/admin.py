from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor, Debtor, Membership, User


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


@admin.register(Creditor)
class CreditorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "org_number",
        "email",
        "bookkeeping_mode",
        "vat_registered",
        "created_at",
    ]
    list_filter = ["bookkeeping_mode", "vat_registered", "entry_step"]
    search_fields = ["org_number", "name", "email"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "creditor", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "creditor__name", "creditor__org_number"]
    autocomplete_fields = ["user", "creditor"]


@admin.register(Debtor)
class DebtorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "creditor",
        "customer_number",
        "is_person",
        "org_number",
        "email",
        "transfer_to_debt_collection_agency",
        "collection_opt_out",
    ]
    list_filter = ["is_person", "transfer_to_debt_collection_agency", "collection_opt_out"]
    search_fields = ["name", "org_number", "email", "customer_number__exact", "creditor__name"]
    list_select_related = ["creditor"]
    autocomplete_fields = ["creditor"]
    readonly_fields = ["pogo_id", "pogo_last_changed", "created_at", "updated_at"]

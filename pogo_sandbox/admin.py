"""Django admin for the sandbox: inspect its data and switch fault injection on and off."""

from django.contrib import admin

from pogo_sandbox import models


@admin.register(models.FaultRule)
class FaultRuleAdmin(admin.ModelAdmin):
    list_display = ("path_prefix", "error_rate", "faults", "latency_ms", "is_active")
    list_editable = ("error_rate", "latency_ms", "is_active")
    list_display_links = ("path_prefix",)


@admin.register(models.RequestCount)
class RequestCountAdmin(admin.ModelAdmin):
    list_display = ("subscription_key", "second", "count", "throttled")
    list_filter = ("subscription_key",)


@admin.register(models.Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "application_key", "subscription_key", "redirect_uri_prefix")


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "org_number", "integration_blocked", "auto_transfer_to_agency")
    search_fields = ("name", "org_number")


@admin.register(models.GoUser)
class GoUserAdmin(admin.ModelAdmin):
    list_display = ("email", "name")
    exclude = ("password",)


@admin.register(models.ClientSubscription)
class ClientSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("company", "application", "is_active", "can_create_cases", "created_at")
    list_filter = ("is_active",)


@admin.register(models.OnboardingSession)
class OnboardingSessionAdmin(admin.ModelAdmin):
    list_display = ("application", "client_org_no", "state", "user", "valid_until", "finalized_at")
    list_filter = ("state",)


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "name",
        "company",
        "email_address",
        "transfer_to_debt_collection_agency",
    )
    list_filter = ("company", "transfer_to_debt_collection_agency", "is_person")
    search_fields = ("name", "number", "email_address")


@admin.register(models.OutgoingInvoice)
class OutgoingInvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "invoice_no",
        "company",
        "customer",
        "due_date",
        "total_amount",
        "balance",
        "debt_collection_status",
    )
    list_filter = ("company", "debt_collection_status")
    search_fields = ("invoice_no", "cid")
    raw_id_fields = ("customer", "debt_case")


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = (
        "voucher_no",
        "voucher_type",
        "company",
        "invoice_no",
        "amount",
        "match_id",
        "is_write_off",
    )
    list_filter = ("company", "voucher_type", "is_write_off")
    raw_id_fields = ("customer", "invoice")


@admin.register(models.DebtCollectionCase)
class DebtCollectionCaseAdmin(admin.ModelAdmin):
    list_display = ("code", "company", "status", "status_text", "balance_agency", "last_changed")
    list_filter = ("company", "status")


@admin.register(models.JournalVoucher)
class JournalVoucherAdmin(admin.ModelAdmin):
    list_display = (
        "company",
        "kind",
        "voucher_date",
        "is_posted",
        "voucher_no",
        "external_import_reference",
    )
    list_filter = ("company", "kind", "is_posted")


admin.site.register(models.GeneralLedgerAccount)
admin.site.register(models.VatCode)
admin.site.register(models.AccessToken)
admin.site.register(models.CompanyAccess)

from django.contrib import admin

from integrations.models import OnboardingAttempt, PowerOfficeConnection, PowerOfficeConnectionEvent


class ConnectionEventInline(admin.TabularInline):
    model = PowerOfficeConnectionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "detail", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PowerOfficeConnection)
class PowerOfficeConnectionAdmin(admin.ModelAdmin):
    """Read-only: connections change through "Gi tilgang" and "Koble fra" only.

    ``client_key`` is not editable and never listed, so the admin cannot show it.
    """

    list_display = [
        "creditor",
        "client_org_number",
        "connected_at",
        "disconnected_at",
        "last_sync_at",
        "last_error",
    ]
    list_filter = ["disconnected_at"]
    search_fields = ["creditor__name", "creditor__org_number", "client_org_number"]
    exclude = ["client_key"]
    readonly_fields = [
        "creditor",
        "client_name",
        "client_org_number",
        "onboarded_by_email",
        "connected_at",
        "connected_by",
        "disconnected_at",
        "disconnected_by",
        "valid_privileges",
        "invalid_privileges",
        "company_info",
        "chart_of_accounts",
        "company_info_fetched_at",
        "last_sync_at",
        "last_error",
        "last_error_at",
    ]
    inlines = [ConnectionEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(OnboardingAttempt)
class OnboardingAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "creditor", "user", "requested_org_number", "outcome", "used_at"]
    list_filter = ["outcome"]
    search_fields = ["creditor__name", "requested_org_number", "user__email"]
    readonly_fields = [
        "creditor",
        "user",
        "requested_org_number",
        "outcome",
        "detail",
        "created_at",
        "expires_at",
        "used_at",
        "finished_at",
    ]

    def has_add_permission(self, request):
        return False

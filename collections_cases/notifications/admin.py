"""Admin for the creditor notifications (e-mails to creditors about their cases)."""

from django.contrib import admin

from collections_cases.models import CreditorNotification


@admin.register(CreditorNotification)
class CreditorNotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "creditor", "kind", "status", "attempts", "sent_at", "created_at"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["subject", "creditor__name", "case__number"]
    list_select_related = ["creditor"]
    readonly_fields = [
        "creditor",
        "case",
        "kind",
        "key",
        "recipients",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

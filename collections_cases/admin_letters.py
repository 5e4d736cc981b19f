"""Admin for the letters the dunning run records (read-only: the run writes them)."""

from django.contrib import admin

from collections_cases.models import Letter


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["case", "kind", "step", "sent_on", "deadline", "fee", "status"]
    list_filter = ["kind", "status", "sent_on"]
    search_fields = ["case__number", "case__debtor__name"]
    date_hierarchy = "sent_on"
    list_select_related = ["case"]
    readonly_fields = [
        "case",
        "kind",
        "step",
        "sent_on",
        "deadline",
        "fee",
        "amounts",
        "status",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

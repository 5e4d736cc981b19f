"""Admin for the letters the dunning run records (read-only: the run writes them)."""

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from collections_cases.models import Letter


@admin.register(Letter)
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

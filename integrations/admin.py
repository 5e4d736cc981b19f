from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import (
    MatchedItem,
    OnboardingAttempt,
    OutboxMessage,
    PowerOfficeConnection,
    PowerOfficeConnectionEvent,
    SyncCursor,
    SyncRun,
)
from integrations.services.queue import outbox_retry


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the sync: looked at, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "connection",
        "status",
        "duration",
        "request_count",
        "counts_summary",
        "error_count",
    ]
    list_filter = ["status", "started_at"]
    search_fields = ["connection__creditor__name", "connection__creditor__org_number"]
    readonly_fields = [
        "connection",
        "started_at",
        "finished_at",
        "status",
        "duration",
        "request_count",
        "counts",
        "errors",
    ]
    list_select_related = ["connection__creditor"]

    @admin.display(description=_("antall"))
    def counts_summary(self, obj):
        return "; ".join(
            f"{resource}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            for resource, counts in sorted((obj.counts or {}).items())
            if isinstance(counts, dict)
        )

    @admin.display(description=_("feil"))
    def error_count(self, obj):
        return len(obj.errors or [])


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyAdmin):
    list_display = ["connection", "resource", "value", "updated_at"]
    list_filter = ["resource"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "creditor",
        "case",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["case__number", "creditor__name", "dedupe_key"]
    readonly_fields = [
        "kind",
        "creditor",
        "case",
        "settlement",
        "payload",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    list_select_related = ["creditor", "case"]
    actions = ["retry"]

    @admin.action(description=_("Prøv igjen"))
    def retry(self, request, queryset):
        count = outbox_retry(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d melding sendes på nytt.", "%(count)d meldinger sendes på nytt.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(MatchedItem)
class MatchedItemAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "creditor",
        "voucher_type",
        "voucher_no",
        "amount",
        "is_write_off",
        "case",
        "outcome",
        "applied_amount",
    ]
    list_filter = ["outcome", "voucher_type", "is_write_off"]
    search_fields = ["case__number", "creditor__name"]
    list_select_related = ["creditor", "case"]

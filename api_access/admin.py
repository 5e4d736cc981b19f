"""Staff see keys (never the key itself: only prefix and hash exist) and idempotency rows."""

from django.contrib import admin

from api_access.models import ApiKey, IdempotencyRecord


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "creditor", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "creditor__name")
    readonly_fields = [f.name for f in ApiKey._meta.fields]
    list_select_related = ("creditor",)

    def has_add_permission(self, request):
        return False  # keys are created in Kundeweb, where the key is shown once


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("owner", "key", "method", "path", "state", "response_status", "created_at")
    list_filter = ("state",)
    search_fields = ("owner", "key", "path")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request):
        return False

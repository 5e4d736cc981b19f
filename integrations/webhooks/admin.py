"""Webhook endpoints and deliveries for staff: status, attempts and errors at a glance (the
secret is never shown)."""

from django.contrib import admin

from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "creditor", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "creditor__name")
    exclude = ("secret",)
    readonly_fields = ("creditor", "url", "events", "created_by", "created_at", "updated_at")
    list_select_related = ("creditor",)

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "endpoint__url")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    list_select_related = ("endpoint",)

    def has_add_permission(self, request):
        return False

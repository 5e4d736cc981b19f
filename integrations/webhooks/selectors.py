"""Webhook reads, scoped to one creditor."""

from django.db.models import QuerySet
from django.http import Http404

from creditors.models import Creditor
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 100


def webhook_endpoint_list_for_creditor(*, creditor: Creditor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(creditor=creditor)


def webhook_endpoint_get_for_creditor(*, creditor: Creditor, endpoint_id) -> WebhookEndpoint:
    try:
        return webhook_endpoint_list_for_creditor(creditor=creditor).get(pk=int(endpoint_id))
    except (WebhookEndpoint.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]


def webhook_delivery_get_for_creditor(*, creditor: Creditor, delivery_id) -> WebhookDelivery:
    try:
        return WebhookDelivery.objects.select_related("endpoint").get(
            pk=int(delivery_id), endpoint__creditor=creditor
        )
    except (WebhookDelivery.DoesNotExist, TypeError, ValueError):
        raise Http404 from None

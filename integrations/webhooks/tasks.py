"""Celery tasks for webhooks: thin — load by id, call one service, schedule the retry."""

from celery import shared_task

from integrations.webhooks.services import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt; a failure that may succeed later is tried again after the backoff the
    service computed (30 s, 1 min, 2 min, … at most 8 attempts)."""
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome is None:
        return None
    if outcome.retry_in is not None:
        deliver_webhook.apply_async(args=[delivery_id], countdown=outcome.retry_in)
    return outcome.delivery.status


@shared_task
def deliver_due_webhooks() -> int:
    """Beat, every minute: attempts that are due but whose queued task was lost."""
    ids = webhook_deliveries_due()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)

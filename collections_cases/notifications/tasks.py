"""Celery tasks for creditor notifications: id in, one service call.

Queued on commit by the services; the beat rows (migrations ``0010_delivery_beat_schedule`` and
``0023_notification_digest``) run the weekly summary and the daily digest. The registered names
are those of the module the tasks lived in before issue 18 (``collections_cases.delivery_tasks``),
so queued messages and the beat rows keep working.
"""

from celery import shared_task
from django.utils import timezone

from collections_cases.notifications.services import (
    notification_plan_requested,
    notification_send,
    notifications_daily_digest,
    notifications_weekly_summary,
)


@shared_task(name="collections_cases.delivery_tasks.send_notification_task", acks_late=True)
def send_notification_task(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(name="collections_cases.delivery_tasks.weekly_summary_task")
def weekly_summary_task() -> int:
    """Beat: last week's summary to every creditor who wants one."""
    return notifications_weekly_summary(on=timezone.localdate())


@shared_task(name="collections_cases.delivery_tasks.daily_digest_task")
def daily_digest_task() -> int:
    """Beat (07:00 Europe/Oslo): one digest per creditor of the notifications held for it."""
    return notifications_daily_digest(on=timezone.localdate())


@shared_task(
    name="collections_cases.delivery_tasks.plan_requested_notification_task", acks_late=True
)
def plan_requested_notification_task(plan_id: int) -> bool:
    """Queued on commit of a debtor's payment-plan request: the creditor's notification."""
    return notification_plan_requested(plan_id=plan_id) is not None

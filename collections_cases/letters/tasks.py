"""Celery tasks for letter delivery: id in, one service call (the sweep also retries due creditor notifications).

Queued on commit by the services (a new letter, a resend, a notification); the beat rows from
migration ``0010_delivery_beat_schedule`` run the sweep every five minutes (retries, and rows
whose task never ran) and the weekly summary on Mondays at 07:00 Europe/Oslo. Each send claims
its row first, so a duplicate or retried task never mails twice.
"""

import datetime as dt

from celery import shared_task

from collections_cases.letters.services import delivery_send, delivery_send_many, delivery_sweep
from collections_cases.notifications.services import notification_sweep


@shared_task(name="collections_cases.delivery_tasks.deliver_letter_task", acks_late=True)
def deliver_letter_task(delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id)


#: How long one :func:`deliver_letters_task` sends before it queues the rest as a new task
#: (well inside ``CELERY_TASK_SOFT_TIME_LIMIT``).
BATCH_BUDGET = dt.timedelta(minutes=5)


@shared_task(name="collections_cases.delivery_tasks.deliver_letters_task", acks_late=True)
def deliver_letters_task(delivery_ids: list[int]) -> dict:
    """The deliveries of a batch of new letters (the dunning run's), sent by one worker
    (:func:`delivery_send_many`); what it could not send within :data:`BATCH_BUDGET` goes
    on as a new task. Lost, the sweep sends them (they are *queued* rows)."""
    outcomes, rest = delivery_send_many(delivery_ids=delivery_ids, budget=BATCH_BUDGET)
    if rest:
        deliver_letters_task.delay(rest)
    return dict(outcomes)


@shared_task(name="collections_cases.delivery_tasks.delivery_sweep_task")
def delivery_sweep_task() -> dict:
    """Beat: retry the letter deliveries and creditor notifications that are due."""
    return {"letters": delivery_sweep(), "notifications": notification_sweep()}

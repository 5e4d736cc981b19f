"""The daily payment-plan check as a Celery task (beat row: migration
``payment_plans_beat_schedule``, 06:30 Europe/Oslo, after the dunning run). Thin: a date in,
one service call. Idempotent: a second run on the same date changes nothing."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases.plans.services import payment_plans_check

TASK_NAME = "collections_cases.payment_plans_check"


@shared_task(name=TASK_NAME, acks_late=True)
def payment_plans_check_task(on: str | None = None) -> dict:
    """Check every accepted payment plan; ``on`` is an ISO date, default today in Oslo."""
    run_on = date.fromisoformat(on) if on else timezone.localdate()
    return payment_plans_check(on=run_on).as_dict()

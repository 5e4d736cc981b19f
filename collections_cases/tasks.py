"""Celery tasks for the case engine: thin wrappers around one service call.

``dunning_run_task`` is scheduled by django-celery-beat (migration
``0003_dunning_beat_schedule``: daily at ``DUNNING_RUN_TIME``, Europe/Oslo; editable in the
admin). The run is idempotent — a second run on the same date changes nothing, and two runs
side by side skip each other's locked cases — so a retry or a duplicate delivery is harmless.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases import delivery_tasks  # noqa: F401  (registers the delivery tasks)
from collections_cases.services.dunning import dunning_run


@shared_task(acks_late=True)
def dunning_run_task(on: str | None = None) -> dict:
    """Move every due case one step; ``on`` is an ISO date, default today in Oslo."""
    run_on = date.fromisoformat(on) if on else timezone.localdate()
    return dunning_run(on=run_on).as_dict()


@shared_task(acks_late=True)
def settle_task(on: str | None = None) -> dict:
    """The settlement run (``settle``); ``on`` is an ISO date, default today in Oslo.
    Idempotent: one settlement per creditor and date, so a redelivery makes nothing new."""
    from collections_cases.settlements.services import settle

    run_on = date.fromisoformat(on) if on else timezone.localdate()
    return settle(on=run_on).as_dict()

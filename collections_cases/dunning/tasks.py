"""The dunning run as a Celery task: a thin wrapper around one service call.

``dunning_run_task`` is scheduled by django-celery-beat (migration
``0003_dunning_beat_schedule``: daily at ``DUNNING_RUN_TIME``, Europe/Oslo; editable in the
admin). It queues the run's other parts (``dunning_run_part_task``, ``DUNNING_RUN_TASKS`` in
all). The run is idempotent — a second run on the same date changes nothing, and runs side by
side skip each other's locked cases — so a retry or a duplicate delivery is harmless.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases.dunning.services import dunning_run, dunning_run_daily


@shared_task(name="collections_cases.tasks.dunning_run_task", acks_late=True)
def dunning_run_task(on: str | None = None) -> dict:
    """The daily run (``services.dunning_run_daily``); ``on`` is an ISO date, default today
    in Oslo."""
    return dunning_run_daily(on=date.fromisoformat(on) if on else timezone.localdate())


@shared_task(name="collections_cases.tasks.dunning_run_part_task", acks_late=True)
def dunning_run_part_task(on: str) -> dict:
    """One more part of the daily run on ``on`` (queued by ``dunning_run_daily``)."""
    return dunning_run(on=date.fromisoformat(on)).as_dict()

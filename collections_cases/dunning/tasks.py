"""The dunning run as a Celery task: a thin wrapper around one service call.

``dunning_run_task`` is scheduled by django-celery-beat (migration
``0003_dunning_beat_schedule``: daily at ``DUNNING_RUN_TIME``, Europe/Oslo; editable in the
admin). The run is idempotent — a second run on the same date changes nothing, and two runs
side by side skip each other's locked cases — so a retry or a duplicate delivery is harmless.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases.cases.limitation import limitation_hold_due
from collections_cases.dunning.services import dunning_run


@shared_task(name="collections_cases.tasks.dunning_run_task", acks_late=True)
def dunning_run_task(on: str | None = None) -> dict:
    """Move every due case one step; ``on`` is an ISO date, default today in Oslo. First the
    limitation check: every open case whose limitation date has come is held for a case
    handler (``services.limitation.limitation_hold_due``)."""
    run_on = date.fromisoformat(on) if on else timezone.localdate()
    held = limitation_hold_due(on=run_on)
    return {**dunning_run(on=run_on).as_dict(), "held_time_barred": held}

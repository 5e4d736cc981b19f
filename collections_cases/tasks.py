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
    from collections_cases.settlements.services import settle, statements_missing_ids

    run_on = date.fromisoformat(on) if on else timezone.localdate()
    result = settle(on=run_on, render_statements=False).as_dict()
    # One task per statement PDF (also those an interrupted run left), so every worker
    # renders: rendering, not the settling, is where a run's time goes.
    ids = statements_missing_ids()
    for settlement_id in ids:
        settlement_statement_task.delay(settlement_id)
    result["statements_queued"] = len(ids)
    return result


@shared_task(acks_late=True)
def settlement_statement_task(settlement_id: int) -> bool:
    """Render one settlement's statement PDF (once: a rendered one is left as it is)."""
    from collections_cases.models import Settlement
    from collections_cases.settlements.services import settlement_render_statement

    settlement = Settlement.objects.filter(pk=settlement_id).select_related("creditor").first()
    if settlement is None:
        return False
    settlement_render_statement(settlement=settlement)
    return True

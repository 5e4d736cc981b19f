"""Celery tasks for the case engine: thin wrappers around one service call.

``dunning_run_task`` is scheduled by django-celery-beat (migration
``0003_dunning_beat_schedule``: daily at ``DUNNING_RUN_TIME``, Europe/Oslo; editable in the
admin). The run is idempotent — a second run on the same date changes nothing, and two runs
side by side skip each other's locked cases — so a retry or a duplicate delivery is harmless.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases.dunning.services import dunning_run
from collections_cases.letters import tasks as delivery_tasks  # noqa: F401  (registers the delivery tasks)


@shared_task(name="collections_cases.tasks.dunning_run_task", acks_late=True)
def dunning_run_task(on: str | None = None) -> dict:
    """Move every due case one step; ``on`` is an ISO date, default today in Oslo. First the
    limitation check: every open case whose limitation date has come is held for a case
    handler (``services.limitation.limitation_hold_due``)."""
    from collections_cases.cases.limitation import limitation_hold_due

    run_on = date.fromisoformat(on) if on else timezone.localdate()
    held = limitation_hold_due(on=run_on)
    return {**dunning_run(on=run_on).as_dict(), "held_time_barred": held}


@shared_task(name="collections_cases.tasks.settle_task", acks_late=True)
def settle_task(on: str | None = None) -> dict:
    """The settlement run (``settle``); ``on`` is an ISO date, default today in Oslo.
    Idempotent: one settlement per creditor and date, so a redelivery makes nothing new.

    Up to one batch of due creditors is settled here; more are fanned out, one
    ``settle_creditors_task`` per batch, so several workers share the run (each batch locks
    its own creditors). Each settlement's statement PDF gets its own task."""
    from collections_cases.settlements.services import (
        SETTLE_BATCH_SIZE,
        settle,
        settlement_due_creditor_ids,
        statements_missing_ids,
    )

    run_on = date.fromisoformat(on) if on else timezone.localdate()
    due = settlement_due_creditor_ids(on=run_on)
    if len(due) > SETTLE_BATCH_SIZE:
        # Statements an interrupted earlier run left; each batch queues its own.
        leftover = statements_missing_ids()
        for settlement_id in leftover:
            settlement_statement_task.delay(settlement_id)
        batches = [due[i : i + SETTLE_BATCH_SIZE] for i in range(0, len(due), SETTLE_BATCH_SIZE)]
        for batch in batches:
            settle_creditors_task.delay(run_on.isoformat(), batch)
        return {
            "on": run_on.isoformat(),
            "due": len(due),
            "batches_queued": len(batches),
            "statements_queued": len(leftover),
        }
    result = settle(on=run_on, creditor_ids=due, render_statements=False).as_dict()
    # One task per statement PDF (also those an interrupted run left), so every worker
    # renders: rendering, not the settling, is where a run's time goes.
    ids = statements_missing_ids()
    for settlement_id in ids:
        settlement_statement_task.delay(settlement_id)
    result["statements_queued"] = len(ids)
    return result


@shared_task(name="collections_cases.tasks.settle_creditors_task", acks_late=True)
def settle_creditors_task(on: str, creditor_ids: list[int]) -> dict:
    """One batch of the settlement run (queued by ``settle_task``); idempotent like it."""
    from collections_cases.settlements.services import settle

    report = settle(on=date.fromisoformat(on), creditor_ids=creditor_ids, render_statements=False)
    for settlement_id in report.created:
        settlement_statement_task.delay(settlement_id)
    return {**report.as_dict(), "statements_queued": len(report.created)}


@shared_task(name="collections_cases.tasks.settlement_statement_task", acks_late=True)
def settlement_statement_task(settlement_id: int) -> bool:
    """Render one settlement's statement PDF (once: a rendered one is left as it is)."""
    from collections_cases.models import Settlement
    from collections_cases.settlements.services import settlement_render_statement

    settlement = Settlement.objects.filter(pk=settlement_id).select_related("creditor").first()
    if settlement is None:
        return False
    settlement_render_statement(settlement=settlement)
    return True

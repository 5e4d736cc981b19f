"""The settlement run as Celery tasks (beat row: migration ``0015_settlement_beat_schedule``).

Thin: a date or an id in, one service call. The registered names are those of the module the
tasks lived in before issue 18 (``collections_cases.tasks``), so queued messages and the beat
rows keep working.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from collections_cases.models import Settlement
from collections_cases.settlements import services


@shared_task(name="collections_cases.tasks.settle_task", acks_late=True)
def settle_task(on: str | None = None) -> dict:
    """The settlement run (``settle``); ``on`` is an ISO date, default today in Oslo.
    Idempotent: one settlement per creditor and date, so a redelivery makes nothing new.

    Up to one batch of due creditors is settled here; more are fanned out, one
    ``settle_creditors_task`` per batch, so several workers share the run (each batch locks
    its own creditors). Each settlement's statement PDF gets its own task."""
    run_on = date.fromisoformat(on) if on else timezone.localdate()
    due = services.settlement_due_creditor_ids(on=run_on)
    if len(due) > services.SETTLE_BATCH_SIZE:
        # Statements an interrupted earlier run left; each batch queues its own.
        leftover = services.statements_missing_ids()
        for settlement_id in leftover:
            settlement_statement_task.delay(settlement_id)
        batches = [
            due[i : i + services.SETTLE_BATCH_SIZE]
            for i in range(0, len(due), services.SETTLE_BATCH_SIZE)
        ]
        for batch in batches:
            settle_creditors_task.delay(run_on.isoformat(), batch)
        return {
            "on": run_on.isoformat(),
            "due": len(due),
            "batches_queued": len(batches),
            "statements_queued": len(leftover),
        }
    result = services.settle(on=run_on, creditor_ids=due, render_statements=False).as_dict()
    # One task per statement PDF (also those an interrupted run left), so every worker
    # renders: rendering, not the settling, is where a run's time goes.
    ids = services.statements_missing_ids()
    for settlement_id in ids:
        settlement_statement_task.delay(settlement_id)
    result["statements_queued"] = len(ids)
    return result


@shared_task(name="collections_cases.tasks.settle_creditors_task", acks_late=True)
def settle_creditors_task(on: str, creditor_ids: list[int]) -> dict:
    """One batch of the settlement run (queued by ``settle_task``); idempotent like it."""
    report = services.settle(
        on=date.fromisoformat(on), creditor_ids=creditor_ids, render_statements=False
    )
    for settlement_id in report.created:
        settlement_statement_task.delay(settlement_id)
    return {**report.as_dict(), "statements_queued": len(report.created)}


@shared_task(name="collections_cases.tasks.settlement_statement_task", acks_late=True)
def settlement_statement_task(settlement_id: int) -> bool:
    """Render one settlement's statement PDF (once: a rendered one is left as it is)."""
    settlement = Settlement.objects.filter(pk=settlement_id).select_related("creditor").first()
    if settlement is None:
        return False
    services.settlement_render_statement(settlement=settlement)
    return True

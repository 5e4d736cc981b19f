"""Celery tasks for API access: thin wrappers around one service."""

from celery import shared_task

from api_access.services import idempotency_records_prune


@shared_task
def prune_idempotency_records() -> int:
    """Beat, hourly: stored responses older than 24 hours are forgotten."""
    return idempotency_records_prune()

"""Celery tasks for PowerOffice Go: thin wrappers that load by id and call one service.

Routed to the ``poweroffice`` queue by ``CELERY_TASK_ROUTES``. The sync is idempotent (cursors,
upserts, unique matched items), so it is acknowledged late and may run again after a worker
dies. Two syncs of one connection never overlap: a cache lock here (cheap, shared through
Redis in production) and, underneath, the database's one *running* ``SyncRun`` per connection.
"""

import logging

from celery import shared_task
from django.core.cache import cache

from integrations.services.outbox import deliver_outbox
from integrations.services.sync import (
    SyncAlreadyRunning,
    active_connection_ids,
    sync_connection,
    sync_runs_prune,
)

logger = logging.getLogger(__name__)

#: Longer than any sync may take (the task's hard time limit is 15 minutes).
SYNC_LOCK_SECONDS = 20 * 60


def sync_lock_key(connection_id: int) -> str:
    return f"poweroffice-sync-lock:{connection_id}"


def sync_request_key(connection_id: int) -> str:
    """Set by *Synkroniser nå* (``integrations.status.sync_request``) until the task ends."""
    return f"poweroffice-sync-requested:{connection_id}"


@shared_task
def sync_all_connections() -> int:
    """Beat: fan out one sync task per connected creditor (and forget old run records)."""
    sync_runs_prune()
    ids = active_connection_ids()
    for connection_id in ids:
        sync_connection_task.delay(connection_id)
    return len(ids)


@shared_task(acks_late=True)
def sync_connection_task(connection_id: int) -> str | None:
    key = sync_lock_key(connection_id)
    if not cache.add(key, "1", timeout=SYNC_LOCK_SECONDS):
        logger.info("PowerOffice sync of connection %s is already running", connection_id)
        return None
    try:
        return sync_connection(connection_id=connection_id).status
    except SyncAlreadyRunning:  # another process holds the database lock
        logger.info("PowerOffice sync of connection %s is already running", connection_id)
        return None
    finally:
        cache.delete(key)
        cache.delete(sync_request_key(connection_id))


@shared_task
def deliver_outbox_task() -> dict:
    """Beat: send the outbox rows that are due (claiming each row keeps two runs apart)."""
    return deliver_outbox()

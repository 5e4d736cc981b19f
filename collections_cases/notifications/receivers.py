"""Signal receivers for creditor notifications (a case changed, a batch of cases changed)."""

import logging

from django.dispatch import receiver

from collections_cases.notifications.services import (
    notification_case_changed,
    notification_cases_changed,
)
from collections_cases.signals import case_changed, cases_changed

logger = logging.getLogger(__name__)


@receiver(case_changed, dispatch_uid="collections_cases.creditor_notifications")
def notify_creditor(sender, case_id, kind, **kwargs):
    """Runs after the case's transaction committed: a failure is logged and must not break
    the change itself."""
    try:
        notification_case_changed(case_id=case_id, kind=kind)
    except Exception:
        logger.exception("Could not queue a creditor notification for case %s", case_id)


@receiver(cases_changed, dispatch_uid="collections_cases.creditor_notifications_batch")
def notify_creditor_batch(sender, changes, **kwargs):
    """:func:`notify_creditor` for a batch of changes (most kinds notify nobody), reading
    the batch's cases and events at once. Runs after the commit: a failure is logged."""
    try:
        notification_cases_changed(changes=changes)
    except Exception:
        logger.exception("Could not queue creditor notifications for %d changes", len(changes))

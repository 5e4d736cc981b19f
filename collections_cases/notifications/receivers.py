"""Signal receivers of the case app: letter delivery and creditor notifications."""

import logging

from django.db.models.signals import post_save
from django.dispatch import receiver

from collections_cases.letters.services import delivery_create_for_letter
from collections_cases.models import Letter
from collections_cases.notifications.services import EVENT_NOTIFICATIONS, notification_case_changed
from collections_cases.signals import case_changed, cases_changed

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Letter, dispatch_uid="collections_cases.letter_delivery")
def queue_letter_delivery(sender, instance, created, raw=False, **kwargs):
    """A new letter gets its delivery row in the same transaction (so a letter is never left
    without one); rendering and sending wait for the commit."""
    if created and not raw:
        delivery_create_for_letter(letter=instance)


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
    """:func:`notify_creditor` for each change of a batch (most kinds notify nobody)."""
    for case_id, kind in changes:
        if kind in EVENT_NOTIFICATIONS:
            notify_creditor(sender, case_id=case_id, kind=kind)

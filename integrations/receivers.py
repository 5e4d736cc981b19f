"""Signal receivers: a case change a creditor would see becomes a status push to PoGo."""

import logging

from django.dispatch import receiver

from collections_cases.signals import case_changed
from integrations.services.outbox import outbox_case_changed

logger = logging.getLogger(__name__)


@receiver(case_changed, dispatch_uid="integrations.poweroffice_status_push")
def queue_status_push(sender, case_id, **kwargs):
    """Runs after the case's transaction committed (the signal is sent on commit), so a
    failure here must not undo or break the change itself: it is logged, and the next change
    of the case queues its then-current status."""
    try:
        outbox_case_changed(case_id=case_id)
    except Exception:
        logger.exception("Could not queue the PowerOffice Go status of case %s", case_id)

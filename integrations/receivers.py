"""Signal receivers: a case change a creditor would see becomes a status push to PoGo."""

from django.dispatch import receiver

from collections_cases.signals import case_changed
from integrations.services.outbox import outbox_case_changed


@receiver(case_changed, dispatch_uid="integrations.poweroffice_status_push")
def queue_status_push(sender, case_id, **kwargs):
    """Runs after the case's transaction committed (the signal is sent on commit)."""
    outbox_case_changed(case_id=case_id)

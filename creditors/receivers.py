"""The header's cached creditor names (``selectors.creditor_header_for_request``) are read
again after a commit that changed a membership or a creditor."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from creditors.models import Creditor, Membership
from creditors.selectors import creditor_header_names_changed


def _after_commit(user_ids) -> None:
    user_ids = list(user_ids)
    if user_ids:
        transaction.on_commit(lambda: creditor_header_names_changed(user_ids=user_ids))


@receiver(post_save, sender=Membership, dispatch_uid="creditors.header_names_membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="creditors.header_names_membership_gone")
def membership_changed(sender, instance, **kwargs):
    _after_commit([instance.user_id])


@receiver(post_save, sender=Creditor, dispatch_uid="creditors.header_names_creditor_saved")
def creditor_changed(sender, instance, **kwargs):
    _after_commit(Membership.objects.filter(creditor=instance).values_list("user_id", flat=True))

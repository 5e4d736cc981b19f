"""Signal receivers for letters: a new letter gets its delivery row."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from collections_cases.letters.services import delivery_create_for_letter
from collections_cases.models import Letter


@receiver(post_save, sender=Letter, dispatch_uid="collections_cases.letter_delivery")
def queue_letter_delivery(sender, instance, created, raw=False, **kwargs):
    """A new letter gets its delivery row in the same transaction (so a letter is never left
    without one); rendering and sending wait for the commit."""
    if created and not raw:
        delivery_create_for_letter(letter=instance)

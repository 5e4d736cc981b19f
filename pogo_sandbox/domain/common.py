"""What every part of the domain shares."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from pogo_sandbox.models import OutgoingInvoice

OSLO = ZoneInfo("Europe/Oslo")
Status = OutgoingInvoice.DebtCollectionStatus


class SandboxError(Exception):
    """A business rule refused the action; the message is shown to the user or API caller."""


def oslo_today() -> dt.date:
    return timezone.now().astimezone(OSLO).date()

"""Signals other apps listen to (the PowerOffice Go status push, later)."""

from django.dispatch import Signal

#: Sent after the transaction that changed a case commits: ``case_id`` and ``kind`` (the
#: :class:`~collections_cases.models.CaseEvent` kind written for the change).
case_changed = Signal()

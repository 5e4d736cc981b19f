"""Signals other apps listen to (the PowerOffice Go status push, later)."""

from django.dispatch import Signal

#: Sent after the transaction that changed a case commits: ``case_id`` and ``kind`` (the
#: :class:`~collections_cases.models.CaseEvent` kind written for the change).
case_changed = Signal()

#: :data:`case_changed` for many cases at once, sent after the transaction that changed them
#: commits (the dunning run's batches): ``changes``, a list of ``(case_id, kind)`` in the order
#: the events were written. Every receiver of ``case_changed`` has a receiver here too, doing
#: for each change what it does for one (in a few queries per batch).
cases_changed = Signal()

#: Sent *inside* the transaction that wrote a new settlement: ``settlement_id``. A receiver
#: that records follow-up work (an outbox row for the voucher) commits or rolls back with it.
settlement_created = Signal()

#: Sent after the transaction that wrote a new settlement commits: ``settlement_id``
#: (webhooks, notifications — work that must not run for a settlement that never was).
settlement_committed = Signal()

#: :data:`settlement_created` and :data:`settlement_committed` for a batch of the settlement
#: run (``settle_batch``): ``settlement_ids``, sent once per batch, inside its transaction and
#: after it commits. The run still sends both per-settlement signals for each settlement, with
#: ``batched=True``; a receiver that has a batch receiver here then leaves the work to it
#: (a few queries per batch instead of several per settlement).
settlements_created = Signal()
settlements_committed = Signal()

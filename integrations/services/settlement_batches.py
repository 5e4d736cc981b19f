"""The settlement run's batches (``collections_cases.settlements.services.settle_batch``):
what the receivers of ``settlement_created`` and ``settlement_committed`` do for one
settlement, done for a batch of them in a few queries (docs/performance.md).

The run still sends both signals for every settlement, with ``batched=True``; the receivers
in this app then leave their work to these functions (``settlements_created`` /
``settlements_committed``), which write exactly the rows they would have written: a voucher
outbox row per settlement of a connected creditor (else the settlement says why it waits),
the closing status of a manual settlement's cases, and a webhook delivery per subscribed
endpoint. What remains per settlement is only work that writes rows of its own.
"""

from __future__ import annotations

from django.db.models import Q

from collections_cases.models import CollectionCase, Settlement, SettlementLine
from creditors.models import Creditor
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.services.queue import outbox_status
from integrations.services.vouchers import not_connected_error
from integrations.webhooks.models import WebhookEndpoint
from integrations.webhooks.services import webhook_settlement_created


def outbox_settlement_vouchers(*, settlement_ids) -> None:
    """``outbox_settlement_voucher`` for each settlement (inside the run's transaction)."""
    settlements = list(
        Settlement.objects.filter(pk__in=list(settlement_ids))
        .exclude(bookkeeping_mode=Creditor.BookkeepingMode.NONE)
        .only("pk", "creditor_id", "bookkeeping_mode")
    )
    if not settlements:
        return
    connected = {
        connection.creditor_id
        for connection in PowerOfficeConnection.objects.filter(
            creditor_id__in={s.creditor_id for s in settlements}
        ).only("creditor_id", "client_key", "disconnected_at")
        if connection.is_connected
    }
    waiting = [s.pk for s in settlements if s.creditor_id not in connected]
    if waiting:
        Settlement.objects.filter(pk__in=waiting).update(voucher_error=not_connected_error())
    # One row per settlement, once per key (the unique key decides, as ``_get_or_create``).
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                dedupe_key=f"settlement_voucher:{s.pk}",
                kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER,
                creditor_id=s.creditor_id,
                settlement_id=s.pk,
                payload={"mode": s.bookkeeping_mode},
            )
            for s in settlements
            if s.creditor_id in connected
        ],
        ignore_conflicts=True,
    )


def queue_closing_statuses(*, settlement_ids) -> None:
    """Mode *none*: the closing status of each case of the manual settlements (after commit).
    Only cases that exist in PoGo (or are being created there) have a status to push."""
    manual = Settlement.objects.filter(
        pk__in=list(settlement_ids), voucher_status=Settlement.VoucherStatus.MANUAL
    ).values("pk")
    in_pogo = (
        CollectionCase.objects.filter(
            pk__in=SettlementLine.objects.filter(settlement_id__in=manual).values("case_id")
        )
        .filter(
            Q(pogo_case_id__isnull=False)
            | Q(
                pk__in=OutboxMessage.objects.filter(
                    kind=OutboxMessage.Kind.CREATE_CASE, case__isnull=False
                ).values("case_id")
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for case_id in in_pogo:
        outbox_status(case_id=case_id)


def webhook_settlements_created(*, settlement_ids) -> None:
    """``webhook_settlement_created`` for each settlement whose creditor has an active
    endpoint (the others have nobody to tell)."""
    rows = list(
        Settlement.objects.filter(pk__in=list(settlement_ids))
        .order_by("pk")
        .values_list("pk", "creditor_id")
    )
    listening = set(
        WebhookEndpoint.objects.filter(
            creditor_id__in={creditor_id for _pk, creditor_id in rows}, is_active=True
        ).values_list("creditor_id", flat=True)
    )
    for settlement_id, creditor_id in rows:
        if creditor_id in listening:
            webhook_settlement_created(settlement_id=settlement_id)

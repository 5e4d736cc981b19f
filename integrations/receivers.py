"""Signal receivers: a case change a creditor would see becomes a status push to PoGo; a new
settlement queues its voucher."""

import logging

from django.dispatch import receiver

from collections_cases.signals import (
    case_changed,
    cases_changed,
    settlement_committed,
    settlement_created,
    settlements_committed,
    settlements_created,
)
from integrations.services.queue import outbox_case_changed, outbox_cases_changed, outbox_status

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


@receiver(cases_changed, dispatch_uid="integrations.poweroffice_status_push_batch")
def queue_status_pushes(sender, changes, **kwargs):
    """:func:`queue_status_push` for a batch of changed cases (one status row each)."""
    try:
        outbox_cases_changed(case_ids=[case_id for case_id, _kind in changes])
    except Exception:
        logger.exception("Could not queue the PowerOffice Go statuses of %d cases", len(changes))


@receiver(settlement_created, dispatch_uid="integrations.settlement_voucher")
def queue_settlement_voucher(sender, settlement_id, **kwargs):
    """Inside the settlement's transaction: the voucher's outbox row commits (or rolls back)
    with the settlement itself, so no settlement is ever left without its voucher. Errors
    propagate on purpose: a settlement whose voucher could not be queued is not made."""
    if kwargs.get("batched"):
        return  # queue_settlement_vouchers does it for the batch
    from collections_cases.models import Settlement
    from integrations.services.vouchers import outbox_settlement_voucher

    outbox_settlement_voucher(settlement=Settlement.objects.get(pk=settlement_id))


@receiver(settlement_committed, dispatch_uid="integrations.settlement_closing_status")
def queue_closing_status_of_manual_settlement(sender, settlement_id, **kwargs):
    """Mode *none*: no voucher will be delivered, so the closing status of the settlement's
    cases (held back while their money was unsettled) is queued now."""
    if kwargs.get("batched"):
        return  # queue_closing_statuses_of_manual_settlements does it for the batch
    from collections_cases.models import Settlement, SettlementLine

    try:
        settlement = Settlement.objects.filter(pk=settlement_id).first()
        if settlement is None or settlement.voucher_status != Settlement.VoucherStatus.MANUAL:
            return
        for case_id in SettlementLine.objects.filter(settlement=settlement).values_list(
            "case_id", flat=True
        ):
            outbox_status(case_id=case_id)
    except Exception:
        logger.exception("Could not queue the closing statuses of settlement %s", settlement_id)


@receiver(settlements_created, dispatch_uid="integrations.settlement_vouchers_batch")
def queue_settlement_vouchers(sender, settlement_ids, **kwargs):
    """:func:`queue_settlement_voucher` for a batch of the settlement run (errors propagate:
    the batch is not made)."""
    from integrations.services.settlement_batches import outbox_settlement_vouchers

    outbox_settlement_vouchers(settlement_ids=settlement_ids)


@receiver(settlements_committed, dispatch_uid="integrations.settlement_closing_status_batch")
def queue_closing_statuses_of_manual_settlements(sender, settlement_ids, **kwargs):
    """:func:`queue_closing_status_of_manual_settlement` for a batch of the settlement run."""
    from integrations.services.settlement_batches import queue_closing_statuses

    try:
        queue_closing_statuses(settlement_ids=settlement_ids)
    except Exception:
        logger.exception(
            "Could not queue the closing statuses of %d settlements", len(settlement_ids)
        )

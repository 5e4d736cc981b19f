"""Case and settlement signals → webhook deliveries. Both signals are sent after the
change committed, so a failure here is logged and never undoes the change."""

import logging

from django.dispatch import receiver

from collections_cases.signals import (
    case_changed,
    cases_changed,
    settlement_committed,
    settlements_committed,
)
from integrations.webhooks.services import (
    webhook_case_changed,
    webhook_cases_changed,
    webhook_settlement_created,
)

logger = logging.getLogger(__name__)


@receiver(case_changed, dispatch_uid="webhooks.case_changed")
def case_changed_webhooks(sender, case_id, kind, **kwargs):
    try:
        webhook_case_changed(case_id=case_id, kind=kind)
    except Exception:
        logger.exception("Could not queue webhooks for case %s", case_id)


@receiver(cases_changed, dispatch_uid="webhooks.cases_changed")
def cases_changed_webhooks(sender, changes, **kwargs):
    try:
        webhook_cases_changed(changes=changes)
    except Exception:
        logger.exception("Could not queue webhooks for %d case changes", len(changes))


@receiver(settlement_committed, dispatch_uid="webhooks.settlement_committed")
def settlement_webhooks(sender, settlement_id, **kwargs):
    if kwargs.get("batched"):
        return  # settlements_webhooks does it for the batch
    try:
        webhook_settlement_created(settlement_id=settlement_id)
    except Exception:
        logger.exception("Could not queue webhooks for settlement %s", settlement_id)


@receiver(settlements_committed, dispatch_uid="webhooks.settlements_committed")
def settlements_webhooks(sender, settlement_ids, **kwargs):
    """:func:`settlement_webhooks` for a batch of the settlement run."""
    from integrations.services.settlement_batches import webhook_settlements_created

    try:
        webhook_settlements_created(settlement_ids=settlement_ids)
    except Exception:
        logger.exception("Could not queue webhooks for %d settlements", len(settlement_ids))

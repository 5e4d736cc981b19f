"""«Send bilaget på nytt» on a settlement page: queue the settlement's voucher to PowerOffice
Go again after the creditor fixed what blocked it (the page itself is in
``collections_cases.settlements.views``; this app owns the push)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collections_cases.settlements.selectors import settlement_get_for_creditor
from creditors.selectors import creditor_active_for_request
from integrations.services.vouchers import settlement_voucher_retry
from integrations.tasks import deliver_outbox_task
from kravia_web.errors import ApplicationError


@require_POST
def settlement_voucher_retry_view(request, settlement_id: int):
    creditor = creditor_active_for_request(request)
    if creditor is None:
        return redirect("creditor_add")
    settlement = settlement_get_for_creditor(creditor=creditor, settlement_id=settlement_id)
    try:
        settlement_voucher_retry(settlement=settlement)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        deliver_outbox_task.delay()
        messages.success(request, _("Bilaget sendes til PowerOffice Go på nytt."))
    return redirect("settlement_detail", settlement_id=settlement.pk)

"""Whether a case's closing status must wait for its settlement's voucher, and the voucher
states that say the money is in the creditor's books. Shared by the outbox's queue (which holds
the status back) and :mod:`.vouchers` (which queues it once the voucher is delivered).
"""

from __future__ import annotations

from collections_cases.models import CollectionCase, PaymentAllocation, Settlement
from creditors.models import Creditor

VoucherStatus = Settlement.VoucherStatus
Mode = Creditor.BookkeepingMode
#: Voucher states in which the money of a settlement is (or will be, by hand) in the
#: creditor's books: Go's echo of such a posting is ours, not a new payment.
DELIVERED = (VoucherStatus.SENT, VoucherStatus.POSTED)
ECHOED_STATES = (VoucherStatus.SENT, VoucherStatus.POSTED, VoucherStatus.MANUAL)


def case_awaits_settlement_voucher(case: CollectionCase) -> bool:
    """Whether the closing ``UpdateStatus`` of a case closed as *paid* (to the agency) must
    wait: Go closes the case in its Inkasso menu on that status, and the creditor should see
    the invoice settled by our voucher by then.

    It waits while money the creditor gets (principal, or interest when the creditor keeps
    it) is not settled yet, or is in a settlement whose voucher is not delivered. It does not
    wait when the creditor posts by hand (mode *none*) or nothing is paid out to them.

    Waiting writes no outbox row at all, so nothing is retried while it waits: the voucher's
    delivery (:func:`.vouchers._delivered`) and a settlement made in mode *none*
    (``integrations.receivers``) queue the status then.
    """
    if case.status != CollectionCase.Status.CLOSED or case.close_reason != (
        CollectionCase.CloseReason.PAID
    ):
        return False
    creditor = case.creditor
    if creditor.bookkeeping_mode == Mode.NONE:
        return False
    Component = PaymentAllocation.Component
    paid_out = [Component.PRINCIPAL]
    if creditor.interest_to == Creditor.InterestTo.CREDITOR:
        paid_out.append(Component.INTEREST)
    allocations = PaymentAllocation.objects.filter(case=case, component__in=paid_out)
    if allocations.filter(settlement_line__isnull=True).exists():
        return True
    return (
        allocations.filter(
            settlement_line__settlement__bookkeeping_mode__in=[Mode.UNPOSTED, Mode.POSTED]
        )
        .exclude(settlement_line__settlement__voucher_status__in=ECHOED_STATES)
        .exists()
    )

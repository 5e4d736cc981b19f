"""Settlements for the voucher tests, built with the ORM the way the settlement run writes them
(settlement, one line per case, the principal per invoice, allocations linked to the line,
posting lines from ``posting_lines``, ``settlement_created`` inside the transaction), so these
tests do not depend on the run's own arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from collections_cases.models import (
    CollectionCase,
    Invoice,
    PaymentAllocation,
    Settlement,
    SettlementInvoicePart,
    SettlementLine,
)
from collections_cases.payments.services import payment_register
from collections_cases.settlements.vouchers import posting_lines
from collections_cases.signals import settlement_committed, settlement_created
from creditors.models import Creditor

PDF = b"%PDF-1.4\n% oppgjorsoppstilling\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
Component = PaymentAllocation.Component


def owed_on(case: CollectionCase, day: dt.date) -> Decimal:
    """What the debtor owes on ``day``: the balance and the interest accrued up to that day
    (which a payment on ``day`` books first)."""
    from collections_cases.cases.selectors import case_balance
    from collections_cases.ledger.interest import accruals_from, case_interest_facts

    accrued = sum((a.amount for a in accruals_from(case_interest_facts(case), on=day)), Decimal(0))
    return case_balance(case) + accrued


def pay_agency(case: CollectionCase, amount: str, *, on: dt.date | None = None):
    """The debtor pays the agency (allocated on the case; a case paid in full closes).

    The debtor is exempt from late-payment interest here, so a payment of the invoice amount
    pays exactly the invoice: these tests are about vouchers, and the interest a payment
    accrues up to its day is tested with the money scenarios
    (tests/collections_cases/test_scenarios_money.py)."""
    debtor = case.debtor
    if not debtor.do_not_add_late_payment_interest:
        debtor.do_not_add_late_payment_interest = True
        debtor.save(update_fields=["do_not_add_late_payment_interest"])
    return payment_register(
        amount=Decimal(amount),
        paid_on=on or timezone.localdate(),
        external_reference=f"test-{case.pk}-{amount}-{PaymentAllocation.objects.count()}",
        case=case,
    )


def make_settlement(
    case: CollectionCase,
    *,
    on: dt.date | None = None,
    commission: str = "0.00",
    vat: str = "0.00",
    pdf: bool = True,
) -> Settlement:
    """Settle the case's unsettled principal (one invoice) as the settlement run would."""
    creditor = Creditor.objects.get(pk=case.creditor_id)
    on = on or timezone.localdate()
    allocations = list(
        PaymentAllocation.objects.filter(
            case=case, settlement_line__isnull=True, component=Component.PRINCIPAL
        )
    )
    principal = sum((a.amount for a in allocations), Decimal("0.00"))
    commission, vat = Decimal(commission), Decimal(vat)
    amounts = {
        "collected": principal,
        "principal": principal,
        "interest": Decimal("0.00"),
        "fees": Decimal("0.00"),
        "salaer": Decimal("0.00"),
        "interest_to_creditor": Decimal("0.00"),
        "commission": commission,
        "vat": vat,
        "payout": principal - commission - vat,
    }
    invoice = Invoice.objects.filter(case=case).select_related("debtor").get()
    with transaction.atomic():
        settlement = Settlement.objects.create(
            creditor=creditor,
            settled_on=on,
            period_start=on,
            period_end=on,
            bookkeeping_mode=creditor.bookkeeping_mode,
            vat_registered=creditor.vat_registered,
            interest_to=creditor.interest_to,
            vat_percent=Decimal("25.00"),
            payout_account=creditor.bank_account,
            voucher_status=(
                Settlement.VoucherStatus.MANUAL
                if creditor.bookkeeping_mode == Creditor.BookkeepingMode.NONE
                else Settlement.VoucherStatus.PENDING
            ),
            **amounts,
        )
        line = SettlementLine.objects.create(settlement=settlement, case=case, **amounts)
        SettlementInvoicePart.objects.create(line=line, invoice=invoice, amount=principal)
        PaymentAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(
            settlement_line=line
        )
        settlement.voucher_lines = posting_lines(
            settlement,
            mapping=creditor.account_mapping,
            parts=[
                (invoice.invoice_no, invoice.debtor_id, invoice.debtor.name, case.number, principal)
            ],
        )
        if pdf:
            settlement.statement_pdf.save(
                f"oppgjor-{settlement.number}.pdf", ContentFile(PDF), save=False
            )
        settlement.save()
        settlement_created.send(sender=Settlement, settlement_id=settlement.pk)
        pk = settlement.pk
        transaction.on_commit(
            lambda: settlement_committed.send(sender=Settlement, settlement_id=pk)
        )
    return settlement

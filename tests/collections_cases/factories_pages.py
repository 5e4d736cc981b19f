"""Cases for the page tests, opened through the real service so they carry events and a
ledger exactly as in production."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from collections_cases.cases.services import case_create
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory


def overdue(days: int = 30) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def collectable_debtor(creditor, **kwargs):
    kwargs.setdefault("transfer_to_debt_collection_agency", True)
    kwargs.setdefault("address_line", "Storgata 1")
    kwargs.setdefault("postal_code", "0155")
    kwargs.setdefault("postal_city", "Oslo")
    return DebtorFactory(creditor=creditor, **kwargs)


def open_case(creditor, *, debtor=None, amounts=("1000.00",), needs_approval=False, actor=None):
    debtor = debtor or collectable_debtor(creditor)
    invoices = [
        InvoiceFactory(
            debtor=debtor,
            total_amount=Decimal(amount),
            invoice_date=overdue(44),
            due_date=overdue(30),
        )
        for amount in amounts
    ]
    return case_create(
        creditor=creditor,
        debtor=debtor,
        invoices=invoices,
        actor=actor,
        needs_approval=needs_approval,
    )

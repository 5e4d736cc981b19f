"""Rows for the dashboard tests, written directly with exact dates and amounts."""

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

from collections_cases.models import (
    CollectionCase,
    LedgerEntry,
    Letter,
    Payment,
    PaymentAllocation,
    Settlement,
)
from tests.collections_cases.factories import CollectionCaseFactory, DebtorFactory

OSLO = ZoneInfo("Europe/Oslo")
_refs = itertools.count(1)
Status = CollectionCase.Status


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=OSLO)


def case(creditor, *, principal="1000.00", created=None, debtor=None, **fields):
    debtor = debtor or DebtorFactory(
        creditor=creditor, address_line="Storgata 1", postal_code="0155", postal_city="Oslo"
    )
    obj = CollectionCaseFactory(creditor=creditor, debtor=debtor, **fields)
    LedgerEntry.objects.create(
        case=obj,
        kind=LedgerEntry.Kind.PRINCIPAL,
        amount=Decimal(principal),
        booked_on=dt.date(2025, 1, 1),
    )
    if created:
        CollectionCase.objects.filter(pk=obj.pk).update(created_at=at(created))
        obj.refresh_from_db()
    return obj


def close(obj, *, reason, on: dt.date):
    CollectionCase.objects.filter(pk=obj.pk).update(
        status=Status.CLOSED, close_reason=reason, closed_at=at(on)
    )


def entry(obj, kind, amount, on=dt.date(2025, 1, 1)):
    return LedgerEntry.objects.create(case=obj, kind=kind, amount=Decimal(amount), booked_on=on)


def payment(obj, *, paid_on: dt.date, parts: dict[str, str]):
    """A payment received by the agency and allocated over ``parts`` (component → amount)."""
    total = sum(Decimal(v) for v in parts.values())
    pay = Payment.objects.create(
        source=Payment.Source.MANUAL,
        external_reference=f"ref-{next(_refs)}",
        amount=total,
        paid_on=paid_on,
        case=obj,
        status=Payment.Status.ALLOCATED,
    )
    for component, amount in parts.items():
        ledger = entry(obj, LedgerEntry.Kind.PAYMENT, f"-{amount}", paid_on)
        PaymentAllocation.objects.create(
            payment=pay, case=obj, component=component, amount=Decimal(amount), ledger_entry=ledger
        )
        if component == PaymentAllocation.Component.OVERPAYMENT:
            entry(obj, LedgerEntry.Kind.REFUND_DUE, amount, paid_on)
    return pay


def letter(obj, kind, on=dt.date(2025, 1, 1)):
    return Letter.objects.create(case=obj, kind=kind, step=kind, sent_on=on, deadline=on)


def settlement(
    creditor, *, on: dt.date, payout: str, status=Settlement.PayoutStatus.PAID, **fields
):
    amount = Decimal(payout)
    values = dict(
        creditor=creditor,
        settled_on=on,
        period_start=on,
        period_end=on,
        bookkeeping_mode=creditor.bookkeeping_mode,
        vat_registered=True,
        interest_to=creditor.interest_to,
        vat_percent=Decimal("25.00"),
        collected=amount,
        principal=amount,
        interest=0,
        fees=0,
        salaer=0,
        interest_to_creditor=0,
        commission=0,
        vat=0,
        payout=amount,
        payout_status=status,
    )
    values.update(fields)
    return Settlement.objects.create(**values)

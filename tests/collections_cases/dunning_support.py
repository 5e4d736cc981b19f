"""Helpers for the dunning-run tests: cases opened through the services on a given day, and
runs with the clock frozen on the run's date (Europe/Oslo)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from collections_cases.cases import services
from collections_cases.dunning.services import dunning_run
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory

OSLO = ZoneInfo("Europe/Oslo")


def on_day(day: dt.date, hour: int = 6):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=OSLO), tick=False)


def run(day: dt.date, **kwargs):
    with on_day(day):
        return dunning_run(on=day, **kwargs)


def open_case(
    *,
    opened_on: dt.date,
    due: dt.date,
    amount: str = "10000.00",
    debtor=None,
    needs_approval: bool = False,
    **debtor_fields,
) -> CollectionCase:
    with on_day(opened_on, hour=10):
        debtor = debtor or DebtorFactory(**debtor_fields)
        invoice = InvoiceFactory(
            debtor=debtor,
            invoice_date=due - dt.timedelta(days=14),
            due_date=due,
            total_amount=Decimal(amount),
        )
        return services.case_create(
            creditor=debtor.creditor,
            debtor=debtor,
            invoices=[invoice],
            needs_approval=needs_approval,
        )


def snapshot(case: CollectionCase) -> tuple:
    """Everything a run could change about a case."""
    case.refresh_from_db()
    return (
        case.status,
        case.stage,
        case.approval_kind,
        case.next_action,
        case.next_action_date,
        Letter.objects.filter(case=case).count(),
        LedgerEntry.objects.filter(case=case).count(),
        CaseEvent.objects.filter(case=case).count(),
    )


def letters(case: CollectionCase) -> list[tuple]:
    return [
        (letter.kind, letter.step, letter.sent_on, letter.deadline, letter.fee)
        for letter in Letter.objects.filter(case=case).order_by("sent_on", "id")
    ]


def costs(case: CollectionCase) -> list[tuple]:
    return [
        (entry.booked_on, entry.kind, entry.amount)
        for entry in LedgerEntry.objects.filter(case=case)
        .exclude(kind=LedgerEntry.Kind.PRINCIPAL)
        .order_by("booked_on", "id")
    ]

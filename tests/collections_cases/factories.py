import datetime as dt
import itertools
import uuid
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from collections_cases import rules
from collections_cases.models import CollectionCase, Invoice, LedgerEntry
from creditors.models import Debtor
from tests.factories import CreditorFactory

_case_serial = itertools.count(900_000)


class DebtorFactory(DjangoModelFactory):
    class Meta:
        model = Debtor

    creditor = factory.SubFactory(CreditorFactory)
    pogo_id = factory.Sequence(lambda n: 10_000 + n)
    customer_number = factory.Sequence(lambda n: 10_000 + n)
    name = factory.Sequence(lambda n: f"Ola Nordmann {n}")
    is_person = True
    email = factory.Sequence(lambda n: f"skyldner{n}@example.no")


class InvoiceFactory(DjangoModelFactory):
    class Meta:
        model = Invoice

    debtor = factory.SubFactory(DebtorFactory)
    creditor = factory.SelfAttribute("debtor.creditor")
    pogo_id = factory.LazyFunction(uuid.uuid4)
    invoice_no = factory.Sequence(lambda n: 1000 + n)
    voucher_type = "OutgoingInvoice"
    invoice_date = dt.date(2026, 9, 1)
    due_date = dt.date(2026, 9, 15)
    total_amount = Decimal("1000.00")
    balance = factory.SelfAttribute("total_amount")


def _case_number(_obj):
    return f"K-2099-{next(_case_serial):06d}"


class CollectionCaseFactory(DjangoModelFactory):
    """A case in any state, written directly (tests of services start from here)."""

    class Meta:
        model = CollectionCase

    debtor = factory.SubFactory(DebtorFactory)
    creditor = factory.SelfAttribute("debtor.creditor")
    number = factory.LazyAttribute(_case_number)
    kid = factory.LazyAttribute(
        lambda o: rules.kid_mod10(o.number.replace("K-", "").replace("-", ""))
    )
    status = CollectionCase.Status.ACTIVE
    stage = CollectionCase.Stage.INKASSOVARSEL
    next_action = CollectionCase.NextAction.SEND_INKASSOVARSEL
    next_action_date = dt.date(2026, 10, 1)


class LedgerEntryFactory(DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    case = factory.SubFactory(CollectionCaseFactory)
    kind = LedgerEntry.Kind.PRINCIPAL
    amount = Decimal("1000.00")
    booked_on = dt.date(2026, 10, 1)

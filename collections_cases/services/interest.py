"""Forsinkelsesrente on a case, booked as ledger entries by the dunning run.

Interest is accrued per invoice (FRL: it runs from each claim's own due date) and booked as one
``interest`` ledger entry per invoice and accrual, linked to the invoice. The period of an
accrual runs from the day after the invoice's last accrual (its latest ``interest`` entry's
``booked_on``; the due date before the first) up to and including the accrual date, at the
rates of :func:`collections_cases.rules.late_interest` (each day at the rate in force on it,
actual/365), rounded half up to øre per accrual.

Choices where the reference is silent:

* The base of an accrual is the invoice's outstanding principal on the accrual date: its
  ``principal`` entry less the direct payments and credit notes booked against it. Reductions
  booked on the case without an invoice are allocated to the invoices oldest due date first.
  A reduction thus lowers the base for the whole period since the last accrual — a few øre in
  the debtor's favour, never against.
* Rounding per accrual (not once over the whole life of the claim) can differ from one
  rounding of the total by at most half an øre per accrual.
* Payments to the agency (``payment``) are allocated costs → interest → principal elsewhere and
  do not change the base here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.models import CollectionCase, Invoice, LedgerEntry
from collections_cases.selectors import PRINCIPAL_KINDS
from kravia_web.money import to_ore

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InvoiceAccrual:
    invoice: Invoice
    principal: Decimal
    accrued_until: date
    amount: Decimal


def invoice_due_date(invoice: Invoice) -> date:
    """Interest runs from the agreed due date; an invoice without one uses its invoice date."""
    return invoice.due_date or invoice.invoice_date


def invoice_principals(case: CollectionCase) -> list[tuple[Invoice, Decimal]]:
    """The outstanding principal of each of the case's invoices, oldest due date first."""
    per_invoice = dict(
        LedgerEntry.objects.filter(case=case, kind__in=PRINCIPAL_KINDS, invoice__isnull=False)
        .order_by()
        .values_list("invoice_id")
        .annotate(total=Sum("amount"))
    )
    unattributed = (
        LedgerEntry.objects.filter(
            case=case, kind__in=PRINCIPAL_KINDS, invoice__isnull=True
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return principals_from(case.invoices.all(), per_invoice=per_invoice, unattributed=unattributed)


def principals_from(invoices, *, per_invoice: dict, unattributed) -> list[tuple[Invoice, Decimal]]:
    """:func:`invoice_principals` from loaded rows (the dunning run loads them per batch):
    ``per_invoice`` the principal entries' sum per invoice id, ``unattributed`` the sum of
    those without an invoice."""
    invoices = sorted(invoices, key=lambda i: (invoice_due_date(i), i.pk))
    unattributed = to_ore(unattributed)
    result = []
    for invoice in invoices:
        principal = to_ore(per_invoice.get(invoice.pk) or 0)
        if unattributed < 0 and principal > 0:
            taken = min(principal, -unattributed)
            principal -= taken
            unattributed += taken
        result.append((invoice, principal))
    return result


def interest_due(case: CollectionCase, *, on: date) -> list[InvoiceAccrual]:
    """What :func:`case_accrue_interest` would book on ``on`` (nothing is written)."""
    last_accrual = dict(
        LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.INTEREST)
        .order_by()
        .values_list("invoice_id")
        .annotate(last=Max("booked_on"))
    )
    return accruals_from(invoice_principals(case), last_accrual=last_accrual, on=on)


def accruals_from(
    principals: list[tuple[Invoice, Decimal]], *, last_accrual: dict, on: date
) -> list[InvoiceAccrual]:
    """:func:`interest_due` from loaded rows: ``last_accrual`` the latest ``interest`` entry's
    ``booked_on`` per invoice id."""
    accruals = []
    for invoice, principal in principals:
        start = max(invoice_due_date(invoice), last_accrual.get(invoice.pk) or date.min)
        if principal <= 0 or on <= start:
            continue
        amount = rules.late_interest(principal=principal, due_date=start, until=on)
        if amount > 0:
            accruals.append(InvoiceAccrual(invoice, principal, start, amount))
    return accruals


def accrual_description(accrual: InvoiceAccrual, *, on: date) -> str:
    """The text of one accrual's ``interest`` ledger entry."""
    return _("Forsinkelsesrente faktura %(number)s, %(start)s–%(end)s") % {
        "number": accrual.invoice.invoice_no,
        "start": accrual.accrued_until.strftime("%d.%m.%Y"),
        "end": on.strftime("%d.%m.%Y"),
    }


def accrual_entry(case: CollectionCase, accrual: InvoiceAccrual, *, on: date) -> LedgerEntry:
    """The (unsaved) ``interest`` ledger entry of one accrual."""
    return LedgerEntry(
        case=case,
        invoice=accrual.invoice,
        kind=LedgerEntry.Kind.INTEREST,
        amount=accrual.amount,
        booked_on=on,
        description=accrual_description(accrual, on=on),
    )


def case_accrue_interest(case: CollectionCase, *, on: date) -> Decimal:
    """Book the interest accrued up to ``on`` on the (locked) case; returns the total booked.

    Call only when the case may get costs and the debtor has not opted out of interest.
    """
    accruals = interest_due(case, on=on)
    LedgerEntry.objects.bulk_create(accrual_entry(case, a, on=on) for a in accruals)
    return sum((a.amount for a in accruals), start=ZERO)

"""Forsinkelsesrente on a case: on the principal still outstanding, day by day.

The convention (``shared/reference/norwegian-collection-rules.md`` §§ 4, 4b, and
:func:`collections_cases.rules.late_interest_periods`): interest runs per invoice from its own
due date, each day at the rate in force that day, actual/365, on the invoice's principal still
outstanding that day. A reduction on day *p* lowers the base from *p* + 1:

* a payment's principal part (its allocation, dated the payment's ``paid_on``; a payment the
  bank reversed counts for nothing), spread over the invoices oldest due date first;
* a credit note, a direct payment to the creditor or a write-off, from its ``booked_on``,
  on its invoice (or oldest first when it names none).

What is booked
    An accrual on day *T* books, per invoice, the difference between the interest of the
    whole claim up to *T* (rounded half up to øre once, on the total) and what is booked for
    the invoice already (``interest`` entries less ``interest_correction`` entries). So the
    ledger always holds the rounded total of the convention, whatever the number of
    accruals. When a reduction becomes known only after interest was booked past its day (a
    bank file that arrives after a letter, a credit note dated back), the difference is
    negative and is booked as an ``interest_correction`` credit, never more than the interest
    still unpaid.

Limitation
    Interest expires accrual by accrual (reference § 5): a day more than three years before
    the accrual date is not charged, unless the limitation was interrupted (a part-payment,
    an acknowledgement …) after that day — then the whole claim, its interest included, runs
    three years from the interruption (``CollectionCase.limitation_interrupted_on``).

Unknown rates
    A day after the rate table's end (:func:`collections_cases.rules.late_interest_rate_known_until`)
    raises :class:`collections_cases.rules.RuleUnknown`: the dunning run holds its step.
    Payment allocation accrues only up to the last known day (:func:`known_accrual_day`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.models import (
    CollectionCase,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from kravia_web.money import to_ore

ZERO = Decimal("0.00")
Kind = LedgerEntry.Kind

#: Ledger credits that lower an invoice's interest base from their ``booked_on``.
REDUCTION_KINDS = (Kind.DIRECT_PAYMENT, Kind.CREDIT_NOTE, Kind.WRITE_OFF)
#: Ledger kinds whose sum per invoice is the interest booked on it.
INTEREST_KINDS = (Kind.INTEREST, Kind.INTEREST_CORRECTION)


@dataclass
class InvoiceInterest:
    """One invoice's interest facts: its principal, what lowered it and when, what is booked."""

    invoice: Invoice
    principal: Decimal = ZERO
    reductions: list[tuple[date, Decimal]] = field(default_factory=list)
    booked: Decimal = ZERO
    last_booked_on: date | None = None
    #: Interest of the claim paid by the payments (their ``interest`` allocations).
    paid: Decimal = ZERO


@dataclass(frozen=True)
class InvoiceAccrual:
    """What one accrual books on one invoice: ``amount > 0`` interest, ``< 0`` a correction."""

    invoice: Invoice
    accrued_from: date
    amount: Decimal


def invoice_due_date(invoice: Invoice) -> date:
    """Interest runs from the agreed due date; an invoice without one uses its invoice date."""
    return invoice.due_date or invoice.invoice_date


# --------------------------------------------------------------------------------------------
# Facts, from loaded rows (the dunning batch loads them for 500 cases at once) or per case
# --------------------------------------------------------------------------------------------


def interest_facts(
    invoices,
    *,
    principal_by_invoice: dict[int, Decimal],
    reductions: list[tuple[date, Decimal, int | None]],
    booked_by_invoice: dict[int | None, Decimal],
    last_by_invoice: dict[int | None, date],
) -> list[InvoiceInterest]:
    """Each invoice's :class:`InvoiceInterest`, oldest due date first.

    ``principal_by_invoice``: the ``principal`` entries' sum per invoice; ``reductions``:
    ``(day, amount > 0, invoice id or None)``; ``booked_by_invoice`` / ``last_by_invoice``:
    the interest booked per invoice and the latest ``interest`` entry's ``booked_on``.
    """
    invoices = sorted(invoices, key=lambda i: (invoice_due_date(i), i.pk))
    rows = [
        (i.pk, invoice_due_date(i), to_ore(principal_by_invoice.get(i.pk) or 0)) for i in invoices
    ]
    rows = [(pk, due, max(principal, ZERO)) for pk, due, principal in rows]
    spread = rules.reductions_by_invoice(rows, [(d, to_ore(a), k) for d, a, k in reductions])
    return [
        InvoiceInterest(
            invoice=invoice,
            principal=principal,
            reductions=spread[invoice.pk],
            booked=to_ore(booked_by_invoice.get(invoice.pk) or 0),
            last_booked_on=last_by_invoice.get(invoice.pk),
        )
        for invoice, (_pk, _due, principal) in zip(invoices, rows, strict=True)
    ]


def principal_reductions(case_ids, *, known_at: datetime | None = None) -> dict[int, list]:
    """Per case, ``(day, amount > 0, invoice id or None)`` of everything that lowered its
    principal: credit notes, direct payments and write-offs, and the principal parts of
    payments not reversed. ``known_at``: only what was recorded by then (a letter's view)."""
    result: dict[int, list] = defaultdict(list)
    entries = LedgerEntry.objects.filter(case_id__in=case_ids, kind__in=REDUCTION_KINDS)
    allocations = PaymentAllocation.objects.filter(
        case_id__in=case_ids, component=PaymentAllocation.Component.PRINCIPAL
    ).exclude(payment__status=Payment.Status.REVERSED)
    if known_at is not None:
        entries = entries.filter(created_at__lte=known_at)
        allocations = allocations.filter(created_at__lte=known_at)
    for case_id, invoice_id, day, amount in entries.values_list(
        "case_id", "invoice_id", "booked_on", "amount"
    ):
        result[case_id].append((day, -to_ore(amount), invoice_id))
    for case_id, day, amount in allocations.values_list("case_id", "payment__paid_on", "amount"):
        result[case_id].append((day, to_ore(amount), None))
    return result


def case_interest_facts(
    case: CollectionCase, *, known_at: datetime | None = None
) -> list[InvoiceInterest]:
    """:func:`interest_facts` of one case, read from its ledger."""
    entries = LedgerEntry.objects.filter(case=case)
    if known_at is not None:
        entries = entries.filter(created_at__lte=known_at)
    principal_by_invoice = dict(
        entries.filter(kind=Kind.PRINCIPAL, invoice__isnull=False)
        .order_by()
        .values_list("invoice_id")
        .annotate(total=Sum("amount"))
    )
    booked, last = {}, {}
    for invoice_id, kind, total, latest in (
        entries.filter(kind__in=INTEREST_KINDS)
        .order_by()
        .values_list("invoice_id", "kind")
        .annotate(total=Sum("amount"), latest=Max("booked_on"))
    ):
        booked[invoice_id] = booked.get(invoice_id, ZERO) + to_ore(total or 0)
        if kind == Kind.INTEREST:
            last[invoice_id] = latest
    return interest_facts(
        case.invoices.all(),
        principal_by_invoice=principal_by_invoice,
        reductions=principal_reductions([case.pk], known_at=known_at).get(case.pk, []),
        booked_by_invoice=booked,
        last_by_invoice=last,
    )


# --------------------------------------------------------------------------------------------
# Computing
# --------------------------------------------------------------------------------------------


def interest_facts_from_rows(
    invoices, entries, principal_parts: list[tuple[date, Decimal]]
) -> list[InvoiceInterest]:
    """:func:`case_interest_facts` of one case from rows already read (a letter reads its
    case's ledger once for everything it prints).

    ``entries``: the case's ledger entries as ``(invoice_id, kind, amount, booked_on)`` in
    ``booked_on, id`` order (other kinds are ignored); ``principal_parts``: ``(paid_on,
    amount)`` of the principal allocations of payments not reversed, in ``payment, id`` order
    within a day. Both as known at one moment, as :func:`case_interest_facts`'s ``known_at``.
    """
    principal_by_invoice: dict[int, Decimal] = {}
    totals: dict[tuple, Decimal] = {}
    latest: dict[tuple, date] = {}
    reductions = []
    for invoice_id, kind, amount, booked_on in entries:
        if kind == Kind.PRINCIPAL:
            if invoice_id is not None:
                principal_by_invoice[invoice_id] = (
                    principal_by_invoice.get(invoice_id, ZERO) + amount
                )
        elif kind in INTEREST_KINDS:
            key = (invoice_id, kind)
            totals[key] = totals.get(key, ZERO) + amount
            if key not in latest or booked_on > latest[key]:
                latest[key] = booked_on
        elif kind in REDUCTION_KINDS:
            reductions.append((booked_on, -to_ore(amount), invoice_id))
    booked, last = {}, {}
    for (invoice_id, kind), total in totals.items():
        booked[invoice_id] = booked.get(invoice_id, ZERO) + to_ore(total)
        if kind == Kind.INTEREST:
            last[invoice_id] = latest[(invoice_id, kind)]
    reductions.extend((day, to_ore(amount), None) for day, amount in principal_parts)
    return interest_facts(
        invoices,
        principal_by_invoice=principal_by_invoice,
        reductions=reductions,
        booked_by_invoice=booked,
        last_by_invoice=last,
    )


def interest_not_before(case: CollectionCase, *, on: date) -> date | None:
    """The first day whose interest may still be charged on ``on`` (limitation, reference
    § 5), or ``None`` when every day may."""
    cutoff = rules.add_years(on, -rules.LIMITATION_YEARS.at(on))
    interrupted = case.limitation_interrupted_on
    if interrupted is not None and interrupted > cutoff:
        return None
    return cutoff + timedelta(days=1)


def invoice_interest_total(facts: InvoiceInterest, *, until: date, not_before=None) -> Decimal:
    """The invoice's interest from its due date up to ``until``, rounded once."""
    return rules.late_interest(
        principal=facts.principal,
        due_date=invoice_due_date(facts.invoice),
        until=until,
        reductions=facts.reductions,
        not_before=not_before,
    )


def accruals_from(
    facts: list[InvoiceInterest], *, on: date, not_before: date | None = None
) -> list[InvoiceAccrual]:
    """What an accrual on ``on`` books per invoice: the total up to ``on`` less what is booked.
    A negative difference (a reduction known late) is a correction, never more than the
    invoice's interest still unpaid (``facts.paid``). :class:`rules.RuleUnknown` past the
    rate table's end."""
    accruals = []
    for f in facts:
        due = invoice_due_date(f.invoice)
        if on <= due:
            continue
        difference = invoice_interest_total(f, until=on, not_before=not_before) - f.booked
        if difference < 0:
            difference = -min(-difference, max(f.booked - f.paid, ZERO))
        if difference != 0:
            start = max(due, f.last_booked_on or due) + timedelta(days=1)
            accruals.append(InvoiceAccrual(f.invoice, min(start, on), difference))
    return accruals


def accrual_description(accrual: InvoiceAccrual, *, on: date) -> str:
    """The text of one accrual's ledger entry."""
    values = {
        "number": accrual.invoice.invoice_no,
        "start": accrual.accrued_from.strftime("%d.%m.%Y"),
        "end": on.strftime("%d.%m.%Y"),
    }
    if accrual.amount < 0:
        return (
            _(
                "Rentekorreksjon faktura %(number)s: hovedstolen ble redusert tidligere enn "
                "renten var beregnet (til %(end)s)"
            )
            % values
        )
    return _("Forsinkelsesrente faktura %(number)s, %(start)s–%(end)s") % values


def accrual_row(case_id: int, accrual: InvoiceAccrual, *, on: date) -> tuple:
    """The ledger entry of one accrual as ``(case_id, invoice_id, kind, amount, booked_on,
    description)`` (the dunning batch's columns)."""
    kind = Kind.INTEREST if accrual.amount > 0 else Kind.INTEREST_CORRECTION
    return (
        case_id,
        accrual.invoice.pk,
        kind,
        accrual.amount,
        on,
        accrual_description(accrual, on=on)[:200],
    )


def spread_interest_paid(facts: list[InvoiceInterest], paid: Decimal) -> None:
    """Fill ``facts.paid`` from the interest the case's payments paid (``paid``): a payment
    pays the case, not an invoice, so it is spread over the invoices oldest due date first."""
    for f in facts:
        f.paid = min(paid, max(f.booked, ZERO))
        paid -= f.paid


def case_interest_paid(case: CollectionCase) -> Decimal:
    """The interest parts of the case's payments the bank did not reverse."""
    return to_ore(
        PaymentAllocation.objects.filter(case=case, component=PaymentAllocation.Component.INTEREST)
        .exclude(payment__status=Payment.Status.REVERSED)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )


def case_accrue_interest(case: CollectionCase, *, on: date) -> Decimal:
    """Book the interest accrued up to ``on`` on the (locked) case; returns the net booked.

    Call only when the case may get costs and the debtor has not opted out of interest.
    :class:`rules.RuleUnknown` when ``on`` is past the rate table's end.
    """
    facts = case_interest_facts(case)
    spread_interest_paid(facts, case_interest_paid(case))
    accruals = accruals_from(facts, on=on, not_before=interest_not_before(case, on=on))
    columns = ("case_id", "invoice_id", "kind", "amount", "booked_on", "description")
    LedgerEntry.objects.bulk_create(
        LedgerEntry(**dict(zip(columns, accrual_row(case.pk, a, on=on), strict=True)))
        for a in accruals
    )
    return sum((a.amount for a in accruals), start=ZERO)


def known_accrual_day(on: date) -> date:
    """``on``, or the last day the rate table knows when ``on`` is later."""
    return min(on, rules.late_interest_rate_known_until())


def interest_periods(
    case: CollectionCase,
    *,
    until: date,
    known_at: datetime | None = None,
    facts: list[InvoiceInterest] | None = None,
) -> list[tuple[Invoice, list[rules.InterestPeriod]]]:
    """Per invoice, the periods of its interest up to ``until`` (rate and base each), as
    known at ``known_at`` (a letter's creation; ``None``: now) — what letters show.
    Days past the rate table's end are left out (they are not charged until it is known).
    ``facts``: the case's :func:`case_interest_facts` at ``known_at`` when already at hand."""
    if facts is None:
        facts = case_interest_facts(case, known_at=known_at)
    until = known_accrual_day(until)
    not_before = interest_not_before(case, on=until)
    return [
        (
            f.invoice,
            rules.late_interest_periods(
                principal=f.principal,
                due_date=invoice_due_date(f.invoice),
                until=until,
                reductions=f.reductions,
                not_before=not_before,
            ),
        )
        for f in facts
    ]

"""Reads of cases, always scoped to the creditors the user is a member of."""

from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from collections_cases.models import (
    CollectionCase,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from creditors.models import Creditor
from kravia_web.money import to_ore

Kind = LedgerEntry.Kind

#: Entries that make up the outstanding principal: the claim itself, less what the creditor
#: received directly or credited. Payments to the agency are allocated over the components
#: (costs → interest → principal): their principal parts are subtracted too
#: (:func:`case_principal_outstanding`).
PRINCIPAL_KINDS = (Kind.PRINCIPAL, Kind.DIRECT_PAYMENT, Kind.CREDIT_NOTE)


def case_list_for_user(
    *,
    user,
    creditor: Creditor | None = None,
    status: str | None = None,
    search: str = "",
) -> QuerySet[CollectionCase]:
    """The user's cases (any of their creditors, or just ``creditor``), with ``balance``."""
    qs = (
        CollectionCase.objects.filter(
            creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
        )
        .select_related("creditor", "debtor")
        .with_balance()
    )
    if creditor is not None:
        qs = qs.filter(creditor=creditor)
    if status:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        match = Q(number__icontains=search) | Q(kid=search) | Q(debtor__name__icontains=search)
        if search.isdigit():
            match |= Q(
                pk__in=Invoice.objects.filter(invoice_no=int(search), case__isnull=False).values(
                    "case_id"
                )
            )
        qs = qs.filter(match)
    return qs


def case_get_for_user(*, user, case_id: int) -> CollectionCase:
    """One of the user's cases; Http404 for a case of a creditor they are not a member of."""
    return get_object_or_404(case_list_for_user(user=user), pk=case_id)


def _sum(entries) -> Decimal:
    return to_ore(entries.aggregate(total=Sum("amount"))["total"] or 0)


def case_balance(case: CollectionCase) -> Decimal:
    """What the debtor owes on the case: the sum of its ledger entries."""
    return _sum(LedgerEntry.objects.filter(case=case))


def principal_paid_allocations() -> QuerySet[PaymentAllocation]:
    """The allocations that count as principal paid: principal parts of payments the bank
    did not reverse (filter them by case)."""
    return PaymentAllocation.objects.filter(
        component=PaymentAllocation.Component.PRINCIPAL
    ).exclude(payment__status=Payment.Status.REVERSED)


def principal_paid_by_payments(case_ids) -> dict[int, Decimal]:
    """Per case, the principal parts of its payments the bank did not reverse (positive)."""
    rows = (
        principal_paid_allocations()
        .filter(case_id__in=case_ids)
        .order_by()
        .values_list("case_id")
        .annotate(total=Sum("amount"))
    )
    return {case_id: to_ore(total or 0) for case_id, total in rows}


def case_principal_outstanding(case: CollectionCase) -> Decimal:
    """The principal less credit notes, direct payments and the principal parts of the
    payments not reversed: what interest runs on and salær is banded by."""
    paid = principal_paid_by_payments([case.pk]).get(case.pk, Decimal("0.00"))
    return _sum(LedgerEntry.objects.filter(case=case, kind__in=PRINCIPAL_KINDS)) - paid


def case_kind_totals(*, case_id: int) -> QuerySet:
    """``(kind, total)`` of the case's ledger entries, one row per kind it has."""
    return (
        LedgerEntry.objects.filter(case_id=case_id)
        .order_by()
        .values_list("kind")
        .annotate(total=Sum("amount"))
    )


def case_amounts(
    case: CollectionCase,
    *,
    principal_paid: Decimal | None = None,
    kind_totals: list[tuple[str, Decimal]] | None = None,
) -> dict[str, Decimal]:
    """The balance broken down: one signed total per ledger kind (0 when none), the
    outstanding principal and the balance. The case page reads its parts its own way
    (``page_selectors.case_breakdown``) and passes them: ``principal_paid``, the case's
    ``principal_paid_by_payments``, and ``kind_totals``, the rows of ``case_kind_totals``."""
    if principal_paid is None:
        principal_paid = principal_paid_by_payments([case.pk]).get(case.pk, Decimal("0.00"))
    if kind_totals is None:
        kind_totals = list(case_kind_totals(case_id=case.pk))
    totals = dict.fromkeys(Kind.values, Decimal("0.00"))
    for kind, total in kind_totals:
        totals[kind] = to_ore(total)
    totals["principal_outstanding"] = (
        sum((totals[k] for k in PRINCIPAL_KINDS), start=Decimal("0.00")) - principal_paid
    )
    #: Interest net of corrections (what the debtor owes as interest before payments).
    totals["interest_net"] = totals[Kind.INTEREST] + totals[Kind.INTEREST_CORRECTION]
    totals["balance"] = sum((totals[k] for k in Kind.values), start=Decimal("0.00"))
    return totals

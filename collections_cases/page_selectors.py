"""Reads for the Kundeweb pages (Saker, Klar for inkasso, Skyldnere), always scoped to one
creditor the user is a member of. Every list is one query per page whatever its length:
balances and counts are annotations, related rows come with ``select_related``."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from collections_cases.models import (
    ZERO,
    CaseEvent,
    CollectionCase,
    InOre,
    Invoice,
    LedgerEntry,
    Letter,
    LetterDelivery,
)
from collections_cases.selectors import case_amounts, case_list_for_user
from collections_cases.states import OPEN_STATUSES, TRANSITIONS
from creditors.models import Creditor, Debtor
from creditors.selectors import creditor_list_for_user

Status = CollectionCase.Status
Kind = LedgerEntry.Kind

PAID_KINDS = (Kind.PAYMENT, Kind.DIRECT_PAYMENT)


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


def _ledger_total(kinds=None):
    """The sum of a case's ledger entries (of ``kinds``), 0 without any: a correlated subquery,
    so PostgreSQL computes it for the 50 rows of a page after sorting and limiting, not for
    every case of the creditor (a join + GROUP BY summed all of them: 1.3 s at 100 000
    cases, docs/performance.md), and the page count needs no join at all."""
    entries = LedgerEntry.objects.filter(case=OuterRef("pk"))
    if kinds is not None:
        entries = entries.filter(kind__in=kinds)
    total = entries.order_by().values("case").annotate(total=Sum("amount")).values("total")
    return InOre(Coalesce(Subquery(total), ZERO))


def case_page_list(
    *, user, creditor: Creditor, every_balance: bool = False
) -> QuerySet[CollectionCase]:
    """The creditor's cases for the *Saker* list and its export, with ``balance``,
    ``principal`` (claimed) and ``paid`` (to the agency or directly, negative) annotated;
    filters and sorting come from ``collections_cases.lists``. Scoped as
    ``case_list_for_user``.

    A page needs 50 balances: per-row subqueries, computed after the sort and limit. When
    every balance is needed anyway (sorting or filtering by balance, an export), one join on
    the ledger grouped by case is cheaper than 100 000 subqueries (docs/performance.md)."""
    cases = (
        CollectionCase.objects.filter(
            creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
        )
        .filter(creditor=creditor)
        .select_related("creditor", "debtor")
    )
    if every_balance:
        return cases.with_balance().annotate(
            principal=InOre(
                Coalesce(
                    Sum("ledger_entries__amount", filter=Q(ledger_entries__kind=Kind.PRINCIPAL)),
                    ZERO,
                )
            ),
            paid=InOre(
                Coalesce(
                    Sum("ledger_entries__amount", filter=Q(ledger_entries__kind__in=PAID_KINDS)),
                    ZERO,
                )
            ),
        )
    return cases.annotate(
        balance=_ledger_total(),
        principal=_ledger_total([Kind.PRINCIPAL]),
        paid=_ledger_total(PAID_KINDS),
    )


def case_page_get(*, user, case_id: int) -> CollectionCase:
    """One of the user's cases with its creditor and debtor; Http404 for anyone else's."""
    qs = case_list_for_user(user=user).select_related("debtor__creditor")
    try:
        return qs.get(pk=case_id)
    except CollectionCase.DoesNotExist:
        raise Http404 from None


def case_breakdown(case: CollectionCase) -> dict[str, Decimal]:
    """The balance broken down the way the case page shows it: what was claimed
    (principal, interest, fees, salær) and what came off it (payments, reductions)."""
    totals = case_amounts(case)
    return {
        "principal": totals[Kind.PRINCIPAL],
        "interest": totals[Kind.INTEREST],
        "fees": totals[Kind.FEE],
        "salaer": totals[Kind.SALAER],
        "refund_due": totals[Kind.REFUND_DUE],
        "payments": totals[Kind.PAYMENT],
        "direct_payments": totals[Kind.DIRECT_PAYMENT],
        "reductions": totals[Kind.CREDIT_NOTE] + totals[Kind.WRITE_OFF] + totals[Kind.REDUCTION],
        "principal_outstanding": totals["principal_outstanding"],
        "balance": totals["balance"],
    }


def case_invoices(case: CollectionCase) -> QuerySet[Invoice]:
    return case.invoices.order_by("due_date", "invoice_no")


def case_letters(case: CollectionCase) -> QuerySet[Letter]:
    """The letters the dunning run recorded, newest first, with their deliveries (one query)."""
    return case.letters.order_by("-sent_on", "-id").prefetch_related(
        Prefetch("deliveries", queryset=LetterDelivery.objects.order_by("created_at", "id"))
    )


def case_timeline(case: CollectionCase) -> QuerySet[CaseEvent]:
    """Newest first, with the acting user in the same query."""
    return case.events.select_related("actor").order_by("-at", "-id")


def case_allowed_actions(case: CollectionCase) -> set[str]:
    """The page actions the state machine allows in the case's current status."""
    actions = {"note"}
    approval = case.status == Status.AWAITING_APPROVAL
    if approval and case.approval_kind in (
        CollectionCase.ApprovalKind.START,
        CollectionCase.ApprovalKind.PAYMENT_DEMAND,
    ):
        actions.add("approve")
    if approval and case.approval_kind == CollectionCase.ApprovalKind.LEGAL:
        actions.add("approve_legal")
    for action in ("pause", "resume", "mark_disputed", "resolve_dispute", "withdraw"):
        if case.status in TRANSITIONS[action]:
            actions.add(action)
    if case.status != Status.CLOSED:
        actions.add("direct_payment")
    return actions


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------


def invoices_ready_for_collection(*, creditor: Creditor) -> QuerySet[Invoice]:
    """Overdue (due before today in Oslo), unpaid NOK invoices not yet in a case, of debtors
    who allow collection: transferable in PowerOffice Go and not opted out here."""
    return (
        Invoice.objects.filter(
            creditor=creditor,
            case__isnull=True,
            balance__gt=0,
            currency="NOK",
            due_date__lt=timezone.localdate(),
            debtor__transfer_to_debt_collection_agency=True,
            debtor__collection_opt_out=False,
        )
        .select_related("debtor")
        .order_by("debtor__name", "debtor_id", "due_date", "invoice_no")
    )


def cases_open_for_more_invoices(*, creditor: Creditor, debtors) -> dict[int, CollectionCase]:
    """Per debtor id, its newest case that may still take more invoices: not yet past the
    inkassovarsel (``case_add_invoices`` has the last word)."""
    not_started = Q(
        status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.START
    )
    early = Q(status__in=[Status.ACTIVE, Status.PAUSED], stage=CollectionCase.Stage.INKASSOVARSEL)
    cases = CollectionCase.objects.filter(creditor=creditor, debtor__in=debtors).filter(
        not_started | early
    )
    found: dict[int, CollectionCase] = {}
    for case in cases.order_by("created_at", "pk"):
        found[case.debtor_id] = case
    return found


# --------------------------------------------------------------------------------------------
# Skyldnere
# --------------------------------------------------------------------------------------------


def debtor_page_list(*, creditor: Creditor) -> QuerySet[Debtor]:
    """The creditor's debtors with ``open_cases`` and ``outstanding`` (the open cases'
    balance). One join chain debtor → case → ledger entry, so the sum counts each entry once.
    Filters and sorting come from ``collections_cases.lists``."""
    open_cases = Q(cases__status__in=OPEN_STATUSES)
    return Debtor.objects.filter(creditor=creditor).annotate(
        open_cases=Count("cases", filter=open_cases, distinct=True),
        outstanding=InOre(Coalesce(Sum("cases__ledger_entries__amount", filter=open_cases), ZERO)),
    )


def debtor_page_get(*, user, debtor_id: int) -> Debtor:
    """One of the user's creditors' debtors, with its open cases; Http404 otherwise."""
    qs = Debtor.objects.filter(
        creditor__in=creditor_list_for_user(user=user).values("pk")
    ).select_related("creditor")
    try:
        return qs.prefetch_related(
            Prefetch(
                "cases",
                queryset=CollectionCase.objects.with_balance().order_by("-created_at"),
                to_attr="case_list",
            )
        ).get(pk=debtor_id)
    except Debtor.DoesNotExist:
        raise Http404 from None

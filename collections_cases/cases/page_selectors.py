"""Reads for the Kundeweb pages (Saker, Klar for inkasso, Skyldnere), always scoped to one
creditor the user is a member of. Every list is one query per page whatever its length:
balances and counts are annotations, related rows come with ``select_related``."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import connections
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from collections_cases.cases.counts import case_counts
from collections_cases.cases.selectors import case_amounts
from collections_cases.cases.states import OPEN_STATUSES, TRANSITIONS
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
from creditors.models import Creditor, Debtor
from creditors.selectors import creditor_list_for_user
from kravia_web.money import format_nok

Status = CollectionCase.Status
Kind = LedgerEntry.Kind

# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


def case_page_list(*, user, creditor: Creditor) -> QuerySet[CollectionCase]:
    """The creditor's cases for the *Saker* list and its export, with ``balance``,
    ``principal`` (claimed) and ``paid`` (to the agency or directly, negative) annotated;
    filters and sorting come from ``collections_cases.lists``. Scoped as
    ``case_list_for_user``.

    The three amounts are the ledger's totals the database's triggers keep on each case
    (``CollectionCase.stored_*``), so sorting and filtering by balance use an index instead
    of summing every case's entries (1.5 s at 100 000 cases, docs/performance.md)."""
    return (
        CollectionCase.objects.filter(
            creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
        )
        .filter(creditor=creditor)
        .select_related("debtor")
        .annotate(
            balance=F("stored_balance"),
            principal=F("stored_principal"),
            paid=F("stored_paid"),
        )
    )


def case_page_count(*, creditor: Creditor, filterset) -> int | None:
    """The number of cases the Saker list shows for ``filterset`` (a ``CaseFilter`` over
    ``case_page_list``) when it is known without counting them: the whole list or a status
    (``CaseCount``, kept by triggers), or a search that found its cases' ids. None when
    another filter narrows the list (the pager counts)."""
    active = filterset.active_filters()
    if active is None:
        return None
    if set(active) == {"q"} and filterset.search_matches is not None:
        return filterset.search_matches
    if not set(active) <= {"status", "only_open"}:
        return None
    statuses = set(Status.values)
    if "status" in active:
        statuses &= {active["status"]}
    if active.get("only_open"):
        statuses &= set(OPEN_STATUSES)
    return case_counts(creditor_id=creditor.pk).of(statuses)


_CASES = CollectionCase._meta.db_table
_DEBTORS = Debtor._meta.db_table
_INVOICES = Invoice._meta.db_table


def case_search_ids(
    *, creditor_id: int, term: str, word: str | None, digits: str, limit: int
) -> list[int]:
    """Ids of the creditor's cases (at most ``limit``, in no order, possibly repeated) whose
    number contains ``term``, whose debtor's name contains it (found by ``word``, a part of
    it, when given: ``filters.telling_word``), whose KID is ``digits``, whose debtor's
    organisation number is ``digits``, or — ``digits`` a whole number — with an invoice of
    that number. One ``UNION ALL`` of index lookups (trigram indexes on ``upper(number)`` and
    ``upper(name)``), written as SQL: built with the ORM (five querysets and their union) it
    took ≈ 4 ms of CPU per search, most of a search page's Python (docs/performance.md).
    ``contains`` as Django's ``icontains``: LIKE wildcards in the term are escaped."""
    connection = connections[CollectionCase.objects.db]
    escape = "" if connection.vendor == "postgresql" else " ESCAPE '\\'"
    contains = f"%{connection.ops.prep_for_like_query(term)}%"
    name_match = f"UPPER(CAST(d.name AS TEXT)) LIKE UPPER(%s){escape}"
    name_params: list = [contains]
    if word:
        # The index asked for the word; ``name || ''`` (not the indexed expression) tests
        # the whole term on the rows it finds.
        name_match += f" AND UPPER(CAST(d.name || '' AS TEXT)) LIKE UPPER(%s){escape}"
        name_params = [f"%{connection.ops.prep_for_like_query(word)}%", contains]
    parts = [
        f"SELECT c.id FROM {_CASES} AS c WHERE c.creditor_id = %s"  # noqa: S608
        f" AND UPPER(CAST(c.number AS TEXT)) LIKE UPPER(%s){escape}",
        f"SELECT c.id FROM {_CASES} AS c WHERE c.creditor_id = %s AND c.debtor_id IN"  # noqa: S608
        f" (SELECT d.id FROM {_DEBTORS} AS d WHERE d.creditor_id = %s AND {name_match})",
        f"SELECT c.id FROM {_CASES} AS c WHERE c.creditor_id = %s AND c.kid = %s",  # noqa: S608
        f"SELECT c.id FROM {_CASES} AS c WHERE c.creditor_id = %s AND c.debtor_id IN"  # noqa: S608
        f" (SELECT d.id FROM {_DEBTORS} AS d WHERE d.org_number = %s)",
    ]
    params: list = [creditor_id, contains, creditor_id, creditor_id, *name_params]
    params += [creditor_id, digits, creditor_id, digits]
    if digits.isdigit() and len(digits) <= 18:
        parts.append(
            f"SELECT c.id FROM {_CASES} AS c WHERE c.creditor_id = %s AND c.id IN"  # noqa: S608
            f" (SELECT i.case_id FROM {_INVOICES} AS i"
            f" WHERE i.case_id IS NOT NULL AND i.invoice_no = %s)"
        )
        params += [creditor_id, int(digits)]
    sql = " UNION ALL ".join(parts) + " LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]


class CaseRow(TypedDict):
    """One row of the Saker table with every value already turned into display text: the
    table renders 50 of them per page, and doing the choice labels, dates and amounts here
    (each label translated once per page, not once per cell) keeps the template one plain
    loop (docs/performance.md). A dict, read as ``row["key"]`` by the rows' template
    (``templates/jinja2/collections_cases/_case_rows.html``): an item lookup, not an attribute
    lookup that fails first."""

    url: str
    number: str
    debtor_name: str
    status_badge: str  # the badge's CSS class
    status_label: str
    detail_label: str  # the stage of an open case, the close reason of a closed one
    closed: bool
    balance: str
    next_action_label: str
    next_action_date: str
    created: str


#: The badge colour of each status (as ``_status_badge.html``).
STATUS_BADGES = {
    Status.ACTIVE: "badge ok",
    Status.AWAITING_APPROVAL: "badge warn",
    Status.PAUSED: "badge warn",
    Status.DISPUTED: "badge danger",
    Status.LEGAL: "badge danger",
}


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


#: A stand-in id: ``reverse`` of it gives the case page's address around any id.
_URL_PK = 987654321


def case_page_rows(cases) -> list[CaseRow]:
    """Display rows for a page of ``case_page_list`` read as dicts of
    ``CASE_LIST.page_values`` (``kravia_web.listing``), in the current language."""
    language = get_language() or "nb"
    statuses = _labels(Status.choices)
    stages = _labels(CollectionCase.Stage.choices)
    reasons = _labels(CollectionCase.CloseReason.choices)
    actions = _labels(CollectionCase.NextAction.choices)
    # The case page's address resolved once per page, not once per row.
    url_head, _, url_tail = reverse("case_detail", args=[_URL_PK]).partition(str(_URL_PK))
    rows = []
    for case in cases:
        status = case["status"]
        closed = status == Status.CLOSED
        rows.append(
            CaseRow(
                url=f"{url_head}{int(case['pk'])}{url_tail}",
                number=case["number"],
                debtor_name=case["debtor__name"],
                status_badge=STATUS_BADGES.get(status, "badge"),
                status_label=statuses.get(status, status),
                detail_label=(
                    reasons.get(case["close_reason"], case["close_reason"])
                    if closed
                    else stages.get(case["stage"], case["stage"])
                ),
                closed=closed,
                balance=format_nok(case["balance"], language),
                next_action_label=actions.get(case["next_action"], case["next_action"]),
                next_action_date=_date(case["next_action_date"]),
                created=_date(timezone.localtime(case["created_at"])),
            )
        )
    return rows


def _date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def case_page_get(*, user, case_id: int) -> CollectionCase:
    """One of the user's cases with its creditor and debtor; Http404 for anyone else's.
    Scoped as ``case_list_for_user``, without its ``balance`` (a join on the ledger grouped
    by every column of the case, creditor and debtor): the page shows ``case_breakdown``."""
    qs = CollectionCase.objects.filter(
        creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
    ).select_related("creditor", "debtor__creditor")
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
        "interest": totals["interest_net"],
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
    inkassovarsel and not time-barred (``case_add_invoices`` has the last word)."""
    not_started = Q(
        status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.START
    )
    early = Q(status__in=[Status.ACTIVE, Status.PAUSED], stage=CollectionCase.Stage.INKASSOVARSEL)
    cases = (
        CollectionCase.objects.filter(creditor=creditor, debtor__in=debtors)
        .filter(not_started | early)
        .exclude(limitation_date__lte=timezone.localdate())
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

"""Reads for the Kundeweb pages (Saker, Klar for inkasso, Skyldnere), always scoped to one
creditor the user is a member of. Every list is one query per page whatever its length:
balances and counts are annotations, related rows come with ``select_related``."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from collections_cases.cases.counts import case_counts
from collections_cases.cases.prepared import PreparedQuery
from collections_cases.cases.selectors import (
    case_amounts,
    case_kind_totals,
    principal_paid_allocations,
)
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
    Payment,
    PaymentPlan,
)
from creditors.models import Creditor, Debtor, Membership
from creditors.selectors import creditor_list_for_user
from integrations.selectors import pogo_refusals
from kravia_web.money import format_nok, to_ore

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
    if not set(active) <= {"status", "only_open", "balance_min", "balance_max"}:
        return None
    statuses = set(Status.values)
    if "status" in active:
        statuses &= {active["status"]}
    if active.get("only_open"):
        statuses &= set(OPEN_STATUSES)
    total = case_counts(creditor_id=creditor.pk).of(statuses)
    outside = Q()
    if "balance_min" in active:
        outside |= Q(stored_balance__lt=active["balance_min"])
    if "balance_max" in active:
        outside |= Q(stored_balance__gt=active["balance_max"])
    if not outside or total == 0:
        return total
    return _count_within_by_those_outside(creditor, statuses, outside, total)


def _count_within_by_those_outside(creditor, statuses, outside: Q, total: int) -> int | None:
    """The cases of ``statuses`` within the balance bounds, as ``total`` (the kept counts)
    less those outside them, when those are fewer than half: a bound most cases meet
    (``balance_min=1000``) would otherwise count nearly every case of the creditor (97 000
    index entries, ≈ 20 ms of PostgreSQL's CPU at full scale). None (the pager counts those
    within) when at least half are outside; the capped count stops reading there."""
    cap = total // 2 + 1
    outside_count = (
        CollectionCase.objects.filter(creditor_id=creditor.pk, status__in=statuses)
        .filter(outside)
        .order_by()[:cap]
        .count()
    )
    return None if outside_count >= cap else total - outside_count


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


#: The case's columns the case page shows or needs (``case_page_detail``); a narrower select
#: compiles and converts in a fraction of the time of the whole row (docs/performance.md).
CASE_PAGE_FIELDS = (
    "creditor_id",
    "debtor_id",
    "number",
    "kid",
    "status",
    "stage",
    "approval_kind",
    "pause_reason",
    "paused_until",
    "dispute_reason",
    "close_reason",
    "close_note",
    "closed_at",
    "next_action",
    "next_action_date",
    "limitation_date",
    "pogo_case_id",
    "created_at",
)


def _case_page_query(*, user_id: int, case_id: int) -> QuerySet[CollectionCase]:
    refusals = pogo_refusals(OuterRef("pk"))
    paid = (
        principal_paid_allocations()
        .filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        CollectionCase.objects.filter(
            # The same scope as ``case_page_get``, one table less to plan.
            creditor_id__in=Membership.objects.filter(user_id=user_id).values("creditor_id"),
            pk=case_id,
        )
        .only(*CASE_PAGE_FIELDS)
        .annotate(
            debtor_name=F("debtor__name"),
            principal_paid=Coalesce(Subquery(paid), ZERO),
            has_payments=Exists(
                Payment.objects.filter(
                    case=OuterRef("pk"),
                    status__in=[Payment.Status.ALLOCATED, Payment.Status.REFUNDED],
                )
            ),
            has_payment_plans=Exists(PaymentPlan.objects.filter(case=OuterRef("pk"))),
            has_letters=Exists(Letter.objects.filter(case=OuterRef("pk"))),
            # NULL without a failed creation (``last_error`` itself is never NULL).
            pogo_refusal_error=Subquery(refusals.values("last_error")[:1]),
        )
        .order_by()  # one row: no sort by the model's ordering
    )


def _case_page_invoices(*, case_id: int) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(case_id=case_id)
        .only("invoice_no", "invoice_date", "due_date", "total_amount", "balance")
        .order_by("due_date", "invoice_no")
    )


def _case_page_letters(*, case_id: int) -> QuerySet[Letter]:
    return (
        Letter.objects.filter(case_id=case_id)
        .only("case_id", "kind", "sent_on", "deadline", "fee", "amounts")
        .order_by("-sent_on", "-id")
    )


def _case_page_events(*, case_id: int) -> QuerySet[CaseEvent]:
    return (
        CaseEvent.objects.filter(case_id=case_id)
        .only("at", "actor_id", "actor_label", "kind", "message", "status_from", "status_to")
        .annotate(
            actor_first_name=F("actor__first_name"),
            actor_last_name=F("actor__last_name"),
            actor_email=F("actor__email"),
        )
        .order_by("-at", "-id")
    )


#: The case page's queries, compiled once per process (``collections_cases.cases.prepared``):
#: the ORM's building and compiling was most of the page's CPU.
_CASE_PAGE = PreparedQuery(_case_page_query, "user_id", "case_id")
_CASE_PAGE_INVOICES = PreparedQuery(_case_page_invoices, "case_id")
_CASE_PAGE_LETTERS = PreparedQuery(_case_page_letters, "case_id")
_CASE_PAGE_EVENTS = PreparedQuery(_case_page_events, "case_id")
_CASE_KIND_TOTALS = PreparedQuery(case_kind_totals, "case_id")


def case_page_detail(*, user, case_id: int) -> CollectionCase:
    """The case page's case in one query: scoped as ``case_page_get`` (Http404 for anyone
    else's case), only the columns the page shows (``CASE_PAGE_FIELDS``; other fields load
    on access), and annotated with what would otherwise each be a query of its own:

    - ``debtor_name``;
    - ``principal_paid``: ``principal_paid_by_payments`` of the case (for ``case_breakdown``);
    - ``has_payments`` / ``has_payment_plans`` / ``has_letters``: whether the page's payments,
      payment-plan and letters sections have rows to read at all (most cases have no
      payments or plans, a new case no letters);
    - ``pogo_refusal_error``: the ``last_error`` of ``integrations.selectors.case_pogo_refusal``
      (the newest failed creation in PoGo; it counts only while the case has no PoGo id),
      None when there is none.

    Meant for rendering the page; actions load the whole case with ``case_page_get``."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise Http404 from None
    case = next(iter(_CASE_PAGE.raw(user_id=user.pk, case_id=case_id)), None)
    if case is None:
        raise Http404
    # Annotations come back as the database gives them (``Manager.raw`` converts fields only).
    case.principal_paid = to_ore(str(case.principal_paid))
    case.has_payments = bool(case.has_payments)
    case.has_payment_plans = bool(case.has_payment_plans)
    case.has_letters = bool(case.has_letters)
    return case


def case_page_invoices(case: CollectionCase) -> list[Invoice]:
    """``case_invoices`` with the columns the case page shows."""
    return list(_CASE_PAGE_INVOICES.raw(case_id=case.pk))


def case_page_letters(case: CollectionCase) -> list[Letter]:
    """``case_letters`` with the columns the case page shows, deliveries prefetched."""
    if not case.has_letters:
        return []
    letters = list(_CASE_PAGE_LETTERS.raw(case_id=case.pk))
    if letters:
        prefetch_related_objects(letters, _deliveries())
    return letters


def case_page_payment_plans(case: CollectionCase) -> None:
    """Read the payment plans of a case from ``case_page_detail`` that has any, with their
    instalments and deciding users, into ``case.payment_plans.all`` (two queries)."""
    if case.has_payment_plans:
        plans = PaymentPlan.objects.select_related("decided_by").prefetch_related("instalments")
        prefetch_related_objects([case], Prefetch("payment_plans", queryset=plans))


def case_page_timeline(case: CollectionCase) -> list[CaseEvent]:
    """``case_timeline`` with the columns the case page shows; ``actor_name`` is the acting
    user's full name (``get_full_name``), their e-mail address when they have none."""
    events = list(_CASE_PAGE_EVENTS.raw(case_id=case.pk))
    for event in events:
        full_name = f"{event.actor_first_name or ''} {event.actor_last_name or ''}".strip()
        event.actor_name = full_name or event.actor_email or ""
    return events


def case_breakdown(case: CollectionCase) -> dict[str, Decimal]:
    """The balance broken down the way the case page shows it: what was claimed
    (principal, interest, fees, salær) and what came off it (payments, reductions).
    A case from ``case_page_detail`` brings its ``principal_paid``, and its totals per kind
    are read by a query compiled once per process (``prepared``)."""
    paid = getattr(case, "principal_paid", None)
    if paid is None:
        totals = case_amounts(case)
    else:
        # The driver's sums, unconverted: exact decimals from PostgreSQL, SQLite's floats
        # through their shortest repr (amounts in øre), as Django's converter would.
        rows = [(kind, str(total)) for kind, total in _CASE_KIND_TOTALS.rows(case_id=case.pk)]
        totals = case_amounts(case, principal_paid=paid, kind_totals=rows)
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
    return case.letters.order_by("-sent_on", "-id").prefetch_related(_deliveries())


def _deliveries() -> Prefetch:
    return Prefetch("deliveries", queryset=LetterDelivery.objects.order_by("created_at", "id"))


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

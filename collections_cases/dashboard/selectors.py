"""Reads for *Oversikt* (the dashboard): what needs the creditor, the totals and the chart series.

Every figure is aggregated in the database (``values().annotate()``, ``TruncMonth``,
conditional ``Count``/``Sum``): the number of queries is the same for ten cases or ten
thousand, and for one creditor or all of an accountant's clients. Callers pass creditors the
user is a member of (``creditors.selectors.creditor_active_for_request`` /
``creditor_list_for_user``); nothing here widens that scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collections_cases.cases import limitation
from collections_cases.cases.states import OPEN_STATUSES
from collections_cases.models import (
    CollectionCase,
    LedgerEntry,
    Letter,
    PaymentAllocation,
    PaymentPlan,
    Settlement,
)
from creditors.models import Creditor, Debtor
from kravia_web.money import format_nok, to_ore

Status = CollectionCase.Status
ApprovalKind = CollectionCase.ApprovalKind
CloseReason = CollectionCase.CloseReason
EntryStep = Creditor.EntryStep

ZERO = Decimal("0.00")
#: Closed this way, the debtor paid (to us or to the creditor).
PAID_REASONS = (CloseReason.PAID, CloseReason.PAID_DIRECTLY)
#: How many cases, debtors or settlements a task shows before "and N more".
TASK_ITEMS = 5
#: Legal approvals are decided in bulk on the page: it lists this many to pick from.
LEGAL_TASK_ITEMS = 50
CHART_MONTHS = 12

# The order the status chart lists statuses in: the way a case moves.
STATUS_ORDER = (
    Status.AWAITING_APPROVAL,
    Status.ACTIVE,
    Status.PAUSED,
    Status.DISPUTED,
    Status.LEGAL,
    Status.MONITORING,
    Status.CLOSED,
)


def month_starts(today: dt.date, months: int = CHART_MONTHS) -> list[dt.date]:
    """The first day of each of the last ``months`` months, oldest first, ending with today's."""
    year, month = today.year, today.month
    starts = []
    for _i in range(months):
        starts.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return starts[::-1]


def _as_date(value) -> dt.date:
    """``TruncMonth`` gives a date for a DateField and an aware datetime for a DateTimeField."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --------------------------------------------------------------------------------------------
# Aggregates per creditor (one query each, for any number of creditors)
# --------------------------------------------------------------------------------------------


def collected_by_month(*, creditor_ids, since: dt.date) -> dict[int, dict[dt.date, Decimal]]:
    """Per creditor id and month: what debtors paid on its cases since ``since``.

    Two sources (two queries): payments received by the agency, as allocated to the cases
    (without the overpayment that goes back to the debtor), by the payment's date; and direct
    payments to the creditor registered on a case (ledger ``direct_payment``), by booking date.
    """
    totals: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    allocated = (
        PaymentAllocation.objects.filter(
            case__creditor_id__in=creditor_ids, payment__paid_on__gte=since
        )
        .exclude(component=PaymentAllocation.Component.OVERPAYMENT)
        .annotate(month=TruncMonth("payment__paid_on"))
        .order_by()
        .values("case__creditor_id", "month")
        .annotate(total=Sum("amount"))
    )
    for row in allocated:
        totals[row["case__creditor_id"]][_as_date(row["month"])] += to_ore(row["total"])
    direct = (
        LedgerEntry.objects.filter(
            case__creditor_id__in=creditor_ids,
            kind=LedgerEntry.Kind.DIRECT_PAYMENT,
            booked_on__gte=since,
        )
        .annotate(month=TruncMonth("booked_on"))
        .order_by()
        .values("case__creditor_id", "month")
        .annotate(total=Sum("amount"))
    )
    for row in direct:
        # Credits are negative in the ledger.
        totals[row["case__creditor_id"]][_as_date(row["month"])] -= to_ore(row["total"])
    return totals


def case_counts(*, creditor_ids) -> dict[int, dict[tuple[str, str], int]]:
    """Per creditor id: the number of cases per (status, approval kind)."""
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    rows = (
        CollectionCase.objects.filter(creditor_id__in=creditor_ids)
        .order_by()
        .values("creditor_id", "status", "approval_kind")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["creditor_id"]][(row["status"], row["approval_kind"])] = row["n"]
    return counts


def outstanding(*, creditor_ids) -> dict[int, Decimal]:
    """Per creditor id: the balance of its open cases (the sum of their ledger entries)."""
    rows = (
        LedgerEntry.objects.filter(
            case__creditor_id__in=creditor_ids, case__status__in=OPEN_STATUSES
        )
        .order_by()
        .values("case__creditor_id")
        .annotate(total=Sum("amount"))
    )
    return {row["case__creditor_id"]: to_ore(row["total"] or 0) for row in rows}


def payouts(*, creditor_ids, year_start: dt.date) -> dict[int, dict[str, Decimal]]:
    """Per creditor id: settlements paid out this year, in total, and still to be paid out."""
    paid = Q(payout_status=Settlement.PayoutStatus.PAID)
    rows = (
        Settlement.objects.filter(creditor_id__in=creditor_ids)
        .order_by()
        .values("creditor_id")
        .annotate(
            paid_year=Sum("payout", filter=paid & Q(settled_on__gte=year_start)),
            paid_total=Sum("payout", filter=paid),
            pending=Sum("payout", filter=Q(payout_status=Settlement.PayoutStatus.PENDING)),
        )
    )
    return {
        row["creditor_id"]: {
            key: to_ore(row[key] or 0) for key in ("paid_year", "paid_total", "pending")
        }
        for row in rows
    }


# --------------------------------------------------------------------------------------------
# Totals
# --------------------------------------------------------------------------------------------


@dataclass
class Totals:
    creditor: Creditor
    open_cases: int = 0
    outstanding: Decimal = ZERO
    collected_month: Decimal = ZERO
    collected_year: Decimal = ZERO
    paid_out_year: Decimal = ZERO
    paid_out_total: Decimal = ZERO
    pending_payout: Decimal = ZERO
    awaiting_approval: int = 0
    disputed: int = 0
    cases_total: int = 0


def totals_for_creditors(*, creditors, today: dt.date | None = None) -> list[Totals]:
    """One row of totals per creditor, in the order given (four queries in all)."""
    today = today or timezone.localdate()
    creditors = list(creditors)
    ids = [c.pk for c in creditors]
    month_start = today.replace(day=1)
    year_start = today.replace(month=1, day=1)
    collected = collected_by_month(creditor_ids=ids, since=year_start)
    counts = case_counts(creditor_ids=ids)
    balances = outstanding(creditor_ids=ids)
    paid = payouts(creditor_ids=ids, year_start=year_start)
    rows = []
    for creditor in creditors:
        by_key = counts.get(creditor.pk, {})
        months = collected.get(creditor.pk, {})
        payout = paid.get(creditor.pk, {})
        rows.append(
            Totals(
                creditor=creditor,
                open_cases=sum(n for (s, _k), n in by_key.items() if s in OPEN_STATUSES),
                outstanding=balances.get(creditor.pk, ZERO),
                collected_month=months.get(month_start, ZERO),
                collected_year=sum(months.values(), start=ZERO),
                paid_out_year=payout.get("paid_year", ZERO),
                paid_out_total=payout.get("paid_total", ZERO),
                pending_payout=payout.get("pending", ZERO),
                awaiting_approval=sum(
                    n for (s, _k), n in by_key.items() if s == Status.AWAITING_APPROVAL
                ),
                disputed=sum(n for (s, _k), n in by_key.items() if s == Status.DISPUTED),
                cases_total=sum(by_key.values()),
            )
        )
    return rows


def dashboard_totals(*, creditor: Creditor, today: dt.date | None = None) -> Totals:
    return totals_for_creditors(creditors=[creditor], today=today)[0]


# --------------------------------------------------------------------------------------------
# Chart series
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    label: str
    value: Decimal | float | int | None
    key: str = ""
    #: A second figure shown in the table alternative (e.g. how many cases an average covers).
    extra: int | None = None


def month_label(month: dt.date) -> str:
    from django.utils.dateformat import format as date_format

    # "N" is Django's localised month abbreviation ("jan.", "sep."); "M" is three letters.
    return f"{date_format(month, 'M')} {month:%y}"


def collected_per_month(*, creditor: Creditor, today: dt.date | None = None) -> list[Point]:
    """The last 12 months, oldest first (a month with nothing collected is 0)."""
    today = today or timezone.localdate()
    months = month_starts(today)
    totals = collected_by_month(creditor_ids=[creditor.pk], since=months[0]).get(creditor.pk, {})
    return [
        Point(label=month_label(m), value=totals.get(m, ZERO), key=m.isoformat()) for m in months
    ]


def cases_by_status(*, creditor: Creditor) -> list[Point]:
    counts = case_counts(creditor_ids=[creditor.pk]).get(creditor.pk, {})
    by_status: dict[str, int] = defaultdict(int)
    for (status, _kind), n in counts.items():
        by_status[status] += n
    return [
        Point(label=str(Status(status).label), value=by_status.get(status, 0), key=status)
        for status in STATUS_ORDER
    ]


def average_days_to_payment(*, creditor: Creditor, today: dt.date | None = None) -> list[Point]:
    """Per month of the last 12 (by the day the case closed): the average number of days from
    the case's start to its closing as paid; ``None`` for a month when no case closed paid."""
    today = today or timezone.localdate()
    months = month_starts(today)
    since = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    rows = (
        CollectionCase.objects.filter(
            creditor=creditor,
            status=Status.CLOSED,
            close_reason__in=PAID_REASONS,
            closed_at__gte=since,
        )
        .annotate(
            month=TruncMonth("closed_at"),
            took=ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()),
        )
        .order_by()
        .values("month")
        .annotate(total=Sum("took"), n=Count("pk"))
    )
    per_month = {}
    for row in rows:
        total = row["total"]
        if isinstance(total, int | float):  # a backend that sums durations as microseconds
            total = dt.timedelta(microseconds=total)
        per_month[_as_date(row["month"])] = (total, row["n"])
    points = []
    for month in months:
        total, n = per_month.get(month, (None, 0))
        average = round(total.total_seconds() / 86400 / n, 1) if n else None
        points.append(
            Point(label=month_label(month), value=average, key=month.isoformat(), extra=n)
        )
    return points


def recovery_by_entry_step(*, creditor: Creditor) -> list[Point]:
    """Per entry step: the share (percent) of closed cases that closed paid.

    A case has no field for the step it started at, but stages only move forward and a case
    that starts at the inkassovarsel gets one before it moves on: it started there if it has
    an inkassovarsel letter or is still at that stage; otherwise at the betalingsoppfordring.
    ``extra`` is the number of closed cases the share is taken of.
    """
    varsel = Letter.objects.filter(case=OuterRef("pk"), kind=Letter.Kind.INKASSOVARSEL)
    rows = (
        CollectionCase.objects.filter(creditor=creditor, status=Status.CLOSED)
        .annotate(
            entry=Case(
                When(
                    Q(stage=CollectionCase.Stage.INKASSOVARSEL) | Exists(varsel),
                    then=Value(EntryStep.INKASSOVARSEL.value),
                ),
                default=Value(EntryStep.BETALINGSOPPFORDRING.value),
            )
        )
        .order_by()
        .values("entry")
        .annotate(closed=Count("pk"), paid=Count("pk", filter=Q(close_reason__in=PAID_REASONS)))
    )
    by_step = {row["entry"]: (row["closed"], row["paid"]) for row in rows}
    points = []
    for step in EntryStep:
        closed, paid = by_step.get(step.value, (0, 0))
        rate = round(100 * paid / closed, 1) if closed else None
        points.append(Point(label=str(step.label), value=rate, key=step.value, extra=closed))
    return points


# --------------------------------------------------------------------------------------------
# Tasks: what needs the creditor
# --------------------------------------------------------------------------------------------


@dataclass
class TaskItem:
    label: str
    detail: str
    url: str
    #: Set when the item is decided in *Trenger deg* itself (legal steps, payment plans).
    case_id: int | None = None
    plan_id: int | None = None


@dataclass
class Task:
    kind: str
    title: str
    help: str
    action: str
    count: int
    url: str = ""
    items: list[TaskItem] = field(default_factory=list)
    severity: str = "warn"
    #: The items' own link text when it differs from ``action`` (then ``action`` links to
    #: ``url`` in the task's head).
    item_action: str = ""

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)


def _case_items(cases) -> list[TaskItem]:
    return [
        TaskItem(
            label=f"{case.number} – {case.debtor.name}",
            detail=case.get_stage_display(),
            url=reverse("case_detail", args=[case.pk]) + "#handlinger",
            case_id=case.pk,
        )
        for case in cases
    ]


def _case_task(
    *, creditor, status, q, kind, count, title, help_text, action, limit=TASK_ITEMS
) -> Task | None:
    if not count:
        return None
    cases = (
        CollectionCase.objects.filter(creditor=creditor)
        .filter(status=status)
        .filter(q)
        .select_related("debtor")
        .order_by("updated_at", "pk")[:limit]
    )
    return Task(
        kind=kind,
        title=title,
        help=help_text,
        action=action,
        count=count,
        url=f"{reverse('case_list')}?status={status}",
        items=_case_items(cases),
    )


def dashboard_tasks(
    *, creditor: Creditor, connection=None, today: dt.date | None = None
) -> list[Task]:
    """The things only the creditor can do, most urgent first; empty when nothing waits.

    ``connection`` is the creditor's PowerOffice Go connection (or None), read by the caller
    through ``integrations.selectors`` (``collections_cases`` does not import ``integrations``).
    """
    today = today or timezone.localdate()
    counts = case_counts(creditor_ids=[creditor.pk]).get(creditor.pk, {})
    awaiting = Status.AWAITING_APPROVAL
    tasks: list[Task | None] = []
    for approval_kind, title, help_text, action in (
        (
            ApprovalKind.START,
            _("Saker som venter på godkjenning"),
            _("Du har valgt å godkjenne hver sak før den starter. Godkjenn eller trekk tilbake."),
            _("Godkjenn"),
        ),
        (
            ApprovalKind.PAYMENT_DEMAND,
            _("Betalingsoppfordringer som venter på godkjenning"),
            _("Saken står stille til du godkjenner betalingsoppfordringen."),
            _("Godkjenn"),
        ),
        (
            ApprovalKind.LEGAL,
            _("Rettslige tiltak som venter på godkjenning"),
            _(
                "Skyldner har ikke betalt etter varsel om rettslig inndriving. Vi går bare "
                "videre når du godkjenner."
            ),
            _("Vurder rettslige tiltak"),
        ),
    ):
        count = counts.get((awaiting, approval_kind.value), 0)
        tasks.append(
            _case_task(
                creditor=creditor,
                status=awaiting,
                q=Q(approval_kind=approval_kind),
                kind=f"approval_{approval_kind.value}",
                count=count,
                title=title,
                help_text=help_text,
                action=action,
                limit=LEGAL_TASK_ITEMS if approval_kind == ApprovalKind.LEGAL else TASK_ITEMS,
            )
        )
    tasks.insert(0, _plan_request_task(creditor))
    disputed = sum(n for (s, _k), n in counts.items() if s == Status.DISPUTED)
    tasks.append(
        _case_task(
            creditor=creditor,
            status=Status.DISPUTED,
            q=Q(),
            kind="disputed",
            count=disputed,
            title=_("Omtvistede saker"),
            help_text=_(
                "Skyldner har innsigelser. Saken er stanset til du har sett på innsigelsen og "
                "avklart den – eller trukket saken."
            ),
            action=_("Se innsigelsen"),
        )
    )
    tasks.extend(_limitation_tasks(creditor, today))
    tasks.append(_debtor_task(creditor))
    tasks.append(_connection_task(creditor, connection))
    tasks.append(_blocked_settlement_task(creditor))
    tasks.append(_payout_hold_task(creditor, today))
    return [task for task in tasks if task is not None]


def _plan_request_task(creditor: Creditor) -> Task | None:
    """Payment plans a debtor asked for on Min side: accepted or declined right here."""
    plans = (
        PaymentPlan.objects.filter(case__creditor=creditor, status=PaymentPlan.Status.REQUESTED)
        .select_related("case__debtor")
        .annotate(instalment_count=Count("instalments"), first_due=Min("instalments__due_date"))
        .order_by("requested_at", "pk")
    )
    found = list(plans[: TASK_ITEMS + 1])
    if not found:
        return None
    count = len(found) if len(found) <= TASK_ITEMS else plans.count()
    return Task(
        kind="payment_plan_requested",
        title=ngettext(
            "Én skyldner ønsker betalingsplan",
            "Skyldnere som ønsker betalingsplan",
            count,
        ),
        help=_(
            "Skyldner har bedt om å betale i månedlige avdrag. Godtar du, settes saken på vent "
            "så lenge planen følges; avslår du, ser skyldner begrunnelsen på Min side."
        ),
        action=_("Se saken"),
        count=count,
        url=f"{reverse('case_list')}?status={Status.ACTIVE}",
        items=[
            TaskItem(
                label=f"{plan.case.number} – {plan.case.debtor.name}",
                detail=_("%(count)d avdrag fra %(first)s, til sammen %(total)s")
                % {
                    "count": plan.instalment_count,
                    "first": plan.first_due.strftime("%d.%m.%Y") if plan.first_due else "–",
                    "total": format_nok(plan.total),
                },
                url=reverse("case_detail", args=[plan.case_id]),
                case_id=plan.case_id,
                plan_id=plan.pk,
            )
            for plan in found[:TASK_ITEMS]
        ],
    )


def _payout_hold_task(creditor: Creditor, today: dt.date) -> Task | None:
    """Payouts wait after the payout account changed, until another owner confirms it."""
    if not creditor.payout_hold_active(on=today):
        return None
    return Task(
        kind="payout_held",
        title=_("Utbetalinger holdes tilbake"),
        help=_(
            "Kontonummeret for utbetaling er endret, og vi utbetaler ikke før etter "
            "%(date)s. En annen eier enn den som endret det kan bekrefte det nye kontonummeret."
        )
        % {"date": creditor.payout_hold_until.strftime("%d.%m.%Y")},
        action=_("Se utbetalingene"),
        count=1,
        url=reverse("settlement_list") + "#kontonummer-endret",
    )


def pending_plan_get(*, user, plan_id: int) -> PaymentPlan:
    """A payment plan on a case of one of the user's creditors; Http404 for anyone else's."""
    from django.http import Http404

    plan = (
        PaymentPlan.objects.filter(
            case__creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
        )
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


def legal_approval_cases(*, user, creditor: Creditor | None = None, case_ids=None) -> list:
    """Cases waiting for legal approval that the user may decide: every one of ``creditor``'s
    (*Godkjenn alle*), or exactly ``case_ids`` — Http404 when one of them is not a case of the
    user's creditors. A chosen case that no longer waits is returned too: the service refuses
    it and the page says so."""
    from django.http import Http404

    mine = CollectionCase.objects.filter(
        creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
    ).select_related("debtor")
    if case_ids is None:
        return list(
            mine.filter(
                creditor=creditor,
                status=Status.AWAITING_APPROVAL,
                approval_kind=ApprovalKind.LEGAL,
            ).order_by("updated_at", "pk")
        )
    wanted = set(case_ids)
    cases = list(mine.filter(pk__in=wanted).order_by("updated_at", "pk"))
    if len(cases) != len(wanted):
        raise Http404
    return cases


def _limitation_tasks(creditor: Creditor, today: dt.date) -> list[Task | None]:
    """Time-barred cases (held for a case handler) and cases whose limitation date is within
    60 days (``services.limitation``): the creditor may know of an acknowledgement or a
    part-payment, or want legal steps in time."""
    horizon = today + dt.timedelta(days=limitation.WARNING_DAYS)
    # One query when nothing is near (the usual case); the items only for what is.
    counts = (
        CollectionCase.objects.filter(creditor=creditor, limitation_date__lte=horizon)
        .exclude(status=Status.CLOSED)
        .aggregate(
            passed=Count("pk", filter=Q(limitation_date__lte=today)),
            near=Count("pk", filter=Q(limitation_date__gt=today)),
        )
    )
    tasks: list[Task | None] = []
    for kind, count, cases, title, help_text, detail, severity in (
        (
            "limitation_passed",
            counts["passed"],
            limitation.limitation_passed_cases(on=today, creditors=[creditor]),
            _("Foreldede krav"),
            _(
                "Foreldelsesdatoen er nådd uten at noe avbrudd er registrert. Sakene er satt "
                "på vent: vi sender ingen brev og legger ikke til kostnader. Si fra hvis "
                "skyldner har erkjent kravet eller betalt noe på det; ellers avslutter vi saken "
                "som foreldet."
            ),
            _("Foreldet %(date)s"),
            "danger",
        ),
        (
            "limitation_near",
            counts["near"],
            limitation.limitation_warning_cases(on=today, creditors=[creditor]),
            _("Saker som snart foreldes"),
            _(
                "Foreldelsesdatoen er innen %(days)d dager. Etter den sender vi ingen brev og "
                "tar ingen rettslige skritt, med mindre foreldelsen avbrytes: skyldner erkjenner "
                "kravet eller betaler noe på det, eller det sendes forliksklage eller begjæring "
                "om utlegg. Si fra hvis du vet om en erkjennelse eller betaling."
            )
            % {"days": limitation.WARNING_DAYS},
            _("Foreldes %(date)s"),
            "warn",
        ),
    ):
        if not count:
            tasks.append(None)
            continue
        found = list(cases.select_related("debtor")[:TASK_ITEMS])
        tasks.append(
            Task(
                kind=kind,
                title=title,
                help=help_text,
                action=_("Se saken"),
                count=count,
                url=reverse("case_list"),
                items=[
                    TaskItem(
                        label=f"{case.number} – {case.debtor.name}",
                        detail=detail % {"date": case.limitation_date.strftime("%d.%m.%Y")},
                        url=reverse("case_detail", args=[case.pk]),
                    )
                    for case in found
                ],
                severity=severity,
            )
        )
    return tasks


def _debtor_task(creditor: Creditor) -> Task | None:
    open_case = CollectionCase.objects.filter(debtor=OuterRef("pk"), status__in=OPEN_STATUSES)
    no_address = Q(address_line="") | Q(postal_code="") | Q(postal_city="")
    no_email = Q(email="") & Q(reminder_email="")
    debtors = (
        Debtor.objects.filter(creditor=creditor)
        .filter(Exists(open_case))
        .filter(no_address | no_email)
        .annotate(
            missing_address=Case(When(no_address, then=Value(True)), default=Value(False)),
            missing_email=Case(When(no_email, then=Value(True)), default=Value(False)),
        )
        .order_by("name", "pk")
    )
    found = list(debtors[: TASK_ITEMS + 1])
    if not found:
        return None
    count = len(found) if len(found) <= TASK_ITEMS else debtors.count()
    items = []
    for debtor in found[:TASK_ITEMS]:
        missing = []
        if debtor.missing_address:
            missing.append(_("postadresse"))
        if debtor.missing_email:
            missing.append(_("e-post"))
        items.append(
            TaskItem(
                label=debtor.name,
                detail=_("Mangler %(what)s") % {"what": _(" og ").join(missing)},
                url=reverse("debtor_detail", args=[debtor.pk]),
            )
        )
    return Task(
        kind="debtor_contact",
        title=_("Skyldnere uten fullstendig kontaktinformasjon"),
        help=_(
            "Uten postadresse kan vi ikke sende brev i posten, og uten e-post går brevene bare "
            "med post. Rett det i PowerOffice Go eller her."
        ),
        action=_("Legg inn kontaktinformasjon"),
        count=count,
        url=reverse("debtor_list"),
        items=items,
    )


def _connection_task(creditor: Creditor, connection) -> Task | None:
    url = reverse("creditor_poweroffice", args=[creditor.pk])
    if connection is None or not connection.is_connected:
        return Task(
            kind="connection_missing",
            title=_("PowerOffice Go er ikke koblet til"),
            help=_(
                "Koble til PowerOffice Go, så henter vi kunder og forfalte fakturaer og sender "
                "bilagsforslag for oppgjørene."
            ),
            action=_("Gi tilgang"),
            count=1,
            url=url,
            severity="info",
        )
    if connection.last_error:
        return Task(
            kind="connection_error",
            title=_("Integrasjonen med PowerOffice Go har en feil"),
            help=connection.last_error,
            action=_("Se integrasjonsstatus"),
            count=1,
            url=url + "#synkronisering",
            severity="danger",
        )
    return None


def _blocked_settlement_task(creditor: Creditor) -> Task | None:
    blocked = Settlement.objects.filter(
        creditor=creditor, voucher_status=Settlement.VoucherStatus.BLOCKED
    ).order_by("settled_on", "pk")
    found = list(blocked[: TASK_ITEMS + 1])
    if not found:
        return None
    count = len(found) if len(found) <= TASK_ITEMS else blocked.count()
    url = reverse("creditor_poweroffice", args=[creditor.pk]) + "#kontosjekk"
    return Task(
        kind="settlement_blocked",
        title=ngettext(
            "Et oppgjør kan ikke bokføres",
            "Oppgjør som ikke kan bokføres",
            count,
        ),
        help=_(
            "Bilagsforslaget er stoppet fordi en konto mangler eller er inaktiv i PowerOffice "
            "Go. Rett kontooppsettet, så sender vi bilaget på nytt."
        ),
        action=_("Rett kontoene"),
        item_action=_("Se oppgjøret"),
        count=count,
        url=url,
        items=[
            TaskItem(
                label=settlement.number,
                detail=settlement.voucher_error or settlement.get_voucher_status_display(),
                url=reverse("settlement_detail", args=[settlement.pk]),
            )
            for settlement in found[:TASK_ITEMS]
        ],
        severity="danger",
    )

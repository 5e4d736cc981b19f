"""*Oversikt*: the page a creditor lands on — tasks, totals and charts — and, for accountants,
all their creditors' totals side by side. Thin: selectors compute, ``kravia_web.charts`` draws."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collections_cases.cases import services as case_services
from collections_cases.dashboard import selectors
from collections_cases.dashboard.rule_warnings import rule_table_warnings
from collections_cases.portal.forms import PaymentPlanDecisionForm
from collections_cases.portal.kundeweb_views import DECISIONS as PLAN_DECISIONS
from creditors.selectors import creditor_active_for_request, creditor_list_for_user
from kravia_web.charts import bar_chart, column_chart, grouped
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

STATUS_COLORS = {
    "awaiting_approval": "#b54708",
    "active": "#0b5c57",
    "paused": "#5b6575",
    "disputed": "#b42318",
    "legal": "#6941c6",
    "monitoring": "#175cd3",
    "closed": "#98a2b3",
}


#: The width a phone's copy of each chart is drawn for (CSS shows one or the other).
PHONE_WIDTH = 360


@dataclass
class Chart:
    id: str
    title: str
    svg: tuple[SafeString | None, SafeString | None]  # (wide, phone)
    empty: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _draw(draw, **kwargs) -> tuple[SafeString | None, SafeString | None]:
    phone = {**kwargs, "chart_id": f"{kwargs['chart_id']}-phone", "width": PHONE_WIDTH}
    return draw(**kwargs), draw(**phone)


def _nok(value) -> str:
    return format_nok(value, get_language() or "nb")


def _days(value) -> str:
    return "–" if value is None else _("%(days)s dager") % {"days": grouped(value, 1)}


def _percent(value) -> str:
    return "–" if value is None else f"{grouped(value, 1)}\u00a0%"


def _collected_chart(points) -> Chart:
    total = sum(p.value for p in points)
    best = max(points, key=lambda p: p.value)
    return Chart(
        id="chart-collected",
        title=_("Innbetalt per måned"),
        svg=_draw(
            column_chart,
            chart_id="chart-collected",
            title=_("Innbetalt per måned, siste 12 måneder"),
            desc=_("Til sammen %(total)s. Høyest i %(month)s: %(best)s.")
            % {"total": _nok(total), "month": best.label, "best": _nok(best.value)},
            labels=[p.label for p in points],
            values=[p.value for p in points],
            x_label=_("Måned"),
            y_label=_("Kroner"),
            fmt=_nok,
        ),
        empty=_(
            "Ingen innbetalinger de siste 12 månedene ennå. Når skyldnere betaler, ser du "
            "beløpene her måned for måned."
        ),
        headers=(_("Måned"), _("Innbetalt")),
        rows=[(p.label, _nok(p.value)) for p in points],
    )


def _status_chart(points) -> Chart:
    total = sum(p.value for p in points)
    return Chart(
        id="chart-status",
        title=_("Saker etter status"),
        svg=_draw(
            bar_chart,
            chart_id="chart-status",
            title=_("Saker etter status"),
            desc=_("%(total)s saker i alt: %(parts)s.")
            % {"total": total, "parts": ", ".join(f"{p.label} {p.value}" for p in points)},
            labels=[p.label for p in points],
            values=[p.value for p in points],
            x_label=_("Antall saker"),
            y_label=_("Status"),
            fmt=str,
            colors=[STATUS_COLORS.get(p.key, "#0b5c57") for p in points],
        ),
        empty=_("Du har ingen saker ennå. Start inkasso fra «Klar for inkasso»."),
        headers=(_("Status"), _("Antall saker")),
        rows=[(p.label, str(p.value)) for p in points],
    )


def _days_chart(points) -> Chart:
    with_values = [p for p in points if p.value is not None]
    cases = sum(p.extra or 0 for p in points)
    overall = (
        sum(p.value * p.extra for p in with_values) / cases if cases else None  # weighted
    )
    return Chart(
        id="chart-days",
        title=_("Gjennomsnittlig tid til betaling"),
        svg=_draw(
            column_chart,
            chart_id="chart-days",
            title=_("Gjennomsnittlig antall dager fra saken startet til den var betalt, per måned"),
            desc=_("%(cases)s betalte saker siste 12 måneder, i snitt %(days)s.")
            % {"cases": cases, "days": _days(round(overall, 1) if overall is not None else None)},
            labels=[p.label for p in points],
            values=[p.value for p in points],
            x_label=_("Måned saken ble betalt"),
            y_label=_("Dager"),
            fmt=_days,
            zero_is_data=True,
        ),
        empty=_(
            "Ingen saker er betalt de siste 12 månedene ennå. Her ser du hvor lang tid "
            "skyldnerne bruker på å betale."
        ),
        headers=(_("Måned"), _("Dager i snitt"), _("Betalte saker")),
        rows=[(p.label, _days(p.value), str(p.extra or 0)) for p in points],
    )


def _recovery_chart(points) -> Chart:
    return Chart(
        id="chart-recovery",
        title=_("Andel betalt etter første steg"),
        svg=_draw(
            bar_chart,
            chart_id="chart-recovery",
            title=_("Andel avsluttede saker som ble betalt, etter første steg"),
            desc="; ".join(
                _("%(step)s: %(rate)s av %(n)s avsluttede saker")
                % {"step": p.label, "rate": _percent(p.value), "n": p.extra}
                for p in points
            ),
            labels=[p.label for p in points],
            values=[p.value for p in points],
            x_label=_("Andel betalt (prosent)"),
            y_label=_("Første steg"),
            fmt=_percent,
            max_value=100,
        ),
        empty=_(
            "Ingen saker er avsluttet ennå. Når saker avsluttes, ser du hvor mange som ble "
            "betalt etter inkassovarsel og etter betalingsoppfordring."
        ),
        headers=(_("Første steg"), _("Andel betalt"), _("Avsluttede saker")),
        rows=[(p.label, _percent(p.value), str(p.extra or 0)) for p in points],
    )


def _connection(creditor):
    # Through the reverse relation: collections_cases does not import integrations.
    try:
        return creditor.poweroffice_connection
    except ObjectDoesNotExist:
        return None


def dashboard(request):
    creditor = creditor_active_for_request(request)
    if creditor is None:
        return redirect("creditor_add")
    today = timezone.localdate()
    charts = [
        _collected_chart(selectors.collected_per_month(creditor=creditor, today=today)),
        _status_chart(selectors.cases_by_status(creditor=creditor)),
        _days_chart(selectors.average_days_to_payment(creditor=creditor, today=today)),
        _recovery_chart(selectors.recovery_by_entry_step(creditor=creditor)),
    ]
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "creditor": creditor,
            "today": today,
            "totals": selectors.dashboard_totals(creditor=creditor, today=today),
            "tasks": selectors.dashboard_tasks(
                creditor=creditor, connection=_connection(creditor), today=today
            ),
            "rule_warnings": rule_table_warnings(on=today),
            "charts": charts,
        },
    )


def dashboard_all(request):
    """All the user's creditors side by side (for accountants), with a switch to each."""
    creditors = creditor_list_for_user(user=request.user)
    rows = selectors.totals_for_creditors(creditors=creditors)
    if not rows:
        return redirect("creditor_add")
    active = creditor_active_for_request(request)
    return render(
        request,
        "dashboard/all.html",
        {"rows": rows, "active": active, "today": timezone.localdate()},
    )


# --------------------------------------------------------------------------------------------
# Decided in *Trenger deg*: each through the same service as on the case page, one case at a
# time, scoped to the user's creditors (404 for anyone else's)
# --------------------------------------------------------------------------------------------


def _back():
    return redirect(reverse("dashboard") + "#trenger-deg")


@require_POST
def dashboard_plan_decide(request, plan_id: int, decision: str):
    """Accept («godta») or decline («avsla», with the reason) a requested payment plan."""
    if decision not in PLAN_DECISIONS:
        raise Http404
    plan = selectors.pending_plan_get(user=request.user, plan_id=plan_id)
    form = PaymentPlanDecisionForm(request.POST, prefix=f"plan{plan.pk}")
    if not form.is_valid():
        messages.error(request, _("Ikke lagret: merknaden er for lang."))
        return _back()
    service, done = PLAN_DECISIONS[decision]
    try:
        service(plan=plan, actor=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, f"{plan.case.number}: {exc.message}")
    else:
        messages.success(request, f"{plan.case.number}: {done}")
    return _back()


@require_POST
def dashboard_legal_approve(request):
    """Approve legal steps for the chosen cases (``case``) or all that wait (``scope=all``),
    case by case through ``case_approve_legal``; says which were approved and which refused."""
    if request.POST.get("scope") == "all":
        creditor = creditor_active_for_request(request)
        if creditor is None:
            raise Http404
        cases = selectors.legal_approval_cases(user=request.user, creditor=creditor)
    else:
        try:
            ids = [int(value) for value in request.POST.getlist("case")]
        except ValueError:
            raise Http404 from None
        if not ids:
            messages.error(request, _("Velg sakene du vil godkjenne rettslige tiltak for."))
            return _back()
        cases = selectors.legal_approval_cases(user=request.user, case_ids=ids)
    approved, refused = [], []
    for case in cases:
        try:
            case_services.case_approve_legal(case=case, actor=request.user)
        except ApplicationError as exc:
            refused.append(f"{case.number}: {exc.message}")
        else:
            approved.append(case.number)
    if approved:
        messages.success(
            request,
            ngettext(
                "Rettslige tiltak er godkjent i %(n)d sak: %(cases)s.",
                "Rettslige tiltak er godkjent i %(n)d saker: %(cases)s.",
                len(approved),
            )
            % {"n": len(approved), "cases": ", ".join(approved)},
        )
    if refused:
        messages.error(
            request,
            ngettext(
                "%(n)d sak ble ikke godkjent: %(reasons)s",
                "%(n)d saker ble ikke godkjent: %(reasons)s",
                len(refused),
            )
            % {"n": len(refused), "reasons": " ".join(refused)},
        )
    if not approved and not refused:
        messages.info(request, _("Ingen saker venter på godkjenning av rettslige tiltak."))
    return _back()

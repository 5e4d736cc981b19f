"""Kundeweb pages for collection cases: parse input, call one service or selector, render.

Lists show the active creditor's cases and invoices. A case page of another of the user's
creditors makes that creditor the active one (PowerOffice Go links straight to case pages);
anyone else's case is a 404, on every page and every action.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from markupsafe import Markup

from collections_cases.cases import forms, lists, page_selectors
from collections_cases.cases import services as case_services
from collections_cases.cases.limitation import claim_is_time_barred, time_barred_message
from collections_cases.models import CollectionCase
from creditors.selectors import ACTIVE_CREDITOR_SESSION_KEY, creditor_choices_for_request
from integrations.selectors import case_pogo_refusal
from kravia_web.errors import ApplicationError
from kravia_web.listing import list_from_request


def _active_creditor(request):
    # The header's context processor reuses this read (one creditor query per page).
    _creditors, creditor = creditor_choices_for_request(request)
    if creditor is None:
        messages.info(request, _("Legg til selskapet ditt som kreditor for å komme i gang."))
    return creditor


def make_active(request, creditor) -> None:
    """Show the pages of ``creditor`` (one the user is a member of) from now on."""
    if request.session.get(ACTIVE_CREDITOR_SESSION_KEY) != creditor.pk:
        request.session[ACTIVE_CREDITOR_SESSION_KEY] = creditor.pk


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


def case_list(request):
    creditor = _active_creditor(request)
    if creditor is None:
        return redirect("creditor_add")
    listing = list_from_request(
        request,
        spec=lists.CASE_LIST,
        queryset=page_selectors.case_page_list(user=request.user, creditor=creditor),
        filter_kwargs={"creditor": creditor},
    )
    if listing.export_format:
        return listing.export_response()
    listing.known_count = page_selectors.case_page_count(
        creditor=creditor, filterset=listing.filterset
    )
    rows = page_selectors.case_page_rows(listing.page.object_list)
    return render(
        request,
        "collections_cases/case_list.html",
        {
            "creditor": creditor,
            "listing": listing,
            "page": listing.page,
            "rows": rows,
            "rows_html": case_rows_html(rows),
            "filters": listing.filters_html(reset_url=reverse("case_list")),
        },
    )


#: The Saker table's rows, a Jinja2 template (autoescaped): 50 rows × 11 values through the
#: Django template language took 5–7 times as long as through Jinja2 (1.5–2.2 ms against
#: 0.3 ms a page on this machine), and the rows are most of the list's HTML
#: (docs/performance.md). Rendered on its own because a Django template cannot include it.
CASE_ROWS_TEMPLATE = "collections_cases/_case_rows.html"


def case_rows_html(rows: list[page_selectors.CaseRow]) -> Markup:
    """The ``<tbody>`` rows for ``page_selectors.case_page_rows``, every value escaped by
    Jinja2's autoescaping. Jinja2 hands back a plain ``str``; ``Markup`` says it is HTML
    already (Django's templates honour its ``__html__``), and nothing else is put into it."""
    html = render_to_string(CASE_ROWS_TEMPLATE, {"rows": rows}, using="jinja2")
    return Markup(html)  # noqa: S704  (Jinja2's autoescaped output, nothing added)


# --------------------------------------------------------------------------------------------
# Case page and its actions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseAction:
    form_class: type[django_forms.Form]
    run: Any  # (case, actor, cleaned_data) -> None
    done: str


ACTIONS: dict[str, CaseAction] = {
    "approve": CaseAction(
        forms.ApproveForm,
        lambda case, actor, data: case_services.case_approve(case=case, actor=actor),
        gettext_lazy("Saken er godkjent og startet."),
    ),
    "approve_legal": CaseAction(
        forms.ApproveForm,
        lambda case, actor, data: case_services.case_approve_legal(case=case, actor=actor),
        gettext_lazy("Rettslige tiltak er godkjent."),
    ),
    "pause": CaseAction(
        forms.PauseForm,
        lambda case, actor, data: case_services.case_pause(
            case=case, actor=actor, reason=data["reason"], until=data["until"]
        ),
        gettext_lazy("Saken er satt på vent."),
    ),
    "resume": CaseAction(
        forms.ResumeForm,
        lambda case, actor, data: case_services.case_resume(case=case, actor=actor),
        gettext_lazy("Saken er gjenopptatt."),
    ),
    "withdraw": CaseAction(
        forms.WithdrawForm,
        lambda case, actor, data: case_services.case_withdraw(
            case=case, actor=actor, reason=data["reason"]
        ),
        gettext_lazy("Saken er trukket tilbake og avsluttet."),
    ),
    "mark_disputed": CaseAction(
        forms.DisputeForm,
        lambda case, actor, data: case_services.case_mark_disputed(
            case=case, actor=actor, reason=data["reason"]
        ),
        gettext_lazy("Saken er merket som omtvistet og stanset."),
    ),
    "resolve_dispute": CaseAction(
        forms.ResolveDisputeForm,
        lambda case, actor, data: case_services.case_resolve_dispute(
            case=case, actor=actor, note=data["note"]
        ),
        gettext_lazy("Innsigelsen er avklart, og saken fortsetter."),
    ),
    "direct_payment": CaseAction(
        forms.DirectPaymentForm,
        lambda case, actor, data: case_services.case_register_direct_payment(
            case=case,
            actor=actor,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data["reference"],
        ),
        gettext_lazy("Den direkte betalingen er registrert."),
    ),
    "note": CaseAction(
        forms.NoteForm,
        lambda case, actor, data: case_services.case_add_note(
            case=case, actor=actor, text=data["text"]
        ),
        gettext_lazy("Notatet er lagret."),
    ),
}


def _action_form(action: str, breakdown: dict, data=None) -> django_forms.Form:
    form_class = ACTIONS[action].form_class
    kwargs = {"prefix": action}
    if form_class is forms.DirectPaymentForm:
        kwargs["max_amount"] = breakdown["principal_outstanding"]
    return form_class(data, **kwargs)


#: ``form_fields.html`` of each unbound action form, per language (see ``_fields_html``).
_FIELDS_HTML: dict[tuple[str, str], SafeString] = {}


def _fields_html(action: str, form: django_forms.Form) -> SafeString | None:
    """The fields of an unbound action form as HTML. Unbound, they depend on nothing but the
    form's class, its prefix (the action) and the language — no case data, no amounts — so
    they are rendered once per process: the widgets were a large part of the case page's
    CPU (docs/performance.md). A bound form (a POST with errors) is rendered as usual."""
    if form.is_bound:
        return None
    key = (action, get_language() or "")
    html = _FIELDS_HTML.get(key)
    if html is None:
        html = _FIELDS_HTML[key] = render_to_string("form_fields.html", {"fields": form})
    return html  # the template engine's output, a SafeString (escaped there)


def _render_case(request, case: CollectionCase, *, bound: dict | None = None):
    breakdown = page_selectors.case_breakdown(case)
    allowed = page_selectors.case_allowed_actions(case)
    action_forms = {action: _action_form(action, breakdown) for action in allowed}
    action_forms.update(bound or {})
    fields_html = {action: _fields_html(action, form) for action, form in action_forms.items()}
    return render(
        request,
        "collections_cases/case_detail.html",
        {
            "case": case,
            "amounts": breakdown,
            "invoices": page_selectors.case_invoices(case),
            "letters": page_selectors.case_letters(case),
            "events": page_selectors.case_timeline(case),
            "pogo_refusal": case_pogo_refusal(case=case),
            "forms": action_forms,
            "fields_html": fields_html,
        },
    )


def case_detail(request, case_id: int):
    case = page_selectors.case_page_get(user=request.user, case_id=case_id)
    make_active(request, case.creditor)
    return _render_case(request, case)


@require_POST
def case_action(request, case_id: int, action: str):
    if action not in ACTIONS:
        raise Http404
    case = page_selectors.case_page_get(user=request.user, case_id=case_id)
    form = _action_form(action, page_selectors.case_breakdown(case), request.POST)
    if not form.is_valid():
        messages.error(request, _("Ikke lagret. Rett feltene som er merket."))
        return _render_case(request, case, bound={action: form})
    try:
        ACTIONS[action].run(case, request.user, form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ACTIONS[action].done)
    return redirect("case_detail", case_id=case.pk)


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------


def ready_for_collection(request):
    creditor = _active_creditor(request)
    if creditor is None:
        return redirect("creditor_add")
    form = forms.StartCollectionForm(
        request.POST if request.method == "POST" else None, creditor=creditor
    )
    if request.method == "POST":
        if form.has_error("invoices", "invalid_choice") or form.has_error(
            "invoices", "invalid_pk_value"
        ):
            raise Http404
        if form.is_valid():
            _start_cases(request, creditor, form.cleaned_data["invoices"])
            return redirect(request.get_full_path())
        messages.error(request, form.errors["invoices"][0])
    listing = list_from_request(
        request,
        spec=lists.READY_LIST,
        queryset=page_selectors.invoices_ready_for_collection(creditor=creditor),
    )
    if listing.export_format and request.method == "GET":
        return listing.export_response()
    return render(
        request,
        "collections_cases/ready_for_collection.html",
        {"creditor": creditor, "listing": listing, "page": listing.page},
    )


def _start_cases(request, creditor, selected) -> None:
    """The selected invoices go to collection per debtor: into the debtor's open case while it
    is still at the inkassovarsel, otherwise into one new case with all of them. A debtor the
    service refuses is reported and the others still go ahead; a time-barred invoice is
    reported and left out (the debtor's other invoices still go)."""
    ready_ids = set(
        page_selectors.invoices_ready_for_collection(creditor=creditor)
        .filter(pk__in=[invoice.pk for invoice in selected])
        .values_list("pk", flat=True)
    )
    by_debtor = defaultdict(list)
    skipped = []
    today = timezone.localdate()
    for invoice in selected:
        if invoice.pk not in ready_ids:
            skipped.append(invoice)
        elif claim_is_time_barred(due_date=invoice.due_date or invoice.invoice_date, on=today):
            # Never a letter or a cost for a time-barred claim: nothing is created for it.
            messages.error(
                request,
                time_barred_message(invoice.invoice_no, invoice.due_date or invoice.invoice_date),
            )
        else:
            by_debtor[invoice.debtor].append(invoice)
    open_cases = page_selectors.cases_open_for_more_invoices(creditor=creditor, debtors=by_debtor)
    started, added = [], []
    for debtor, invoices in sorted(by_debtor.items(), key=lambda item: item[0].name):
        try:
            if debtor.pk in open_cases:
                added.append(
                    case_services.case_add_invoices(
                        case=open_cases[debtor.pk], actor=request.user, invoices=invoices
                    )
                )
            else:
                started.append(
                    case_services.case_create(
                        creditor=creditor,
                        debtor=debtor,
                        invoices=invoices,
                        actor=request.user,
                        needs_approval=creditor.approve_cases_before_start,
                    )
                )
        except ApplicationError as exc:
            messages.error(request, f"{debtor.name}: {exc.message}")
    _report_started(request, creditor, started, added, skipped)


def _report_started(request, creditor, started, added, skipped) -> None:
    if started:
        numbers = ", ".join(case.number for case in started)
        if creditor.approve_cases_before_start:
            text = ngettext(
                "%(count)d sak er opprettet og venter på din godkjenning: %(numbers)s.",
                "%(count)d saker er opprettet og venter på din godkjenning: %(numbers)s.",
                len(started),
            )
        else:
            text = ngettext(
                "%(count)d sak er startet: %(numbers)s.",
                "%(count)d saker er startet: %(numbers)s.",
                len(started),
            )
        messages.success(request, text % {"count": len(started), "numbers": numbers})
    if added:
        messages.success(
            request,
            ngettext(
                "Fakturaene er lagt til skyldnerens åpne sak %(numbers)s.",
                "Fakturaene er lagt til skyldnernes åpne saker %(numbers)s.",
                len(added),
            )
            % {"numbers": ", ".join(case.number for case in added)},
        )
    if skipped:
        numbers = ", ".join(str(invoice.invoice_no) for invoice in skipped)
        messages.warning(
            request,
            ngettext(
                "Faktura %(numbers)s ble ikke sendt til inkasso: den er betalt, allerede i en "
                "sak eller skyldneren er unntatt fra inkasso.",
                "Fakturaene %(numbers)s ble ikke sendt til inkasso: de er betalt, allerede i en "
                "sak eller skyldneren er unntatt fra inkasso.",
                len(skipped),
            )
            % {"numbers": numbers},
        )

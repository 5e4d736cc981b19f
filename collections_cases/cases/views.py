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
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from markupsafe import Markup

from collections_cases.cases import case_page, forms, lists, page_selectors
from collections_cases.cases import services as case_services
from collections_cases.cases.limitation import claim_is_time_barred, time_barred_message
from collections_cases.models import CollectionCase
from creditors.selectors import ACTIVE_CREDITOR_SESSION_KEY, creditor_choices_for_request
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
    make_active_id(request, creditor.pk)


def make_active_id(request, creditor_id: int) -> None:
    """``make_active`` by the creditor's id (the case page reads no creditor row)."""
    if request.session.get(ACTIVE_CREDITOR_SESSION_KEY) != creditor_id:
        request.session[ACTIVE_CREDITOR_SESSION_KEY] = creditor_id


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


def _fields_html(action: str, bound: django_forms.Form | None) -> SafeString:
    """The fields of an action's form as HTML. Unbound, they depend on nothing but the
    form's class, its prefix (the action) and the language — no case data, no amounts — so
    they are rendered once per process, and no form is even made for them: the widgets were
    a large part of the case page's CPU (docs/performance.md). A bound form (a POST with
    errors) is rendered as usual, with its values and errors."""
    if bound is not None:
        return render_to_string("form_fields.html", {"fields": bound})
    key = (action, get_language() or "")
    html = _FIELDS_HTML.get(key)
    if html is None:
        form = ACTIONS[action].form_class(prefix=action)
        html = _FIELDS_HTML[key] = render_to_string("form_fields.html", {"fields": form})
    return html  # the template engine's output, a SafeString (escaped there)


def _pogo_refusal(case: CollectionCase) -> dict | None:
    """``integrations.selectors.case_pogo_refusal`` from the annotations of
    ``page_selectors.case_page_detail`` (no query of its own)."""
    if case.pogo_case_id is not None or case.pogo_refusal_error is None:
        return None
    return {"last_error": case.pogo_refusal_error}


#: The case page's body, a Jinja2 template (autoescaped): through the Django template
#: language it was a quarter of the page's CPU (docs/performance.md).
CASE_PAGE_TEMPLATE = "collections_cases/case_page.html"


def _render_case(request, case: CollectionCase, *, bound: dict | None = None):
    """The case page for a case from ``page_selectors.case_page_detail``; ``bound``: the
    action form of a POST with errors, shown with its values and errors."""
    bound = bound or {}
    allowed = page_selectors.case_allowed_actions(case)
    page_selectors.case_page_payment_plans(case)
    context = {
        "case": case,
        "amounts": page_selectors.case_breakdown(case),
        "invoices": page_selectors.case_page_invoices(case),
        "letters": page_selectors.case_page_letters(case),
        "events": page_selectors.case_page_timeline(case),
        "pogo_refusal": _pogo_refusal(case),
        "fields_html": {action: _fields_html(action, bound.get(action)) for action in allowed},
    }
    direct_payment = bound.get("direct_payment")
    # One masked CSRF token for the page's forms and the layout's (masking it is ~0.3 ms);
    # the view's ``csrf_token`` takes the place of the context processor's.
    csrf_token = get_token(request)
    body = case_page.case_page_body_context(
        request,
        **context,
        csrf_token=csrf_token,
        direct_payment_errors=direct_payment.non_field_errors() if direct_payment else (),
    )
    context.update(actions=dict.fromkeys(allowed, True), bound_forms=bound, csrf_token=csrf_token)
    context["body"] = _case_page_html(request, body)
    return render(request, "collections_cases/case_detail.html", context)


def _case_page_html(request, context: dict) -> Markup:
    """``CASE_PAGE_TEMPLATE`` rendered, every value escaped by Jinja2's autoescaping (the
    forms' fields and the payment sections are Django templates' output, escaped there).
    ``Markup`` says it is HTML already, as ``case_rows_html``; nothing else is put into it."""
    html = render_to_string(CASE_PAGE_TEMPLATE, context, request=request, using="jinja2")
    return Markup(html)  # noqa: S704  (Jinja2's autoescaped output, nothing added)


def case_detail(request, case_id: int):
    case = page_selectors.case_page_detail(user=request.user, case_id=case_id)
    make_active_id(request, case.creditor_id)
    return _render_case(request, case)


@require_POST
def case_action(request, case_id: int, action: str):
    if action not in ACTIONS:
        raise Http404
    case = page_selectors.case_page_get(user=request.user, case_id=case_id)
    form = _action_form(action, page_selectors.case_breakdown(case), request.POST)
    if not form.is_valid():
        messages.error(request, _("Ikke lagret. Rett feltene som er merket."))
        page_case = page_selectors.case_page_detail(user=request.user, case_id=case.pk)
        return _render_case(request, page_case, bound={action: form})
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

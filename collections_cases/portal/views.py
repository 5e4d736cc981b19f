"""Min side: public pages for the debtor (no Kundeweb login; the portal session holds one case).

The debtor logs in with the personal link from the e-mail (``/min-side/lenke/?token=…``, which
redirects at once to a token-free URL) or with the case number and the access code printed on
the letter (:mod:`collections_cases.portal.access`); the KID opens nothing. Every page after
the login reads the case from the portal session
(:func:`~collections_cases.portal.services.portal_case_id`); no URL names a case, and a letter
of another case is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from collections_cases.cases import page_selectors
from collections_cases.cases import services as case_services
from collections_cases.models import CollectionCase, PaymentPlan
from collections_cases.plans import services as plan_services
from collections_cases.portal import forms, selectors, services
from kravia_web.client_address import client_ip
from kravia_web.errors import ApplicationError

Status = CollectionCase.Status
PORTAL_ACTOR = "Skyldner (Min side)"
NO_MATCH = gettext_lazy("Vi fant ingen sak med dette saksnummeret og denne koden.")
LOCKED_OUT = gettext_lazy(
    "For mange feil forsøk. Av sikkerhetshensyn må du vente 15 minutter før du prøver igjen, "
    "eller bruke lenken i e-posten fra oss."
)
STALE_LINK = gettext_lazy(
    "Lenken virker ikke lenger. Logg inn med saksnummeret og koden i det siste brevet fra oss, "
    "eller kontakt oss for en ny kode."
)
BAD_LINK = gettext_lazy(
    "Lenken er ikke gyldig. Kopier hele lenken fra e-posten, eller logg inn med saksnummeret "
    "og koden i brevet."
)
#: Statuses the debtor may still object in (``mark_disputed`` in the state machine).
OBJECTION_STATUSES = (
    Status.AWAITING_APPROVAL,
    Status.ACTIVE,
    Status.PAUSED,
    Status.LEGAL,
    Status.MONITORING,
)


def letter_pdf_renderer():
    """``collections_cases.letters.documents.letter_pdf`` once the letter documents exist, else None
    (then Min side lists letters without a PDF link)."""
    try:
        from collections_cases.letters.documents import letter_pdf
    except ImportError:
        return None
    return letter_pdf


def plan_pdf_renderer():
    """``collections_cases.letters.documents.document_payment_plan_pdf`` when it exists, else None."""
    try:
        from collections_cases.letters.documents import document_payment_plan_pdf
    except ImportError:
        return None
    return document_payment_plan_pdf


def plan_confirmation_response(plan: PaymentPlan) -> HttpResponse:
    """The confirmation of an accepted plan as a PDF; 404 for any other plan, or when the
    letter documents are not available."""
    render_pdf = plan_pdf_renderer()
    if render_pdf is None or plan.status != PaymentPlan.Status.ACCEPTED:
        raise Http404
    pdf = render_pdf(
        case=plan.case,
        instalments=[(i.due_date, i.amount) for i in plan.instalments.all()],
        agreed_on=timezone.localdate(plan.decided_at),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"betalingsplan-{plan.case.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _client_ip(request) -> str:
    """The visitor's address behind ``TRUSTED_PROXY_COUNT`` proxies: the same helper django-axes
    uses (``AXES_CLIENT_IP_CALLABLE``), so both follow one proxy configuration."""
    return client_ip(request)


def _portal_case(request) -> CollectionCase | None:
    case_id = services.portal_case_id(request)
    if case_id is None:
        return None
    return CollectionCase.objects.select_related("creditor", "debtor").filter(pk=case_id).first()


def portal_view(view):
    """A page for a looked-up case: without a live portal session, back to the lookup."""

    def wrapped(request, *args, **kwargs):
        case = _portal_case(request)
        if case is None:
            messages.info(
                request, _("Logg inn med lenken i e-posten eller med saksnummer og kode.")
            )
            return redirect("portal_lookup")
        return view(request, case, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_not_required(never_cache(wrapped))


def _lookup_page(request, form, *, error="", status=200):
    return render(
        request,
        "portal/lookup.html",
        {"form": form, "error": error, "agency": agency_contact()},
        status=status,
    )


def agency_contact() -> dict:
    return {
        "email": getattr(settings, "AGENCY_EMAIL", ""),
        "phone": getattr(settings, "AGENCY_PHONE", ""),
    }


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    """The login with the case number and the letter's access code."""
    if request.method == "GET" and _portal_case(request) is not None:
        return redirect("portal_case")
    form = forms.LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.portal_login_with_code(
            number=form.cleaned_data["number"],
            code=form.cleaned_data["code"],
            ip=_client_ip(request),
        )
        if result.access is not None:
            services.portal_login(request, result.access)
            return redirect("portal_case")
        if result.locked_out:
            return _lookup_page(request, form, error=LOCKED_OUT, status=429)
        return _lookup_page(request, form, error=NO_MATCH)
    return _lookup_page(request, form)


@login_not_required
@never_cache
@require_http_methods(["GET"])
def link(request):
    """The personal link from the e-mail: opens the case and redirects at once to the
    token-free case page (so the token stays out of the history, the logs and any Referer).
    A link that fails goes to the login page with what to do, without the token either."""
    result = services.portal_login_with_link(
        token=request.GET.get("token", ""), ip=_client_ip(request)
    )
    if result.access is not None:
        services.portal_login(request, result.access)
        return redirect("portal_case")
    if result.locked_out:
        messages.error(request, LOCKED_OUT)
    else:
        messages.error(request, STALE_LINK if result.stale_link else BAD_LINK)
    return redirect("portal_lookup")


@require_POST
@login_not_required
def logout(request):
    services.portal_logout(request)
    messages.info(request, _("Du er logget ut av Min side."))
    return redirect("portal_lookup")


def _open_plan(case: CollectionCase) -> PaymentPlan | None:
    return case.payment_plans.open().first()


def _render_case(request, case: CollectionCase, *, objection_form=None, plan_form=None):
    amounts = page_selectors.case_breakdown(case)
    letters = list(page_selectors.case_letters(case))
    latest_plan = case.payment_plans.prefetch_related("instalments").first()
    open_plan = latest_plan if latest_plan is not None and latest_plan.is_open else None
    can_object = case.status in OBJECTION_STATUSES
    can_ask_plan = (
        open_plan is None
        and case.status in plan_services.PLAN_CASE_STATUSES
        and amounts["balance"] > 0
    )
    deadline = next((letter.deadline for letter in letters), None)
    plan_rows = plan_services.payment_plan_progress(latest_plan) if latest_plan else []
    on_plan = open_plan is not None and open_plan.status == PaymentPlan.Status.ACCEPTED
    return render(
        request,
        "portal/case.html",
        {
            "case": case,
            "debtor_status": selectors.debtor_status(case=case, plan=latest_plan),
            "amounts": amounts,
            "invoices": page_selectors.case_invoices(case),
            "letters": letters,
            "letter_pdfs": letter_pdf_renderer() is not None,
            "plan_pdf": plan_pdf_renderer() is not None,
            "deadline": deadline if case.status == Status.ACTIVE else None,
            "account_number": getattr(settings, "AGENCY_ACCOUNT_NUMBER", ""),
            "plan": latest_plan,
            "plan_rows": plan_rows,
            "next_instalment": selectors.plan_next_instalment(plan_rows) if on_plan else None,
            "open_plan": open_plan,
            "objection_form": objection_form
            or (forms.ObjectionForm(prefix="objection") if can_object else None),
            "plan_form": plan_form
            or (forms.PaymentPlanRequestForm(prefix="plan") if can_ask_plan else None),
        },
    )


@portal_view
def case_view(request, case):
    return _render_case(request, case)


@require_POST
@portal_view
def object_to_claim(request, case):
    if case.status not in OBJECTION_STATUSES:
        messages.error(
            request,
            _("Saken er allerede omtvistet.")
            if case.status == Status.DISPUTED
            else _("Saken er avsluttet, så du kan ikke sende innsigelse her."),
        )
        return redirect("portal_case")
    form = forms.ObjectionForm(request.POST, prefix="objection")
    if not form.is_valid():
        return _render_case(request, case, objection_form=form)
    try:
        case_services.case_mark_disputed(
            case=case, actor=PORTAL_ACTOR, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Innsigelsen er registrert. Saken er stanset, og det påløper ingen nye "
                "inkassokostnader mens vi undersøker den. Kreditor får beskjed."
            ),
        )
    return redirect("portal_case")


@require_POST
@portal_view
def request_payment_plan(request, case):
    form = forms.PaymentPlanRequestForm(request.POST, prefix="plan")
    if not form.is_valid():
        return _render_case(request, case, plan_form=form)
    try:
        plan_services.payment_plan_request(
            case=case,
            instalment_count=form.cleaned_data["instalment_count"],
            first_due=form.cleaned_data["first_due"],
            actor=PORTAL_ACTOR,
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render_case(request, case, plan_form=form)
    messages.success(
        request,
        _("Ønsket om betalingsplan er sendt. Du får svar her på Min side når det er behandlet."),
    )
    return redirect("portal_case")


@portal_view
def letter_pdf(request, case, letter_id: int):
    render_pdf = letter_pdf_renderer()
    if render_pdf is None:
        raise Http404
    letter = get_object_or_404(case.letters, pk=letter_id)
    response = HttpResponse(render_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{case.number}-{letter.kind}.pdf"'
    return response


@portal_view
def payment_plan_pdf(request, case):
    plan = get_object_or_404(case.payment_plans, status=PaymentPlan.Status.ACCEPTED)
    return plan_confirmation_response(plan)

"""Kundeweb: the creditor or case handler accepts or declines a payment plan on the case page.
Scoped like every case action: a case of a creditor the user is not a member of is a 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collections_cases.cases import page_selectors
from collections_cases.plans import services as plan_services
from collections_cases.portal.forms import PaymentPlanDecisionForm
from collections_cases.portal.views import plan_confirmation_response
from kravia_web.errors import ApplicationError

DECISIONS = {
    "godta": (
        plan_services.payment_plan_accept,
        gettext_lazy("Betalingsplanen er godtatt, og saken er satt på vent."),
    ),
    "avsla": (plan_services.payment_plan_decline, gettext_lazy("Betalingsplanen er avslått.")),
}


@require_POST
def payment_plan_decide(request, case_id: int, plan_id: int, decision: str):
    if decision not in DECISIONS:
        raise Http404
    case = page_selectors.case_page_get(user=request.user, case_id=case_id)
    plan = get_object_or_404(case.payment_plans, pk=plan_id)
    form = PaymentPlanDecisionForm(request.POST, prefix=f"plan{plan.pk}")
    if not form.is_valid():
        messages.error(request, _("Ikke lagret: merknaden er for lang."))
        return redirect("case_detail", case_id=case.pk)
    service, done = DECISIONS[decision]
    try:
        service(plan=plan, actor=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("case_detail", case_id=case.pk)


def payment_plan_pdf(request, case_id: int, plan_id: int):
    case = page_selectors.case_page_get(user=request.user, case_id=case_id)
    return plan_confirmation_response(get_object_or_404(case.payment_plans, pk=plan_id))

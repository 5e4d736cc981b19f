"""The page an integration's ``TemporaryUrl`` opens: log in, pick the company, accept or cancel.

Go answers by redirecting to the integration's ``RedirectUri`` with ``status`` (and ``token``
on success), keeping the query parameters the integration put there (e.g. its ``state``).
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone

from pogo_sandbox import domain
from pogo_sandbox.models import OnboardingSession
from pogo_sandbox.screens.access import (
    SESSION_ONBOARDING,
    current_user,
    login_url,
    sandbox_view,
)

CANCELED = OnboardingSession.State.CANCELED
SUCCESS = OnboardingSession.State.SUCCESS


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to (or replacing the same names in) its query string."""
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in params
    ]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back_to_integration(onboarding: OnboardingSession, **params: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(with_query(onboarding.redirect_uri, **params))


def _problem_page(request, title: str, text: str, status: int):
    return render(
        request, "pogo_sandbox/onboarding_error.html", {"title": title, "text": text}, status=status
    )


def _open_session(request, token: str):
    """``(onboarding session, None)`` if the link can be used, else ``(None, error page)``."""
    onboarding = (
        OnboardingSession.objects.select_related("application")
        .filter(temporary_token=token)
        .first()
    )
    if onboarding is None:
        return None, _problem_page(
            request,
            "Ukjent lenke",
            "Vi fant ikke denne tilkoblingen. Start tilkoblingen på nytt fra tjenesten du "
            "ønsker å koble til PowerOffice Go.",
            404,
        )
    if onboarding.state != OnboardingSession.State.PENDING:
        return None, _problem_page(
            request,
            "Lenken er allerede brukt",
            "Denne tilkoblingen er allerede fullført eller avbrutt. Start tilkoblingen på nytt "
            f"fra {onboarding.application.name} hvis du vil prøve igjen.",
            410,
        )
    if onboarding.valid_until <= timezone.now():
        return None, _problem_page(
            request,
            "Lenken har utløpt",
            "Lenken for å gi tilgang er ikke lenger gyldig. Start tilkoblingen på nytt fra "
            f"{onboarding.application.name}.",
            410,
        )
    return onboarding, None


def _refused(onboarding: OnboardingSession, user):
    """Redirect with ClientNotFound / NoClientAccess / IntegrationBlocked, or None to go on."""
    status = domain.onboarding_status_for(onboarding, user)
    if status is None:
        return None
    domain.onboarding_reject(onboarding, status=status)
    return _back_to_integration(onboarding, status=str(status))


def _onboarding_for(request, token: str):
    """``(session, user, companies, None)`` to go on, or ``(..., response)`` to stop here.

    Stops with an error page (unknown, used or expired link), the login page, or the redirect
    back to the integration when Go refuses this user or company.
    """
    onboarding, problem = _open_session(request, token)
    if problem:
        return None, None, [], problem
    user = current_user(request)
    if user is None:
        return onboarding, None, [], redirect(login_url(request.get_full_path()))
    request.go_user = user
    refused = _refused(onboarding, user)
    if refused:
        return onboarding, user, [], refused
    return onboarding, user, domain.onboarding_companies_for(onboarding, user), None


def _chosen(request, token: str) -> int | None:
    chosen = request.session.get(SESSION_ONBOARDING) or {}
    return chosen.get(token)


@sandbox_view
def choose_company(request, token):
    onboarding, user, companies, stop = _onboarding_for(request, token)
    if stop:
        return stop
    if request.method == "POST":
        company = next(
            (c for c in companies if str(c.pk) == request.POST.get("company_id", "")), None
        )
        if company is None:
            return HttpResponseBadRequest("Ukjent selskap.")
        request.session[SESSION_ONBOARDING] = {token: company.pk}
        return redirect("pogo_screens:onboarding_consent", token=token)
    return render(
        request,
        "pogo_sandbox/onboarding_companies.html",
        {"onboarding": onboarding, "companies": companies},
    )


@sandbox_view
def consent(request, token):
    onboarding, user, companies, stop = _onboarding_for(request, token)
    if stop:
        return stop
    company = next((c for c in companies if c.pk == _chosen(request, token)), None)
    if company is None:
        return redirect("pogo_screens:onboarding", token=token)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("accept", "cancel"):
            return HttpResponseBadRequest("Ukjent valg.")
        try:
            if action == "accept":
                onboarding_token = domain.onboarding_accept(onboarding, user=user, company=company)
                params = {"status": str(SUCCESS), "token": onboarding_token}
            else:
                domain.onboarding_reject(onboarding, status=CANCELED)
                params = {"status": str(CANCELED)}
        except domain.SandboxError as error:
            # Used or expired between showing the page and the click.
            return _problem_page(request, "Tilkoblingen kunne ikke fullføres", str(error), 409)
        request.session.pop(SESSION_ONBOARDING, None)
        return _back_to_integration(onboarding, **params)
    return render(
        request,
        "pogo_sandbox/onboarding_consent.html",
        {
            "onboarding": onboarding,
            "application": onboarding.application,
            "company": company,
            "several_companies": len(companies) > 1,
        },
    )

"""Who is logged in to the sandbox Go, and which company they are working in.

The sandbox keeps its own login in the session (``pogo_user_id``), never Django's auth user: a
browser may be logged in to Kundeweb and to "PowerOffice Go" at the same time, as two separate
systems, and logging out of one must not log out of the other.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from pogo_sandbox.models import Company, GoUser

SESSION_USER = "pogo_user_id"
SESSION_COMPANY = "pogo_company_id"
SESSION_ONBOARDING = "pogo_onboarding_company"


def current_user(request) -> GoUser | None:
    user_id = request.session.get(SESSION_USER)
    if user_id is None:
        return None
    return GoUser.objects.filter(pk=user_id).first()


def log_in(request, user: GoUser) -> None:
    request.session.cycle_key()
    request.session[SESSION_USER] = user.pk
    request.session.pop(SESSION_COMPANY, None)
    request.session.pop(SESSION_ONBOARDING, None)


def log_out(request) -> None:
    for key in (SESSION_USER, SESSION_COMPANY, SESSION_ONBOARDING):
        request.session.pop(key, None)


def user_companies(user: GoUser):
    return Company.objects.filter(companyaccess__user=user).order_by("name")


def current_company(request, user: GoUser) -> Company | None:
    company_id = request.session.get(SESSION_COMPANY)
    if company_id is None:
        return None
    return user_companies(user).filter(pk=company_id).first()


def choose_company(request, company: Company) -> None:
    request.session[SESSION_COMPANY] = company.pk


def login_url(next_path: str) -> str:
    return f"{reverse('pogo_screens:login')}?{urlencode({'next': next_path})}"


def sandbox_view(view):
    """Outside Kundeweb's login, always in Norwegian (Go's screens have no language switch)."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override("nb"):
            return view(request, *args, **kwargs)

    return wrapper


def go_login_required(view):
    """Needs a sandbox login; sets ``request.go_user``."""

    @sandbox_view
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = current_user(request)
        if user is None:
            return redirect(login_url(request.get_full_path()))
        request.go_user = user
        return view(request, *args, **kwargs)

    return wrapper


def company_required(view):
    """Needs a sandbox login and a chosen company; sets ``request.go_user`` and ``go_company``."""

    @go_login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        company = current_company(request, request.go_user)
        if company is None:
            companies = list(user_companies(request.go_user)[:2])
            if len(companies) != 1:
                return redirect("pogo_screens:home")
            company = companies[0]
            choose_company(request, company)
        request.go_company = company
        return view(request, *args, **kwargs)

    return wrapper

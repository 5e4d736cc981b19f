"""Logging in to and out of the sandbox Go (its own users, not Kundeweb's)."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from pogo_sandbox.screens.access import current_user, log_in, log_out, sandbox_view
from pogo_sandbox.screens.forms import LoginForm


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("pogo_screens:home")


@sandbox_view
def login_view(request):
    next_url = _safe_next(request)
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            log_in(request, form.user)
            return redirect(next_url)
    else:
        if current_user(request) is not None:
            return redirect(next_url)
        form = LoginForm()
    return render(request, "pogo_sandbox/login.html", {"form": form, "next": next_url})


@sandbox_view
@require_POST
def logout_view(request):
    log_out(request)
    return redirect("pogo_screens:login")

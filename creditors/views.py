"""Kundeweb pages for accounts and creditors: parse input, call a service, render."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from creditors import selectors, services
from creditors.forms import CreditorAddForm, CreditorSettingsForm, SignupForm
from creditors.permissions import OWNER_FIELDS, OWNER_ONLY_REASON, is_owner
from kravia_web.errors import ApplicationError


@login_not_required
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ApplicationError as exc:
            form.add_error("email", exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Velkommen! Legg til selskapet ditt som kreditor for å komme i gang.")
            )
            return redirect("creditor_add")
    return render(request, "registration/signup.html", {"form": form})


def home(request):
    if not selectors.creditor_list_for_user(user=request.user).exists():
        return redirect("creditor_add")
    return redirect("dashboard")


def settings_index(request):
    return render(
        request,
        "creditors/settings_index.html",
        {"creditors": selectors.creditor_list_for_user(user=request.user)},
    )


def creditor_add(request):
    form = CreditorAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            creditor = services.creditor_create(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error("org_number", exc.message)
        else:
            request.session[selectors.ACTIVE_CREDITOR_SESSION_KEY] = creditor.pk
            messages.success(
                request, _("%(name)s er lagt til som kreditor.") % {"name": creditor.name}
            )
            return redirect("creditor_settings", creditor_id=creditor.pk)
    return render(request, "creditors/creditor_add.html", {"form": form})


def creditor_settings(request, creditor_id):
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    owner = is_owner(user=request.user, creditor=creditor)
    if request.method == "POST" and not owner and OWNER_FIELDS & set(request.POST):
        # The page never posts a disabled field: a member who sends one is refused outright.
        raise PermissionDenied(str(OWNER_ONLY_REASON))
    form = CreditorSettingsForm(request.POST or None, instance=creditor, owner=owner)
    if request.method == "POST":
        if form.is_valid():
            services.creditor_update_settings(
                creditor=creditor, actor=request.user, cleaned_data=form.cleaned_data
            )
            messages.success(request, _("Innstillingene er lagret."))
            return redirect("creditor_settings", creditor_id=creditor.pk)
        # The bound form's instance now holds the rejected values; show the saved name.
        creditor.refresh_from_db()
        messages.error(request, _("Innstillingene ble ikke lagret. Rett feltene som er merket."))
    return render(
        request,
        "creditors/creditor_settings.html",
        {"creditor": creditor, "form": form, "is_owner": owner},
    )


@require_POST
def payout_account_confirm(request, creditor_id):
    """*Bekreft nytt kontonummer* (Utbetalinger): a second owner ends the payout hold."""
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    try:
        services.payout_account_confirm(creditor=creditor, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Det nye kontonummeret er bekreftet. Utbetalingene går som vanlig.")
        )
    return redirect("settlement_list")


@require_POST
def creditor_switch(request):
    creditor = selectors.creditor_get_for_user(
        user=request.user, creditor_id=request.POST.get("creditor_id")
    )
    request.session[selectors.ACTIVE_CREDITOR_SESSION_KEY] = creditor.pk
    next_url = request.POST.get("next") or "home"
    from django.utils.http import url_has_allowed_host_and_scheme

    if next_url != "home" and not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "home"
    return redirect(next_url)

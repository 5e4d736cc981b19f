"""PowerOffice Go pages: "Gi tilgang", the callback, review, refresh and disconnect (thin)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_cases.settlements.selectors import settlement_get_for_creditor
from creditors import selectors as creditor_selectors
from creditors import services as creditor_services
from creditors.permissions import is_owner, require_owner
from integrations import selectors, status
from integrations.forms import ConnectionReviewForm, GiTilgangForm
from integrations.services import connections, onboarding
from integrations.services.vouchers import settlement_voucher_retry
from integrations.tasks import deliver_outbox_task
from kravia_web.errors import ApplicationError

PUBLIC_RESULT_SESSION_KEY = "integrations_pogo_public_result"
#: Go's answer (state, status, token) between the callback URL and its token-free twin.
CALLBACK_SESSION_KEY = "integrations_pogo_callback"
CALLBACK_PARAMS = ("state", "status", "token")


def _callback_params(request):
    """Go sends the browser back with ``?state=…&status=…&token=…``. On that request the answer
    is put in the session and the browser is redirected to the same path without a query
    string (``(None, redirect)``), so the one-time token is not left in the address bar, the
    history or a Referer; the token-free request takes it back out (``(params, None)``)."""
    if any(key in request.GET for key in CALLBACK_PARAMS):
        request.session[CALLBACK_SESSION_KEY] = {
            key: request.GET.get(key, "")[:2000] for key in CALLBACK_PARAMS
        }
        return None, redirect(request.path)
    stored = request.session.pop(CALLBACK_SESSION_KEY, None)
    if not isinstance(stored, dict):
        stored = {}
    return {key: str(stored.get(key, "")) for key in CALLBACK_PARAMS}, None


def _failure(request, exc: onboarding.OnboardingFailed, *, back_url: str, back_label: str):
    return render(
        request,
        "integrations/onboarding_failed.html",
        {"failure": exc, "back_url": back_url, "back_label": back_label},
        status=exc.http_status,
    )


def creditor_poweroffice(request, creditor_id):
    """Integrasjon → PowerOffice Go: "Gi tilgang", or the connection and its review."""
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    owner = is_owner(user=request.user, creditor=creditor)
    if request.method == "POST":
        require_owner(user=request.user, creditor=creditor)
    connection = selectors.connection_for_creditor(creditor=creditor)
    connected = connection is not None and connection.is_connected
    review_form = None
    if connected:
        initial = {}
        go_email = connection.company_info.get("email_address")
        if not creditor.email and go_email:
            initial["email"] = go_email
        review_form = (
            ConnectionReviewForm(request.POST or None, instance=creditor, initial=initial)
            if owner
            else None
        )
        if request.method == "POST":
            if review_form.is_valid():
                creditor_services.creditor_update_settings(
                    creditor=creditor, actor=request.user, cleaned_data=review_form.cleaned_data
                )
                messages.success(request, _("Innstillingene er lagret."))
                return redirect("creditor_poweroffice", creditor_id=creditor.pk)
            creditor.refresh_from_db()
    elif request.method == "POST":
        return redirect("creditor_poweroffice", creditor_id=creditor.pk)
    return render(
        request,
        "integrations/poweroffice.html",
        {
            "creditor": creditor,
            "is_owner": owner,
            "connection": connection,
            "connected": connected,
            "connect_form": GiTilgangForm(initial={"org_number": creditor.org_number}),
            "review_form": review_form,
            "account_check": connection.account_check(creditor) if connected else [],
            "events": selectors.connection_event_list(connection=connection) if connection else [],
            "status": status.integration_status(creditor=creditor),
        },
    )


def integration_status(request):
    """*Integrasjon*: the active creditor's PowerOffice Go page, at its sync status."""
    creditor = creditor_selectors.creditor_active_for_request(request)
    if creditor is None:
        return redirect("creditor_add")
    return redirect(reverse("creditor_poweroffice", args=[creditor.pk]) + "#synkronisering")


@require_POST
def creditor_poweroffice_sync(request, creditor_id):
    """*Synkroniser nå*: queue a sync of this connection (refused while one is going)."""
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    require_owner(user=request.user, creditor=creditor)
    try:
        status.sync_request(creditor=creditor, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Synkroniseringen er startet. Oppdater siden om litt for å se resultatet."),
        )
    return redirect(reverse("creditor_poweroffice", args=[creditor.pk]) + "#synkronisering")


@require_POST
def creditor_poweroffice_reconnect(request, creditor_id):
    """*Koble til på nytt* after the key was revoked in Go: forget the dead key and go
    through «Gi tilgang» again."""
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    require_owner(user=request.user, creditor=creditor)
    connection = selectors.connection_for_creditor(creditor=creditor)
    if connection is not None and connection.is_connected:
        connections.connection_disconnect(creditor=creditor, actor=request.user)
    return creditor_poweroffice_connect(request, creditor_id=creditor.pk)


@require_POST
def creditor_poweroffice_connect(request, creditor_id):
    """**Gi tilgang**: start onboarding and send the browser to PowerOffice Go."""
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    require_owner(user=request.user, creditor=creditor)
    try:
        temporary_url = onboarding.onboarding_start(
            session=request.session,
            callback_url_name="poweroffice_callback",
            creditor=creditor,
            user=request.user,
        )
    except onboarding.OnboardingFailed as exc:
        return _failure(
            request,
            exc,
            back_url=reverse("creditor_poweroffice", args=[creditor.pk]),
            back_label=_("Tilbake til PowerOffice Go-integrasjonen"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("creditor_poweroffice", creditor_id=creditor.pk)
    return redirect(temporary_url)


@require_GET
def poweroffice_callback(request):
    """Where PowerOffice Go sends the browser back after "Gi tilgang" from a creditor."""
    params, token_free = _callback_params(request)
    if token_free is not None:
        return token_free
    try:
        connection = onboarding.onboarding_complete_for_creditor(
            session=request.session, user=request.user, **params
        )
    except onboarding.OnboardingFailed as exc:
        if exc.creditor_id is not None:
            back_url = reverse("creditor_poweroffice", args=[exc.creditor_id])
            back_label = _("Tilbake til PowerOffice Go-integrasjonen")
        else:
            back_url = reverse("settings_index")
            back_label = _("Tilbake til innstillingene")
        return _failure(request, exc, back_url=back_url, back_label=back_label)
    creditor = connection.creditor
    messages.success(
        request,
        _("%(name)s er koblet til PowerOffice Go. Se over informasjonen under.")
        % {"name": creditor.name},
    )
    if connection.last_error:
        messages.warning(request, connection.last_error)
    return redirect("creditor_poweroffice", creditor_id=creditor.pk)


@require_POST
def creditor_poweroffice_refresh(request, creditor_id):
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    require_owner(user=request.user, creditor=creditor)
    try:
        connection = connections.connection_refresh(creditor=creditor, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if connection.last_error:
            messages.error(request, connection.last_error)
        else:
            messages.success(request, _("Informasjonen fra PowerOffice Go er oppdatert."))
    return redirect("creditor_poweroffice", creditor_id=creditor.pk)


@require_POST
def creditor_poweroffice_disconnect(request, creditor_id):
    """*Koble fra*: forget the client key; the history stays."""
    creditor = creditor_selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    require_owner(user=request.user, creditor=creditor)
    try:
        connections.connection_disconnect(creditor=creditor, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "%(name)s er koblet fra PowerOffice Go. Deaktiver også integrasjonen i Go under "
                "Innstillinger → Integrasjoner hvis du ikke skal bruke den lenger."
            )
            % {"name": creditor.name},
        )
    return redirect("creditor_settings", creditor_id=creditor.pk)


# --- Without a Kundeweb user -------------------------------------------------------------------


@login_not_required
def poweroffice_connect_public(request):
    """ "Koble til PowerOffice Go": the same flow for someone who has no Kundeweb user yet."""
    if request.method == "POST":
        try:
            temporary_url = onboarding.onboarding_start(
                session=request.session, callback_url_name="poweroffice_connect_public_callback"
            )
        except onboarding.OnboardingFailed as exc:
            return _public_failure(request, exc)
        return redirect(temporary_url)
    return render(request, "integrations/connect_public.html")


def _public_failure(request, exc):
    return _failure(
        request,
        exc,
        back_url=reverse("poweroffice_connect_public"),
        back_label=_("Tilbake til «Koble til PowerOffice Go»"),
    )


@login_not_required
@require_GET
def poweroffice_connect_public_callback(request):
    params, token_free = _callback_params(request)
    if token_free is not None:
        return token_free
    try:
        result = onboarding.onboarding_complete_without_user(
            session=request.session, user=request.user, **params
        )
    except onboarding.OnboardingFailed as exc:
        return _public_failure(request, exc)
    request.session[PUBLIC_RESULT_SESSION_KEY] = {
        "email": result.email,
        "user_created": result.user_created,
        "created": [str(c) for c in result.created],
        "connected": [str(c) for c in result.connected],
        "notes": result.notes,
    }
    return redirect("poweroffice_connect_public_done")


@login_not_required
@require_GET
def poweroffice_connect_public_done(request):
    result = request.session.get(PUBLIC_RESULT_SESSION_KEY)
    if result is None:
        return redirect("poweroffice_connect_public")
    return render(request, "integrations/connect_public_done.html", {"result": result})


@require_POST
def settlement_voucher_retry_view(request, settlement_id: int):
    """«Send bilaget på nytt» on a settlement page: queue the settlement's voucher to PowerOffice
    Go again after the creditor fixed what blocked it (the page itself is in
    ``collections_cases.settlements.views``; this app owns the push)."""
    creditor = creditor_selectors.creditor_active_for_request(request)
    if creditor is None:
        return redirect("creditor_add")
    settlement = settlement_get_for_creditor(creditor=creditor, settlement_id=settlement_id)
    try:
        settlement_voucher_retry(settlement=settlement)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        deliver_outbox_task.delay()
        messages.success(request, _("Bilaget sendes til PowerOffice Go på nytt."))
    return redirect("settlement_detail", settlement_id=settlement.pk)

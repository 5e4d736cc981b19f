"""Kundeweb *Innstillinger → API-nøkler*: the active creditor's keys. A new key is shown
once, on the page that answers the form, and never again (only its hash is stored)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api_access import selectors, services
from api_access.forms import ApiKeyCreateForm
from creditors.permissions import is_owner, require_owner
from creditors.selectors import creditor_active_for_request
from kravia_web.errors import ApplicationError


def settings_creditor(request, *, write: bool):
    """The active creditor; writes (keys, webhooks) are for its owners only."""
    creditor = creditor_active_for_request(request)
    if creditor is None:
        return None
    if write:
        require_owner(user=request.user, creditor=creditor)
    return creditor


@never_cache
def api_keys(request):
    creditor = settings_creditor(request, write=request.method == "POST")
    if creditor is None:
        return redirect("creditor_add")
    form = ApiKeyCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            api_key, new_key = services.api_key_create(
                creditor=creditor, actor=request.user, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(
                request,
                _(
                    "API-nøkkelen «%(name)s» er laget. Kopier den nå: den vises bare denne ene gangen."
                )
                % {"name": api_key.name},
            )
            form = ApiKeyCreateForm()
    return render(
        request,
        "api_access/api_keys.html",
        {
            "creditor": creditor,
            "form": form,
            "new_key": new_key,
            "keys": selectors.api_key_list_for_creditor(creditor=creditor),
            "is_owner": is_owner(user=request.user, creditor=creditor),
        },
    )


@require_POST
def api_key_revoke(request, api_key_id: int):
    creditor = settings_creditor(request, write=True)
    if creditor is None:
        return redirect("creditor_add")
    api_key = selectors.api_key_get_for_creditor(creditor=creditor, api_key_id=api_key_id)
    services.api_key_revoke(api_key=api_key, actor=request.user)
    messages.success(
        request, _("API-nøkkelen «%(name)s» er trukket tilbake.") % {"name": api_key.name}
    )
    return redirect("settings_api_keys")

"""Kundeweb *Innstillinger → Webhooks*: the active creditor's endpoints (the signing secret
is shown once, when one is added), each endpoint's deliveries, and sending one again."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api_access.views import settings_creditor
from creditors.permissions import is_owner
from integrations.webhooks import selectors, services
from integrations.webhooks.forms import WebhookEndpointForm
from kravia_web.errors import ApplicationError


def _is_owner(request, creditor) -> bool:
    return is_owner(user=request.user, creditor=creditor)


@never_cache
def webhooks(request):
    creditor = settings_creditor(request, write=request.method == "POST")
    if creditor is None:
        return redirect("creditor_add")
    form = WebhookEndpointForm(request.POST or None)
    new_secret = new_endpoint = None
    if request.method == "POST" and form.is_valid():
        try:
            new_endpoint, new_secret = services.webhook_endpoint_create(
                creditor=creditor,
                actor=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ApplicationError as exc:
            fields = exc.extra.get("fields", {})
            if fields:
                for field, errors in fields.items():
                    for error in errors:
                        form.add_error(field, error)
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Mottakeren er lagt til. Kopier hemmeligheten nå: den vises bare denne ene gangen."
                ),
            )
            form = WebhookEndpointForm()
    return render(
        request,
        "webhooks/webhooks.html",
        {
            "creditor": creditor,
            "form": form,
            "endpoints": selectors.webhook_endpoint_list_for_creditor(creditor=creditor),
            "new_endpoint": new_endpoint,
            "new_secret": new_secret,
            "is_owner": _is_owner(request, creditor),
        },
    )


def webhook_detail(request, endpoint_id: int):
    creditor = settings_creditor(request, write=False)
    if creditor is None:
        return redirect("creditor_add")
    endpoint = selectors.webhook_endpoint_get_for_creditor(
        creditor=creditor, endpoint_id=endpoint_id
    )
    return render(
        request,
        "webhooks/webhook_detail.html",
        {
            "creditor": creditor,
            "endpoint": endpoint,
            "deliveries": selectors.webhook_delivery_list(endpoint=endpoint),
            "is_owner": _is_owner(request, creditor),
        },
    )


@require_POST
def webhook_disable(request, endpoint_id: int):
    creditor = settings_creditor(request, write=True)
    if creditor is None:
        return redirect("creditor_add")
    endpoint = selectors.webhook_endpoint_get_for_creditor(
        creditor=creditor, endpoint_id=endpoint_id
    )
    services.webhook_endpoint_disable(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Mottakeren er deaktivert. Vi sender ikke flere hendelser dit."))
    return redirect("settings_webhook_detail", endpoint_id=endpoint.pk)


@require_POST
def webhook_delivery_replay(request, delivery_id: int):
    creditor = settings_creditor(request, write=True)
    if creditor is None:
        return redirect("creditor_add")
    delivery = selectors.webhook_delivery_get_for_creditor(
        creditor=creditor, delivery_id=delivery_id
    )
    try:
        services.webhook_delivery_replay(delivery=delivery, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Hendelsen sendes på nytt."))
    return redirect("settings_webhook_detail", endpoint_id=delivery.endpoint_id)

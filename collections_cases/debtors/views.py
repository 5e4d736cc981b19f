"""Kundeweb *Skyldnere*: the active creditor's debtors; edit contact details and the
per-debtor collection profile."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from collections_cases.cases import lists, page_selectors
from collections_cases.cases.views import make_active
from collections_cases.debtors.forms import DebtorForm
from collections_cases.debtors.services import debtor_update
from creditors.selectors import creditor_active_for_request
from kravia_web.errors import ApplicationError
from kravia_web.listing import list_from_request


def debtor_list(request):
    creditor = creditor_active_for_request(request)
    if creditor is None:
        return redirect("creditor_add")
    listing = list_from_request(
        request,
        spec=lists.DEBTOR_LIST,
        queryset=page_selectors.debtor_page_list(creditor=creditor),
    )
    if listing.export_format:
        return listing.export_response()
    return render(
        request,
        "creditors/debtor_list.html",
        {"creditor": creditor, "listing": listing, "page": listing.page},
    )


def debtor_detail(request, debtor_id: int):
    debtor = page_selectors.debtor_page_get(user=request.user, debtor_id=debtor_id)
    make_active(request, debtor.creditor)
    form = DebtorForm(request.POST or None, instance=debtor)
    if request.method == "POST":
        if form.is_valid():
            try:
                debtor_update(debtor=debtor, actor=request.user, data=form.cleaned_data)
            except ApplicationError as exc:
                for field, errors in exc.extra.get("fields", {}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Skyldneren er lagret."))
                return redirect("debtor_detail", debtor_id=debtor.pk)
        else:
            messages.error(request, _("Ikke lagret. Rett feltene som er merket."))
        # The bound form wrote the rejected values onto the instance; show the saved ones.
        debtor.refresh_from_db()
    return render(request, "creditors/debtor_detail.html", {"debtor": debtor, "form": form})

"""Kundeweb «Utbetalinger»: the active creditor's settlements, each with its lines, payout,
bookkeeping status and statement PDF. Another creditor's settlement is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_cases.settlements import selectors, services
from collections_cases.settlements.lists import SETTLEMENT_LIST
from creditors.permissions import can_confirm_payout_account
from creditors.selectors import creditor_active_for_request
from kravia_web.listing import list_from_request


def _creditor_or_redirect(request):
    creditor = creditor_active_for_request(request)
    if creditor is None:
        messages.info(request, _("Legg til selskapet ditt som kreditor for å komme i gang."))
    return creditor


@require_GET
def settlement_list(request):
    creditor = _creditor_or_redirect(request)
    if creditor is None:
        return redirect("creditor_add")
    listing = list_from_request(
        request,
        spec=SETTLEMENT_LIST,
        queryset=selectors.settlement_list_for_creditor(creditor=creditor),
    )
    if listing.export_format:
        return listing.export_response()
    return render(
        request,
        "collections_cases/settlement_list.html",
        {
            "creditor": creditor,
            "listing": listing,
            "page": listing.page,
            # The payout-account hold (issue 15): who may confirm it.
            "today": timezone.localdate(),
            "can_confirm_payout_account": can_confirm_payout_account(
                user=request.user, creditor=creditor
            ),
        },
    )


@require_GET
def settlement_detail(request, settlement_id: int):
    creditor = _creditor_or_redirect(request)
    if creditor is None:
        return redirect("creditor_add")
    settlement = selectors.settlement_get_for_creditor(
        creditor=creditor, settlement_id=settlement_id
    )
    return render(
        request,
        "collections_cases/settlement_detail.html",
        {
            "creditor": creditor,
            "settlement": settlement,
            "lines": settlement.lines.all(),
            "postings": settlement.voucher_lines,
            "go_posting": selectors.settlement_go_posting(settlement=settlement),
        },
    )


@require_GET
def settlement_pdf(request, settlement_id: int):
    creditor = _creditor_or_redirect(request)
    if creditor is None:
        return redirect("creditor_add")
    settlement = selectors.settlement_get_for_creditor(
        creditor=creditor, settlement_id=settlement_id
    )
    services.settlement_render_statement(settlement=settlement)
    with settlement.statement_pdf.open("rb") as handle:
        data = handle.read()
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("last-ned") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="oppgjor-{settlement.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def settlement_booked(request, settlement_id: int):
    creditor = _creditor_or_redirect(request)
    if creditor is None:
        return redirect("creditor_add")
    settlement = selectors.settlement_get_for_creditor(
        creditor=creditor, settlement_id=settlement_id
    )
    services.settlement_mark_booked(settlement=settlement, actor=request.user)
    messages.success(
        request, _("Oppgjør %(number)s er markert som bokført.") % {"number": settlement.number}
    )
    return redirect("settlement_detail", settlement_id=settlement.pk)

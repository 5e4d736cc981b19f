"""*Logg*: who did what for a creditor, newest first, paginated (thin)."""

from django.core.paginator import Paginator
from django.shortcuts import render

from collections_cases.audit.selectors import audit_log, audit_log_lines
from creditors.selectors import creditor_get_for_user

LOG_PER_PAGE = 50


def audit_log_page(request, creditor_id):
    creditor = creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    page = Paginator(audit_log(creditor=creditor), LOG_PER_PAGE).get_page(request.GET.get("side"))
    return render(
        request,
        "creditors/audit_log.html",
        {"creditor": creditor, "page": page, "lines": audit_log_lines(page.object_list)},
    )

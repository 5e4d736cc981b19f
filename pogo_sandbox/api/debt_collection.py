"""v1 ``DebtCollection/…``: what the agency calls to pick up cases and report back to Go."""

import json
import uuid
from decimal import Decimal, InvalidOperation

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from pogo_sandbox import domain
from pogo_sandbox.domain.cases import require_debt_collection_active
from pogo_sandbox.models import DebtCollectionCase, OutgoingInvoice

from . import odata, v1_serializers
from .endpoints import v1_endpoint
from .http import ApiError
from .pdf import invoice_pdf

INVOICE_FIELDS = {
    "invoiceNo": "invoice_no",
    "customerCode": "customer__number",
    "dueDate": "due_date",
    "invoiceDate": "voucher_date",
    "lastChanged": "last_changed",
    "remainingAmount": "balance",
}
CASE_FIELDS = {"code": "code", "status": "status", "lastChanged": "last_changed"}


def _bad(detail):
    return ApiError(400, "Bad Request", detail)


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad("The body must be a JSON object.")
    return {key.lower(): value for key, value in body.items()}


def _uuid(value, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise _bad(f"{name} must be a guid.") from exc


def _uuids(values, name: str) -> list[uuid.UUID]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise _bad(f"{name} must be a list.")
    return [_uuid(v.get("id") if isinstance(v, dict) else v, name) for v in values]


def _decimal(value, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise _bad(f"{name} must be a number.") from exc


@v1_endpoint()
def is_active(request):
    return domain.debt_collection_active(request.subscription)


@v1_endpoint()
def available_invoices(request):
    require_debt_collection_active(request.subscription)
    invoices = domain.available_invoices(request.company).filter(
        odata.filter_query(request.GET.get("$filter"), INVOICE_FIELDS)
    )
    page = list(odata.top_skip(request, invoices))
    # DataPage.count is the total behind the filter, not the length of this page.
    return [v1_serializers.invoice(i) for i in page], invoices.count()


def _cases(request):
    return DebtCollectionCase.objects.filter(
        company=request.company, application=request.application
    ).order_by("created_at")


@v1_endpoint(methods=("GET", "POST"))
def cases(request):
    if request.method == "POST":
        body = _body(request)
        code = str(body.get("code") or "").strip()
        if not code:
            raise _bad("code is required.")
        case = domain.create_case(
            request.subscription,
            code=code,
            invoice_ids=_uuids(body.get("invoiceids") or body.get("invoices"), "invoices"),
            external_case_url=str(body.get("externalcaseurl") or ""),
            balance_agency=_decimal(body.get("balanceagency"), "balanceAgency"),
        )
        return v1_serializers.case(case)
    found = _cases(request).filter(odata.filter_query(request.GET.get("$filter"), CASE_FIELDS))
    page = list(odata.top_skip(request, found))
    return [v1_serializers.case(c) for c in page], found.count()


@v1_endpoint(methods=("GET", "DELETE"))
def case_detail(request, case_id):
    case = _cases(request).filter(id=_uuid(case_id, "id")).first()
    if case is None:
        raise ApiError(404, "Not Found", f"Fant ikke inkassosak {case_id}.")
    if request.method == "DELETE":
        domain.reject_case(request.subscription, case_id=case.id)
        return True
    return v1_serializers.case(case)


@v1_endpoint(methods=("POST",))
def add_invoices_to_case(request):
    body = _body(request)
    case = domain.add_invoices_to_case(
        request.subscription,
        case_id=_uuid(body.get("caseid"), "caseId"),
        invoice_ids=_uuids(body.get("invoiceids"), "invoiceIds"),
    )
    return v1_serializers.case(case)


@v1_endpoint(methods=("POST",))
def update_status(request):
    body = _body(request)
    case = domain.update_case_status(
        request.subscription,
        case_id=_uuid(body.get("caseid"), "caseId"),
        status_text=str(body.get("statustext") or ""),
        is_closed=bool(body.get("iscaseclosed")),
        balance_agency=_decimal(body.get("updatedbalanceagency"), "updatedBalanceAgency"),
    )
    return v1_serializers.case(case)


@v1_endpoint(methods=("POST",))
def merge_cases(request):
    body = _body(request)
    case = domain.merge_cases(
        request.subscription,
        case_ids=_uuids(body.get("caseids"), "caseIds"),
        code=str(body.get("caseno") or body.get("code") or ""),
        external_case_url=str(body.get("externalcaseurl") or ""),
    )
    return v1_serializers.case(case)


@v1_endpoint()
def matched_items(request):
    raw = (request.GET.get("fromDateTime") or "").strip().replace(" ", "+")
    since = parse_datetime(raw)
    if since is None and parse_date(raw[:10]):
        since = parse_datetime(f"{raw[:10]}T00:00:00")
    if since is None:
        raise _bad("fromDateTime must be a date or timestamp.")
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    grouped = domain.matched_items_since(request.subscription, since)
    return [v1_serializers.case_with_matches(c, e) for c, e in grouped], len(grouped)


@v1_endpoint()
def invoice_pdf_view(request, invoice_id):
    invoice = (
        OutgoingInvoice.objects.filter(company=request.company, id=_uuid(invoice_id, "id"))
        .select_related("customer", "company")
        .first()
    )
    if invoice is None:
        raise ApiError(404, "Not Found", f"Fant ikke faktura {invoice_id}.")
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="faktura-{invoice.invoice_no}.pdf"'
    return response

"""Voucher proposals (``JournalEntryVouchers/...``), posted bank vouchers (``Vouchers/BankJournals``)
and ``VoucherDocumentation``."""

import json
from decimal import Decimal

from django.db.models import Q
from django.http import HttpResponse

from pogo_sandbox import domain
from pogo_sandbox.models import JournalVoucher, OutgoingInvoice, VatCode

from . import params, serializers
from .endpoints import v2_endpoint
from .http import ApiError, dumps, json_response
from .invoices import get_invoice
from .pdf import invoice_pdf


def _bad(detail):
    return ApiError(400, "Bad Request", detail)


def _lines(body, key: str) -> list[dict]:
    """The lines as received, amounts as plain JSON numbers (the body is parsed to Decimal)."""
    lines = body.get(key) or []
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise _bad(f"{key} must be a list of lines.")
    return json.loads(dumps(lines))


def _check_accounts(company, lines, keys) -> None:
    valid = domain.account_ids(company)
    for number, line in enumerate(lines, start=1):
        for key in keys:
            account = line.get(key)
            if account is not None and account not in valid:
                raise _bad(f"Line {number}: {key} {account} does not exist.")
        params.to_decimal(line.get("CurrencyAmount", 0), f"Line {number}: CurrencyAmount")


def _check_vat_codes(company, lines, keys) -> None:
    """A line's VAT code, when it names one, must exist on the client (null: no VAT code)."""
    known = set(VatCode.objects.filter(company=company).values_list("pk", flat=True))
    for number, line in enumerate(lines, start=1):
        for key in keys:
            vat = line.get(key)
            if vat is not None and vat not in known:
                raise _bad(f"Line {number}: {key} {vat} does not exist.")


def _header(body) -> dict:
    if not isinstance(body, dict):
        raise _bad("The body must be a JSON object.")
    return {
        "voucher_date": params.to_date(params.require(body, "VoucherDate"), "VoucherDate"),
        "currency_code": str(params.require(body, "CurrencyCode")).upper(),
        "description": str(body.get("Description") or "")[:500],
    }


def _proposal(request, kind: str, lines_key: str):
    body = params.json_body(request)
    header = _header(body)
    lines = _lines(body, lines_key)
    if not lines:
        raise _bad(f"{lines_key} must contain at least one line.")
    _check_accounts(request.company, lines, ("DebitAccountId", "CreditAccountId"))
    _check_vat_codes(request.company, lines, ("DebitVatId", "CreditVatId"))
    debits, credits = domain.voucher_balance(lines)
    if debits != credits:
        raise _bad(f"The voucher does not balance (debit {debits}, credit {credits}).")
    voucher = domain.receive_voucher(
        request.company,
        application=request.application,
        kind=kind,
        comment=str(body.get("Comment") or ""),
        lines=lines,
        **header,
    )
    return json_response(serializers.bank_journal_proposal(voucher), status=201)


@v2_endpoint(methods=("POST",), privilege="JournalEntryVoucher_Full")
def bank_journal_proposal(request):
    return _proposal(request, JournalVoucher.Kind.BANK, "BankJournalLines")


@v2_endpoint(methods=("POST",), privilege="JournalEntryVoucher_Full")
def manual_journal_proposal(request):
    return _proposal(request, JournalVoucher.Kind.MANUAL, "ManualVoucherLines")


def _own_voucher(request, voucher_id, **filters) -> JournalVoucher:
    """The integration sees only vouchers it created (as the real Go: "or is the current
    approver of", which the sandbox has no workflow for)."""
    voucher = JournalVoucher.objects.filter(
        company=request.company,
        pk=params.to_uuid(voucher_id, "voucher"),
        application=request.application,
        **filters,
    ).first()
    if voucher is None:
        raise ApiError(404, "Object(s) not found", f"Voucher with id = {voucher_id} not found.")
    return voucher


@v2_endpoint(privilege="JournalEntryVoucher_Full")
def journal_entry_vouchers(request):
    """``GET /JournalEntryVouchers``: lightweight list items, oldest first."""
    vouchers = JournalVoucher.objects.filter(company=request.company).order_by("created_at")
    created = params.timestamp(request, "createdDateTimeOffsetGreaterThan")
    if created is not None:
        vouchers = vouchers.filter(created_at__gt=created)
    changed = params.timestamp(request, "lastChangedDateTimeOffsetGreaterThan")
    if changed is not None:
        vouchers = vouchers.filter(Q(created_at__gt=changed) | Q(posted_at__gt=changed))
    if params.param(request, "isPosted") not in (None, ""):
        vouchers = vouchers.filter(is_posted=params.boolean(request, "isPosted"))
    return [
        serializers.journal_entry_voucher_item(v, request.application)
        for v in params.page(request, vouchers.prefetch_related("pages"))
    ]


@v2_endpoint(privilege="JournalEntryVoucher_Full")
def bank_journal_proposal_detail(request, voucher_id):
    voucher = _own_voucher(request, voucher_id, kind=JournalVoucher.Kind.BANK)
    return serializers.bank_journal_proposal(voucher)


@v2_endpoint(methods=("POST",), privilege="JournalEntryVoucher_Full")
def voucher_pages(request, voucher_id):
    """``POST /JournalEntryVouchers/{id}/VoucherPages``: multipart/form-data, field ``file``."""
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ApiError(415, "Unsupported Media Type", "Content-Type must be multipart/form-data.")
    upload = request.FILES.get("file")
    if upload is None:
        raise _bad("The file field is required.")
    voucher = _own_voucher(request, voucher_id)
    try:
        domain.add_voucher_page(
            voucher,
            filename=upload.name,
            content=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
        )
    except domain.VoucherPosted as exc:
        raise ApiError(409, "Object conflict", str(exc)) from exc
    return HttpResponse(status=201)


@v2_endpoint(methods=("POST",), privilege="Voucher_Full")
def posted_bank_journal(request):
    body = params.json_body(request)
    header = _header(body)
    lines = _lines(body, "VoucherLines")
    if not lines:
        raise _bad("VoucherLines must contain at least one line.")
    for number, line in enumerate(lines, start=1):
        for key in ("AccountId", "PostingDate"):
            if line.get(key) in (None, ""):
                raise _bad(f"Line {number}: {key} is required.")
    _check_accounts(request.company, lines, ("AccountId",))
    _check_vat_codes(request.company, lines, ("VatId",))
    total = sum(
        (params.to_decimal(line.get("CurrencyAmount", 0), "CurrencyAmount") for line in lines),
        Decimal("0"),
    )
    if total != 0:
        raise _bad(f"The voucher does not balance (sum of CurrencyAmount is {total}).")
    try:
        voucher = domain.receive_voucher(
            request.company,
            application=request.application,
            kind=JournalVoucher.Kind.BANK,
            lines=lines,
            external_import_reference=str(body.get("ExternalImportReference") or ""),
            post=True,
            **header,
        )
    except domain.DuplicateReference as exc:
        raise ApiError(409, "Conflict", str(exc)) from exc
    return json_response(serializers.bank_voucher(voucher), status=201)


def _documented_invoices(request):
    invoices = OutgoingInvoice.objects.filter(company=request.company).order_by("voucher_no")
    voucher_id = params.param(request, "id")
    if voucher_id:
        invoices = invoices.filter(id=params.to_uuid(voucher_id, "voucher"))
    voucher_no = params.integer(request, "voucherNo")
    if voucher_no is not None:
        invoices = invoices.filter(voucher_no=voucher_no)
    return invoices


@v2_endpoint(privilege="VoucherDocumentation_Read")
def voucher_documentation(request):
    return [
        serializers.voucher_documentation(i)
        for i in params.page(request, _documented_invoices(request))
    ]


@v2_endpoint(privilege="VoucherDocumentation_Read")
def voucher_documentation_download(request):
    voucher_id = params.param(request, "id")
    if not voucher_id:
        raise _bad("The id parameter is required.")
    invoice = get_invoice(request.company, voucher_id)
    kind = (params.param(request, "documentationType") or "Pdf").lower()
    if kind not in ("pdf", "all", "ehf", "images"):
        raise _bad("documentationType must be Ehf, Pdf, Images or All.")
    if kind in ("ehf", "images"):
        return HttpResponse(status=204)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="faktura-{invoice.invoice_no}.pdf"'
    return response

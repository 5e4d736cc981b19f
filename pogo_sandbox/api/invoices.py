"""``OutgoingInvoices`` and ``OutgoingInvoices/{id}``."""

from pogo_sandbox.models import OutgoingInvoice

from . import params, serializers
from .endpoints import v2_endpoint
from .http import ApiError

TIMESTAMP_FILTERS = {
    "balanceLastChangedDateTimeOffsetGreaterThan": "balance_last_changed__gt",
    "lastChangedDateTimeOffsetGreaterThan": "last_changed__gt",
    "createdDateTimeOffsetGreaterThan": "created_at__gt",
    "sentDateTimeOffsetGreaterThan": "sent_at__gt",
}


@v2_endpoint(privilege="OutgoingInvoice_Read")
def invoice_list(request):
    invoices = (
        OutgoingInvoice.objects.filter(company=request.company)
        .select_related("customer")
        .order_by("invoice_no")
    )
    if params.boolean(request, "onlyUnpaidInvoices"):
        invoices = invoices.exclude(balance=0)
    for name, lookup in TIMESTAMP_FILTERS.items():
        value = params.timestamp(request, name)
        if value is not None:
            invoices = invoices.filter(**{lookup: value})
    for name, field in (
        ("customerNos", "customer__number"),
        ("invoiceNos", "invoice_no"),
        ("voucherNos", "voucher_no"),
    ):
        numbers = params.number_ranges(request, name, field)
        if numbers is not None:
            invoices = invoices.filter(numbers)
    ids = params.uuids(request, "invoiceIds")
    if ids is not None:
        invoices = invoices.filter(id__in=ids)
    from_date = params.date(request, "fromDate")
    if from_date:
        invoices = invoices.filter(voucher_date__gte=from_date)
    to_date = params.date(request, "toDate")
    if to_date:
        invoices = invoices.filter(voucher_date__lte=to_date)
    return [serializers.outgoing_invoice(i) for i in params.page(request, invoices)]


def get_invoice(company, invoice_id) -> OutgoingInvoice:
    invoice = (
        OutgoingInvoice.objects.filter(company=company, id=params.to_uuid(invoice_id, "invoice"))
        .select_related("customer")
        .first()
    )
    if invoice is None:
        raise ApiError(404, "Not Found", f"Outgoing invoice with id = {invoice_id} not found.")
    return invoice


@v2_endpoint(privilege="OutgoingInvoice_Read")
def invoice_detail(request, invoice_id):
    return serializers.outgoing_invoice(get_invoice(request.company, invoice_id))

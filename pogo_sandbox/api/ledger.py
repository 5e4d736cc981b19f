"""``Customerledger/OpenItems``, ``Customerledger/EntriesByMatchId``, ``GeneralLedgerAccounts``,
``VatCodes``."""

from collections import defaultdict
from decimal import Decimal

from pogo_sandbox import domain
from pogo_sandbox.models import GeneralLedgerAccount, LedgerEntry, VatCode

from . import params, serializers
from .endpoints import v2_endpoint
from .http import ApiError


def open_items_on(company, on, *, customer_filter=None, invoice_filter=None):
    """Entries still open on ``on``: invoices with a remaining balance and unmatched entries.

    An item's ``Balance`` is what is left of its match group as of that date.
    """
    entries = (
        LedgerEntry.objects.filter(company=company, voucher_date__lte=on)
        .select_related("customer")
        .order_by("voucher_date", "voucher_no", "pk")
    )
    if customer_filter is not None:
        entries = entries.filter(customer_filter)
    groups = defaultdict(list)
    for entry in entries:
        groups[entry.match_id if entry.match_id is not None else f"u{entry.pk}"].append(entry)
    items = []
    for group in groups.values():
        remaining = sum((e.amount for e in group), Decimal("0"))
        if remaining == 0:
            continue
        head = next((e for e in group if e.voucher_type == "OutgoingInvoice"), group[0])
        items.append((head, remaining))
    if invoice_filter is not None:
        allowed = set(
            LedgerEntry.objects.filter(company=company)
            .filter(invoice_filter)
            .values_list("pk", flat=True)
        )
        items = [(head, remaining) for head, remaining in items if head.pk in allowed]
    return sorted(items, key=lambda item: (item[0].voucher_date, item[0].pk))


@v2_endpoint(privilege="CustomerLedger_Read")
def open_items(request):
    on = params.date(request, "date", default=domain.oslo_today())
    items = open_items_on(
        request.company,
        on,
        customer_filter=params.number_ranges(request, "customerNos", "customer__number"),
        invoice_filter=params.number_ranges(request, "invoiceNos", "invoice_no"),
    )
    changed = params.timestamp(request, "lastChangedDateTimeOffsetGreaterThan")
    if changed:
        items = [item for item in items if item[0].last_changed > changed]
    created = params.timestamp(request, "createdDateTimeOffsetGreaterThan")
    if created:
        items = [item for item in items if item[0].created_at > created]
    return [
        serializers.ledger_entry(head, balance=rest) for head, rest in params.page(request, items)
    ]


@v2_endpoint(privilege="CustomerLedger_Read")
def statement(request):
    """Every customer-ledger entry dated ``fromDate``..``toDate`` (inclusive)."""
    from_date, to_date = params.date(request, "fromDate"), params.date(request, "toDate")
    if from_date is None or to_date is None:
        raise ApiError(400, "Bad Request", "fromDate and toDate are required.")
    entries = (
        LedgerEntry.objects.filter(
            company=request.company, voucher_date__gte=from_date, voucher_date__lte=to_date
        )
        .select_related("customer")
        .order_by("voucher_date", "voucher_no", "pk")
    )
    customers = params.number_ranges(request, "customerNos", "customer__number")
    if customers is not None:
        entries = entries.filter(customers)
    return [serializers.ledger_entry(e) for e in params.page(request, entries)]


@v2_endpoint(privilege="CustomerLedger_Read")
def entries_by_match_id(request):
    match_id = params.integer(request, "matchId")
    if match_id is None:
        raise ApiError(400, "Bad Request", "The matchId parameter is required.")
    entries = (
        LedgerEntry.objects.filter(company=request.company, match_id=match_id)
        .select_related("customer")
        .order_by("voucher_date", "voucher_no", "pk")
    )
    remaining = sum((e.amount for e in entries), Decimal("0"))
    return [
        serializers.ledger_entry(e, balance=remaining if e.voucher_type == "OutgoingInvoice" else 0)
        for e in params.page(request, entries)
    ]


@v2_endpoint(privilege="GeneralLedgerAccount_Read")
def general_ledger_accounts(request):
    accounts = GeneralLedgerAccount.objects.filter(company=request.company).order_by("account_no")
    numbers = params.number_ranges(request, "accountNos", "account_no")
    if numbers is not None:
        accounts = accounts.filter(numbers)
    changed = params.timestamp(request, "lastChangedDateTimeOffsetGreaterThan")
    if changed:
        accounts = accounts.filter(last_changed__gt=changed)
    return [serializers.general_ledger_account(a) for a in params.page(request, accounts)]


@v2_endpoint(privilege="VatCode_Read")
def vat_codes(request):
    codes = VatCode.objects.filter(company=request.company).order_by("code")
    return [serializers.vat_code(v) for v in params.page(request, codes)]

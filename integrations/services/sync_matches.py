"""Matched items (v1 ``GetAllMatchedItems``) and paid invoices → the cases' ledgers.

What the creditor registered in Go against a case invoice reduces that invoice's part of the
principal: a payment (the debtor paid the creditor directly), a credit note, or a write-off
(Go's «Avskriv»). Each item is recorded once (``MatchedItem``, unique per creditor and PoGo
id), so a second sync changes nothing. An invoice whose ``Balance`` reached 0 in Go without a
matched item explaining it is settled as paid directly.

When nothing is left of a case's principal the case closes: *written off* or *credited* when
that is what emptied it, *paid directly* when the whole balance (costs too) is paid.

Our own settlement vouchers come back too: when the creditor posts the voucher we sent (or the
lines of a settlement they post by hand, mode *none*), Go matches its receivable credit to the
invoice and reports it as a payment. That money was already booked on the case as the
agency's payment, so such an item — a payment on an invoice for which we settled exactly that
amount of principal and have not seen the echo of yet — is recorded as ``own_settlement``
(tied to its ``SettlementInvoicePart``) and books nothing, on open and closed cases alike. For
the same reason an invoice at ``Balance`` 0 in Go is settled as paid directly only for what
exceeds the principal we settled on it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.cases.selectors import case_balance
from collections_cases.cases.services import case_close, case_lock
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    SettlementInvoicePart,
)
from collections_cases.signals import case_changed
from integrations.models import MatchedItem, PogoInvoiceState, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.services.cursors import cursor_advance, cursor_since, read_started
from integrations.services.settlement_wait import ECHOED_STATES
from integrations.services.vouchers import settlements_booked_in_go
from kravia_web.money import format_nok, to_ore

RESOURCE = "matched_items"
POGO_ACTOR = "PowerOffice Go"
#: Matched items only exist for invoices in the agency's cases: reading from long ago is cheap.
BEGINNING = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

Kind = LedgerEntry.Kind
CloseReason = CollectionCase.CloseReason
#: What makes up an invoice's part of the principal (a write-off ends it, too).
INVOICE_PART_KINDS = (Kind.PRINCIPAL, Kind.DIRECT_PAYMENT, Kind.CREDIT_NOTE, Kind.WRITE_OFF)


def _kind(item) -> str:
    if item.is_write_off:
        return Kind.WRITE_OFF
    if "creditnote" in (item.voucher_type or "").lower():
        return Kind.CREDIT_NOTE
    return Kind.DIRECT_PAYMENT


def _outstanding_by_invoice(case: CollectionCase) -> dict[int, Decimal]:
    rows = (
        LedgerEntry.objects.filter(case=case, invoice__isnull=False, kind__in=INVOICE_PART_KINDS)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
    )
    # to_ore: SQLite sums decimals as floats (1000.00 may come back as 999.99999999999).
    return {row["invoice_id"]: to_ore(row["total"]) for row in rows}


def _description(kind: str, invoice: Invoice, voucher_no=None) -> str:
    values = {"number": invoice.invoice_no, "voucher": voucher_no or "–"}
    if kind == Kind.WRITE_OFF:
        text = _("Faktura %(number)s avskrevet i PowerOffice Go (bilag %(voucher)s)")
    elif kind == Kind.CREDIT_NOTE:
        text = _("Kreditnota mot faktura %(number)s i PowerOffice Go (bilag %(voucher)s)")
    else:
        text = _("Faktura %(number)s betalt til kreditor (bilag %(voucher)s i PowerOffice Go)")
    return (text % values)[:200]


def _close_if_settled(case: CollectionCase, outstanding: dict, kinds: set[str]) -> bool:
    """Close the (locked) case when its principal is gone; the reason is what emptied it."""
    if sum(outstanding.values(), Decimal("0")) > 0:
        return False
    if Kind.WRITE_OFF in kinds:
        reason = CloseReason.WRITTEN_OFF
    elif Kind.CREDIT_NOTE in kinds:
        reason = CloseReason.CREDITED
    elif to_ore(case_balance(case)) <= 0:
        reason = CloseReason.PAID_DIRECTLY
    else:
        return False  # the principal is paid; costs remain to collect
    case_close(case=case, actor=POGO_ACTOR, reason=reason, note=_("Registrert i PowerOffice Go."))
    return True


def _apply(case_id: int, lines: list[tuple], *, log) -> None:
    """Book ``lines`` (``(kind, invoice, amount, booked_on, voucher_no, item)``) on the case in
    one transaction: ledger entries capped at what is left of each invoice, one event, the
    matched items recorded, and the case closed when settled."""
    today = timezone.localdate()
    with transaction.atomic():
        case = case_lock(case_id=case_id)
        outstanding = _outstanding_by_invoice(case)
        entries, records, kinds = [], [], set()
        for kind, invoice, amount, booked_on, voucher_no, item in lines:
            applied = Decimal("0")
            if case.is_open:
                applied = to_ore(
                    min(abs(amount), max(outstanding.get(invoice.pk, Decimal("0")), 0))
                )
            if applied > 0:
                outstanding[invoice.pk] -= applied
                kinds.add(kind)
                entries.append(
                    LedgerEntry(
                        case=case,
                        invoice=invoice,
                        kind=kind,
                        amount=-applied,
                        booked_on=min(booked_on or today, today),
                        description=_description(kind, invoice, voucher_no),
                    )
                )
            if item is not None:
                item.case = case
                item.applied_amount = applied
                item.outcome = (
                    MatchedItem.Outcome.APPLIED if applied > 0 else MatchedItem.Outcome.IGNORED
                )
                records.append(item)
        MatchedItem.objects.bulk_create(records)
        if not entries:
            return
        LedgerEntry.objects.bulk_create(entries)
        total = -sum(entry.amount for entry in entries)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.DIRECT_PAYMENT
            if kinds == {Kind.DIRECT_PAYMENT}
            else CaseEvent.Kind.NOTE,
            actor_label=POGO_ACTOR,
            message=_(
                "Registrert i PowerOffice Go: %(lines)s. Hovedstolen er redusert med %(amount)s."
            )
            % {"lines": "; ".join(e.description for e in entries), "amount": format_nok(total)},
            data={
                "source": "poweroffice",
                "lines": [
                    {"kind": e.kind, "invoice": e.invoice.invoice_no, "amount": str(-e.amount)}
                    for e in entries
                ],
            },
        )
        transaction.on_commit(
            lambda: case_changed.send(
                sender=CollectionCase, case_id=case_id, kind=CaseEvent.Kind.DIRECT_PAYMENT
            )
        )
        log.count(RESOURCE, "applied", len(entries))
        if _close_if_settled(case, outstanding, kinds):
            log.count(RESOURCE, "cases_closed")


def sync_matched_items(
    *, connection: PowerOfficeConnection, client: PowerOfficeClient, log
) -> None:
    next_cursor = read_started()
    items = client.dc_matched_items_since(cursor_since(connection, RESOURCE) or BEGINNING)
    log.count(RESOURCE, "fetched", len(items))
    creditor = connection.creditor
    unique = {item.id: item for item in items}
    seen = set(
        MatchedItem.objects.filter(creditor=creditor, pogo_id__in=list(unique)).values_list(
            "pogo_id", flat=True
        )
    )
    new = [item for pogo_id, item in unique.items() if pogo_id not in seen]
    states = PogoInvoiceState.objects.filter(
        creditor=creditor, match_id__in={i.match_id for i in new if i.match_id is not None}
    ).select_related("invoice")
    invoice_by_match = {state.match_id: state.invoice for state in states}

    echoes = _unechoed_parts({i.pk for i in invoice_by_match.values()})
    by_case: dict[int, list[tuple]] = defaultdict(list)
    unmatched, own = [], []
    booked: dict[int, dt.datetime] = {}  # settlement id → when Go matched our voucher
    for item in new:
        record = MatchedItem(
            creditor=creditor,
            pogo_id=item.id,
            match_id=item.match_id,
            voucher_type=(item.voucher_type or "")[:60],
            voucher_no=item.voucher_no,
            voucher_date=item.voucher_date,
            amount=item.amount,
            is_write_off=item.is_write_off,
        )
        invoice = invoice_by_match.get(item.match_id)
        record.invoice = invoice
        if invoice is None or invoice.case_id is None:
            record.outcome = MatchedItem.Outcome.UNMATCHED
            unmatched.append(record)
            log.skip(
                RESOURCE,
                _("bilag %(voucher)s") % {"voucher": item.voucher_no},
                _("Fant ingen sak med fakturaen posten er avstemt mot."),
            )
            continue
        kind = _kind(item)
        part = _take_echo(echoes, invoice, item.amount) if kind == Kind.DIRECT_PAYMENT else None
        if part is not None:
            record.case_id = invoice.case_id
            record.settlement_part = part
            record.outcome = MatchedItem.Outcome.OWN_SETTLEMENT
            own.append(record)
            booked_at = item.last_changed or timezone.now()
            settlement_id = part.line.settlement_id
            booked[settlement_id] = min(booked.get(settlement_id, booked_at), booked_at)
            continue
        by_case[invoice.case_id].append(
            (kind, invoice, item.amount, item.voucher_date, item.voucher_no, record)
        )
    # Only a settlement's first echo books it (a later one is another line of the same voucher).
    echoed_before = set(
        SettlementInvoicePart.objects.filter(
            line__settlement_id__in=list(booked), pogo_matched_item__isnull=False
        ).values_list("line__settlement_id", flat=True)
    )
    MatchedItem.objects.bulk_create(unmatched + own)
    log.count(RESOURCE, "own_settlement", len(own))
    log.count(
        RESOURCE,
        "settlements_booked",
        settlements_booked_in_go(
            booked={pk: at for pk, at in booked.items() if pk not in echoed_before}
        ),
    )
    for case_id, lines in by_case.items():
        _apply(case_id, lines, log=log)
    cursor_advance(connection, RESOURCE, next_cursor)
    settle_paid_invoices(connection=connection, log=log)


def _settled_parts(invoice_ids):
    """Principal we settled on these invoices in settlements whose posting is (or will be)
    in the creditor's books."""
    return SettlementInvoicePart.objects.filter(
        invoice_id__in=list(invoice_ids), line__settlement__voucher_status__in=ECHOED_STATES
    )


def _unechoed_parts(invoice_ids) -> dict[int, list[SettlementInvoicePart]]:
    """Settled principal per invoice that Go has not reported back yet, oldest first."""
    parts = defaultdict(list)
    for part in (
        _settled_parts(invoice_ids)
        .filter(pogo_matched_item__isnull=True)
        .select_related("line")
        .order_by("line__settlement__settled_on", "pk")
    ):
        parts[part.invoice_id].append(part)
    return parts


def _take_echo(echoes: dict, invoice: Invoice, amount) -> SettlementInvoicePart | None:
    """The settled part this payment on ``invoice`` echoes: one of exactly its amount (Go
    reports one matched item per receivable line, and a settlement has one line per
    invoice)."""
    for part in echoes.get(invoice.pk, []):
        if to_ore(part.amount) == to_ore(abs(amount)):
            echoes[invoice.pk].remove(part)
            return part
    return None


def settle_paid_invoices(*, connection: PowerOfficeConnection, log) -> None:
    """Invoices of open cases whose balance is 0 in Go: what is left of their part of the
    principal is booked as paid directly to the creditor."""
    paid = list(
        Invoice.objects.filter(creditor=connection.creditor, case__isnull=False, balance__lte=0)
        .exclude(case__status=CollectionCase.Status.CLOSED)
        .order_by("case_id", "invoice_no")
    )
    if not paid:
        return
    by_case = defaultdict(list)
    for invoice in paid:
        by_case[invoice.case_id].append(invoice)
    left = defaultdict(Decimal)
    for row in (
        LedgerEntry.objects.filter(invoice__in=paid, kind__in=INVOICE_PART_KINDS)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
    ):
        left[row["invoice_id"]] = to_ore(row["total"])
    # Principal we settled was paid to the agency (booked as the agency's payment), and our
    # voucher is what took it off the invoice in Go: not a direct payment.
    for row in (
        _settled_parts(invoice.pk for invoice in paid)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
    ):
        left[row["invoice_id"]] -= to_ore(row["total"])
    for case_id, invoices in by_case.items():
        lines = [
            (Kind.DIRECT_PAYMENT, invoice, left[invoice.pk], None, None, None)
            for invoice in invoices
            if left[invoice.pk] > 0
        ]
        if lines:
            _apply(case_id, lines, log=log)

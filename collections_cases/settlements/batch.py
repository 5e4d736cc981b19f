"""One batch of the settlement run, step by step (``services._settle_batch_locked`` calls the
steps in order, inside the caller's transaction): lock the creditors, read what waits for
them, compute each case's line and each creditor's total, then write the settlements, their
lines and invoice parts, link the allocations, store the voucher lines, deduct open claims,
record one event per case and announce the settlements. Set-based: one statement per kind of
row for the whole batch, whatever its creditors and cases (docs/performance.md)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from decimal import Decimal
from functools import lru_cache, partial

from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    Settlement,
    SettlementClaim,
    SettlementInvoicePart,
    SettlementLine,
)
from collections_cases.settlements.amounts import (
    MONEY_FIELDS,
    VAT_PERCENT,
    ZERO,
    CaseAmounts,
    line_amounts,
    split_over_invoices,
)
from collections_cases.settlements.vouchers import posting_lines
from collections_cases.signals import (
    settlement_committed,
    settlement_created,
    settlements_committed,
    settlements_created,
)
from creditors.models import Creditor
from kravia_web.money import format_nok, to_ore
from kravia_web.pg_bulk import insert_unnest
from kravia_web.pg_bulk import pg_array as _pg_array

logger = logging.getLogger(__name__)

Component = PaymentAllocation.Component
SETTLED_COMPONENTS = (Component.FEE, Component.SALAER, Component.INTEREST, Component.PRINCIPAL)
#: Ledger entries that make up an invoice's part of the principal (what is left to pay on it).
INVOICE_PART_KINDS = (
    LedgerEntry.Kind.PRINCIPAL,
    LedgerEntry.Kind.DIRECT_PAYMENT,
    LedgerEntry.Kind.CREDIT_NOTE,
    LedgerEntry.Kind.WRITE_OFF,
)
#: Allocations linked to their lines per UPDATE (one statement for a batch of ordinary size).
ALLOCATION_UPDATE_CHUNK = 20_000
_ATTRIBUTE = {
    Component.PRINCIPAL: "principal",
    Component.INTEREST: "interest",
    Component.FEE: "fees",
    Component.SALAER: "salaer",
}


def unsettled_allocations(on: dt.date):
    """Allocations waiting for a settlement. Never those of a payment the bank reversed: that
    money is no longer on the client account (docs/payments.md)."""
    return PaymentAllocation.objects.filter(
        settlement_line__isnull=True,
        payment__paid_on__lte=on,
        component__in=SETTLED_COMPONENTS,
    ).exclude(payment__status=Payment.Status.REVERSED)


def payout_held_reason(creditor: Creditor, *, on: dt.date) -> str:
    """Why ``creditor`` gets no payout on ``on`` ("" when it may): it is not verified, or its
    payout account changed and the hold runs (no second owner confirmed it)."""
    if not creditor.is_verified:
        return _(
            "Kreditoren er ikke verifisert ennå; vi utbetaler ikke før den er verifisert "
            "(PowerOffice Go-tilkobling med samme organisasjonsnummer, eller av en "
            "saksbehandler)."
        )
    if creditor.payout_hold_active(on):
        return _(
            "Kontonummeret for utbetaling ble endret %(changed)s; utbetalinger holdes tilbake "
            "til og med %(until)s med mindre en annen eier bekrefter det nye kontonummeret."
        ) % {
            "changed": timezone.localtime(creditor.payout_account_changed_at).strftime("%d.%m.%Y")
            if creditor.payout_account_changed_at
            else "",
            "until": creditor.payout_hold_until.strftime("%d.%m.%Y"),
        }
    return ""


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SettleBatch:
    """The state of one batch between its steps. ``todo``: the creditors locked and not yet
    settled for ``on``; ``settling``: those of them with a positive payout; ``result()``:
    ``(created ids, existing ids, skipped {creditor id: why})``."""

    def __init__(self, creditor_ids: list[int], on: dt.date) -> None:
        self.creditor_ids = creditor_ids
        self.on = on
        self.nothing = _("Ingenting å gjøre opp.")
        self.creditors: dict[int, Creditor] = {}
        self.existing: dict[int, int] = {}  # creditor → its settlement for ``on``
        self.skipped: dict[int, str] = {}
        self.todo: list[int] = []
        # (pk, case, creditor, component, amount, paid on), by case then pk.
        self.allocations: list[tuple] = []
        self.cases: dict[int, list] = defaultdict(list)  # creditor → [case ids] (ascending)
        self.by_case: dict[int, CaseAmounts] = {}
        self.first_paid: dict[int, dt.date] = {}
        self.open_claims: dict[int, list] = defaultdict(list)
        self.computed: dict[int, dict[str, Decimal]] = {}  # case → its line's amounts
        self.totals: dict[int, dict[str, Decimal]] = {}  # creditor → its settlement's
        self.settling: list[int] = []
        self.settlements: list[Settlement] = []
        self.line_by_case: dict[int, int] = {}

    def result(self) -> tuple[list[int], list[int], dict[int, str]]:
        return (
            [s.pk for s in self.settlements],
            [self.existing[pk] for pk in self.creditor_ids if pk in self.existing],
            self.skipped,
        )

    # -- read --------------------------------------------------------------------------------

    def lock_creditors(self) -> None:
        """Lock the creditors' rows (in id order) and find those already settled for ``on``."""
        self.creditors = {
            creditor.pk: creditor
            for creditor in Creditor.objects.select_for_update()
            .filter(pk__in=self.creditor_ids)
            .order_by("pk")
        }
        self.existing = dict(
            Settlement.objects.filter(
                creditor_id__in=self.creditor_ids, settled_on=self.on
            ).values_list("creditor_id", "pk")
        )
        self.todo = [
            pk for pk in self.creditor_ids if pk in self.creditors and pk not in self.existing
        ]
        for pk in self.creditor_ids:
            if pk not in self.creditors:
                self.skipped[pk] = self.nothing

    def read_waiting_allocations(self) -> None:
        """The unsettled allocations of the creditors to do, summed per case by component;
        per creditor its cases (ascending) and the earliest payment date."""
        waiting = unsettled_allocations(self.on).filter(case__creditor_id__in=self.todo)
        self.allocations = list(
            waiting.order_by("case_id", "pk").values_list(
                "pk", "case_id", "case__creditor_id", "component", "amount", "payment__paid_on"
            )
        )
        by_case, first_paid = self.by_case, self.first_paid
        for _pk, case_id, creditor_id, component, amount, paid_on in self.allocations:
            amounts = by_case.get(case_id)
            if amounts is None:
                amounts = by_case[case_id] = CaseAmounts()
                self.cases[creditor_id].append(case_id)
            name = _ATTRIBUTE[component]
            setattr(amounts, name, getattr(amounts, name) + amount)
            if creditor_id not in first_paid or paid_on < first_paid[creditor_id]:
                first_paid[creditor_id] = paid_on

    def read_days_overdue(self) -> None:
        """Each case's days overdue when it was registered (its oldest invoice's due date):
        what the success commission depends on."""
        oldest_due = dict(
            Invoice.objects.filter(case_id__in=id_set(self.by_case))
            .values("case_id")
            .annotate(due=Min("due_date"))
            .values_list("case_id", "due")
        )
        for case_id, created_at in CollectionCase.objects.filter(
            pk__in=id_set(self.by_case)
        ).values_list("pk", "created_at"):
            if case_id in self.by_case:
                due = oldest_due.get(case_id)
                self.by_case[case_id].days_overdue = (
                    (timezone.localdate(created_at) - due).days if due else 0
                )

    def read_open_claims(self) -> None:
        """Payments reversed after they were paid out: deducted from the next payout."""
        for claim in (
            SettlementClaim.objects.filter(creditor_id__in=self.todo, deducted_in__isnull=True)
            .select_related("case")
            .order_by("pk")
        ):
            self.open_claims[claim.creditor_id].append(claim)

    # -- compute -----------------------------------------------------------------------------

    def compute_lines(self) -> None:
        """Each case's line and each creditor's total; a creditor with nothing waiting, a held
        payout or a payout that would not be positive is skipped (the money waits)."""
        for creditor_id in self.todo:
            case_ids = self.cases.get(creditor_id)
            if not case_ids:
                self.skipped[creditor_id] = self.nothing
                continue
            lines, total, skip = self._creditor_lines(self.creditors[creditor_id], case_ids)
            if skip:
                self.skipped[creditor_id] = skip
                continue
            self.totals[creditor_id] = total
            self.computed.update(zip(case_ids, lines, strict=True))
        self.settling = [pk for pk in self.todo if pk in self.totals]

    def _creditor_lines(self, creditor: Creditor, case_ids: list[int]):
        """``(lines, total, "")``, or ``(None, None, why)`` when the creditor is skipped."""
        # No payout to an unverified creditor, nor while a changed payout account is held
        # (issue 15): the money waits, unsettled, for the first run after (Utbetalinger
        # says why).
        held = payout_held_reason(creditor, on=self.on)
        if held:
            return None, None, held
        options = {
            "interest_to_creditor": creditor.interest_to == Creditor.InterestTo.CREDITOR,
            "vat_registered": creditor.vat_registered,
            "commission_percent": creditor.success_commission_percent,
            "commission_min_days": creditor.success_commission_min_days_overdue,
        }
        lines = [line_amounts(self.by_case[case_id], **options) for case_id in case_ids]
        total = {name: sum((c[name] for c in lines), ZERO) for name in MONEY_FIELDS}
        claims = sum((c.amount for c in self.open_claims.get(creditor.pk, ())), ZERO)
        if total["payout"] <= 0:
            return (
                None,
                None,
                _(
                    "Utbetalingen ville blitt %(amount)s (mva. på salær er større enn innkrevd "
                    "hovedstol); beløpet tas med i neste oppgjør."
                )
                % {"amount": format_nok(total["payout"])},
            )
        if total["payout"] - claims <= 0:
            return (
                None,
                None,
                _(
                    "Utbetalingen ville blitt %(amount)s etter trekk av tilbakeførte "
                    "innbetalinger (%(claims)s); beløpet tas med i neste oppgjør."
                )
                % {"amount": format_nok(total["payout"] - claims), "claims": format_nok(claims)},
            )
        total["claims"] = claims
        total["payout"] -= claims
        return lines, total, ""

    # -- write -------------------------------------------------------------------------------

    def create_settlements(self) -> None:
        """One settlement per creditor settling, its period from the day after its last one
        (or its first payment, whichever is earlier) to ``on``; with their ids."""
        on, settling = self.on, self.settling
        previous = dict(
            Settlement.objects.filter(creditor_id__in=settling, settled_on__lt=on)
            .values("creditor_id")
            .annotate(last=Max("settled_on"))
            .values_list("creditor_id", "last")
        )
        settlements = []
        for creditor_id in settling:
            creditor = self.creditors[creditor_id]
            last = previous.get(creditor_id)
            first = self.first_paid[creditor_id]
            settlements.append(
                Settlement(
                    creditor=creditor,
                    settled_on=on,
                    period_start=min(first, last + dt.timedelta(days=1)) if last else first,
                    period_end=on,
                    bookkeeping_mode=creditor.bookkeeping_mode,
                    vat_registered=creditor.vat_registered,
                    interest_to=creditor.interest_to,
                    commission_percent=creditor.success_commission_percent,
                    vat_percent=VAT_PERCENT,
                    payout_account=creditor.bank_account,
                    voucher_status=(
                        Settlement.VoucherStatus.MANUAL
                        if creditor.bookkeeping_mode == Creditor.BookkeepingMode.NONE
                        else Settlement.VoucherStatus.PENDING
                    ),
                    **self.totals[creditor_id],
                )
            )
        settlements = Settlement.objects.bulk_create(settlements)
        if any(s.pk is None for s in settlements):  # backends without RETURNING
            by_creditor = dict(
                Settlement.objects.filter(creditor_id__in=settling, settled_on=on).values_list(
                    "creditor_id", "pk"
                )
            )
            for settlement in settlements:
                settlement.pk = by_creditor[settlement.creditor_id]
        self.settlements = settlements

    @property
    def settlement_ids(self) -> list[int]:
        return [s.pk for s in self.settlements]

    def insert_lines(self) -> None:
        """One line per case, with the ids of the new lines by case."""
        settlement_by_creditor = {s.creditor_id: s for s in self.settlements}
        self.line_by_case = insert_rows(
            SettlementLine,
            [
                {
                    "settlement_id": settlement_by_creditor[creditor_id].pk,
                    "case_id": case_id,
                    "days_overdue": self.by_case[case_id].days_overdue,
                    **self.computed[case_id],
                }
                for creditor_id in self.settling
                for case_id in self.cases[creditor_id]
            ],
            key="case_id",
        )
        if None in self.line_by_case.values():  # backends without RETURNING
            self.line_by_case = dict(
                SettlementLine.objects.filter(settlement_id__in=self.settlement_ids).values_list(
                    "case_id", "pk"
                )
            )

    def insert_invoice_parts(self) -> None:
        """Each line's principal spread over its case's invoices, oldest due first."""
        open_by_case = _open_principal_by_invoice_of(list(self.line_by_case))
        insert_rows(
            SettlementInvoicePart,
            [
                {"line_id": self.line_by_case[case_id], "invoice_id": invoice_id, "amount": amount}
                for creditor_id in self.settling
                for case_id in self.cases[creditor_id]
                for invoice_id, amount in split_over_invoices(
                    self.computed[case_id]["principal"], open_by_case.get(case_id, [])
                )
            ],
        )

    def link_allocations(self) -> None:
        """Each allocation to the line that paid it out: its case's line in this batch."""
        settled_pks = [
            pk for pk, case_id, *_rest in self.allocations if case_id in self.line_by_case
        ]
        for chunk in chunks(settled_pks, ALLOCATION_UPDATE_CHUNK):
            _link_allocations(chunk, self.settlement_ids)

    def store_voucher_lines(self) -> None:
        """Each settlement's posting lines for the accounting system (one statement)."""
        posting_parts = _posting_parts_of(self.settlement_ids)
        for settlement in self.settlements:
            settlement.voucher_lines = posting_lines(
                settlement,
                mapping=self.creditors[settlement.creditor_id].account_mapping,
                parts=posting_parts.get(settlement.pk, []),
                claims=[
                    (c.case.number, c.principal, c.interest_to_creditor, c.commission, c.vat)
                    for c in self.open_claims.get(settlement.creditor_id, ())
                ],
            )
        _save_voucher_lines(self.settlements)

    def deduct_claims(self) -> None:
        """The open claims deducted from a payout are marked as deducted in it."""
        for settlement in self.settlements:
            deducted = [c.pk for c in self.open_claims.get(settlement.creditor_id, ())]
            if deducted:
                SettlementClaim.objects.filter(pk__in=deducted).update(deducted_in=settlement)

    def record_events(self) -> None:
        """One event per settled case, with the line's amounts."""
        actor_label = _("Oppgjørskjøring")
        template = _(
            "Oppgjort til kreditor i %(number)s: hovedstol %(principal)s, renter "
            "%(interest)s, gebyrer og salær %(costs)s; utbetales %(payout)s."
        )
        nok = lru_cache(maxsize=4096)(format_nok)  # many amounts repeat (0,00 above all)
        events = []
        for settlement in self.settlements:
            number = settlement.number
            for case_id in self.cases[settlement.creditor_id]:
                amounts = self.computed[case_id]
                events.append(
                    {
                        "case_id": case_id,
                        "kind": CaseEvent.Kind.SETTLEMENT,
                        "actor_label": actor_label,
                        "message": template
                        % {
                            "number": number,
                            "principal": nok(amounts["principal"]),
                            "interest": nok(amounts["interest"]),
                            "costs": nok(amounts["fees"] + amounts["salaer"]),
                            "payout": nok(amounts["payout"]),
                        },
                        "data": {
                            "settlement_id": settlement.pk,
                            **{name: str(amounts[name]) for name in MONEY_FIELDS},
                        },
                    }
                )
        insert_rows(CaseEvent, events)

    def announce(self) -> None:
        """The signals, now (per settlement, then the batch) and after the commit; a log line
        per settlement."""
        settlement_ids = self.settlement_ids
        # Per settlement too; receivers with a batch path leave the work to the batch signals.
        for settlement in self.settlements:
            settlement_created.send(sender=Settlement, settlement_id=settlement.pk, batched=True)
        settlements_created.send(sender=Settlement, settlement_ids=settlement_ids)
        transaction.on_commit(partial(_send_committed, settlement_ids))
        for settlement in self.settlements:
            logger.info(
                "Settlement %s for creditor %s: %s cases, payout %s",
                settlement.number,
                settlement.creditor_id,
                len(self.cases[settlement.creditor_id]),
                settlement.payout,
            )


# --- the statements behind the steps --------------------------------------------------------


def insert_rows(model, rows: list[dict], *, key: str | None = None) -> dict:
    """Insert ``rows`` (field attnames → values; other fields get their defaults, evaluated
    once for all) and return ``{row[key]: new pk}`` when ``key`` is given (pk None where the
    backend cannot say).

    On PostgreSQL one ``INSERT … SELECT FROM unnest(column arrays)``: ``bulk_create`` spends
    most of a batch's time building model instances and preparing each of their values in
    Python (cProfile of the run), which for these plain rows (numbers, text, a JSON document)
    the database does as well. Elsewhere ``bulk_create``."""
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create([model(**row) for row in rows])
        return {getattr(obj, key): obj.pk for obj in made} if key else {}
    columns = tuple(rows[0])
    return insert_unnest(
        model, columns, [tuple(row[name] for name in columns) for row in rows], returning=key or ""
    )


def id_set(ids):
    """``ids`` for an ``__in`` filter: on PostgreSQL one array (``IN (SELECT unnest(…))``),
    not a parameter per id; a batch holds thousands of cases."""
    ids = list(ids)
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [_pg_array(ids)])


def _save_voucher_lines(settlements: list[Settlement]) -> None:
    """Store each settlement's ``voucher_lines`` (one statement)."""
    if connection.vendor != "postgresql":
        Settlement.objects.bulk_update(settlements, ["voucher_lines"])
        return
    field = Settlement._meta.get_field("voucher_lines")
    table = connection.ops.quote_name(Settlement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET {connection.ops.quote_name(field.column)} = v.lines "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::jsonb[]) AS v(id, lines) WHERE s.id = v.id",
            [
                _pg_array([s.pk for s in settlements]),
                _pg_array([json.dumps(s.voucher_lines, cls=field.encoder) for s in settlements]),
            ],
        )


def _link_allocations(allocation_ids: list[int], settlement_ids: list[int]) -> None:
    """Point each allocation at its case's line among ``settlement_ids`` (one statement)."""
    if connection.vendor == "postgresql":
        # A join; the ORM's correlated subquery is planned per row as a scan of the lines.
        allocation = connection.ops.quote_name(PaymentAllocation._meta.db_table)
        line = connection.ops.quote_name(SettlementLine._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {allocation} AS a SET settlement_line_id = l.id "  # noqa: S608
                f"FROM {line} AS l WHERE l.case_id = a.case_id "
                "AND l.settlement_id = ANY(%s::bigint[]) AND a.id = ANY(%s::bigint[])",
                [_pg_array(settlement_ids), _pg_array(allocation_ids)],
            )
        return
    PaymentAllocation.objects.filter(pk__in=allocation_ids).update(
        settlement_line=Subquery(
            SettlementLine.objects.filter(
                settlement_id__in=settlement_ids, case_id=OuterRef("case_id")
            ).values("pk")[:1]
        )
    )


def _send_committed(settlement_ids: list[int]) -> None:
    for settlement_id in settlement_ids:
        settlement_committed.send(sender=Settlement, settlement_id=settlement_id, batched=True)
    settlements_committed.send(sender=Settlement, settlement_ids=settlement_ids)


def _open_principal_by_invoice_of(case_ids: list[int]) -> dict[int, list[tuple[int, Decimal]]]:
    """Per case of the batch, its invoices (oldest due first) with the principal still open on
    each: the invoice's part of the ledger less principal already settled on it (ids sent as
    one array)."""
    rows = list(
        Invoice.objects.filter(case_id__in=id_set(case_ids))
        .order_by("case_id", "due_date", "invoice_no", "pk")
        .values_list("pk", "case_id")
    )
    invoice_ids = id_set([pk for pk, _case in rows])
    ledger = defaultdict(Decimal)
    for invoice_id, total in (
        LedgerEntry.objects.filter(invoice_id__in=invoice_ids, kind__in=INVOICE_PART_KINDS)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    ):
        ledger[invoice_id] = to_ore(total)
    for invoice_id, total in (
        SettlementInvoicePart.objects.filter(invoice_id__in=invoice_ids)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    ):
        ledger[invoice_id] -= to_ore(total)
    result: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, case_id in rows:
        result[case_id].append((pk, ledger[pk]))
    return result


def _posting_parts_of(settlement_ids: list[int]) -> dict[int, list[tuple]]:
    """The posting parts (invoice no., debtor id and name, case number, amount) of several
    settlements in one query, by settlement."""
    result: dict[int, list[tuple]] = defaultdict(list)
    for settlement_id, *part in (
        SettlementInvoicePart.objects.filter(line__settlement_id__in=settlement_ids)
        .order_by("line__case__number", "invoice__due_date", "invoice__invoice_no")
        .values_list(
            "line__settlement_id",
            "invoice__invoice_no",
            "invoice__debtor_id",
            "invoice__debtor__name",
            "line__case__number",
            "amount",
        )
    ):
        result[settlement_id].append(tuple(part))
    return result

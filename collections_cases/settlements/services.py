"""The settlement run: per creditor, one settlement for everything collected and not yet paid
out (docs/settlements.md).

What a debtor paid the agency is already split per case by the payment allocation
(``PaymentAllocation``: fee, salær, interest, principal, overpayment). A settlement takes every
allocation not yet settled (``settlement_line`` empty) from payments made on or before the
settlement date, except overpayments (they belong to the debtor), and per case computes:

* ``principal`` — paid out to the creditor;
* ``interest`` — to the creditor when ``Creditor.interest_to`` says so, else kept by the agency;
* ``fees`` and ``salaer`` — kept by the agency (collection costs the debtor paid);
* ``commission`` — ``success_commission_percent`` of the principal when the case's oldest
  invoice was more than ``success_commission_min_days_overdue`` days overdue when the case
  was registered (0 % = off);
* ``vat`` — for a VAT-registered creditor, 25 % VAT on the agency's fee (the salær and the
  commission), deducted from the payout: the creditor deducts it as input VAT. A creditor
  outside the VAT register paid the higher salær (table B) instead and is charged no VAT here;
* ``payout = principal + interest_to_creditor - commission - vat``.

Amounts are rounded to øre per case line; the settlement's amounts are the sums of its lines.

Exactly once: the creditor's row is locked for the run, only unsettled allocations are taken,
each allocation is linked to the line that paid it out, and ``(creditor, settled_on)`` is
unique — a second run for the same date finds the settlement and makes nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases import rules
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
from collections_cases.settlements.vouchers import posting_lines
from collections_cases.signals import (
    settlement_committed,
    settlement_created,
    settlements_committed,
    settlements_created,
)
from creditors.models import Creditor
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok, to_ore
from kravia_web.pg_bulk import insert_unnest
from kravia_web.pg_bulk import pg_array as _pg_array

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
#: Merverdiavgiftsloven § 5-1: the general rate, on the agency's fee to the creditor.
VAT_PERCENT = Decimal("25.00")
Component = PaymentAllocation.Component
SETTLED_COMPONENTS = (Component.FEE, Component.SALAER, Component.INTEREST, Component.PRINCIPAL)
#: Ledger entries that make up an invoice's part of the principal (what is left to pay on it).
INVOICE_PART_KINDS = (
    LedgerEntry.Kind.PRINCIPAL,
    LedgerEntry.Kind.DIRECT_PAYMENT,
    LedgerEntry.Kind.CREDIT_NOTE,
    LedgerEntry.Kind.WRITE_OFF,
)


# --- when a creditor is due ----------------------------------------------------------------


def _weekly_slot(on: dt.date) -> dt.date:
    """The latest configured settlement weekday on or before ``on``."""
    weekday = int(getattr(settings, "SETTLEMENT_WEEKDAY", 4)) % 7
    return on - dt.timedelta(days=(on.weekday() - weekday) % 7)


def settlement_is_due(*, frequency: str, last_settled_on: dt.date | None, on: dt.date) -> bool:
    """Daily: every banking day. Weekly: on the configured weekday, or the first banking day
    after it when that day is not one or the run did not happen (never twice a week)."""
    if not rules.is_banking_day(on):
        return False
    if frequency == Creditor.SettlementFrequency.DAILY:
        return True
    return last_settled_on is None or last_settled_on < _weekly_slot(on)


def _unsettled(on: dt.date):
    """Allocations waiting for a settlement. Never those of a payment the bank reversed: that
    money is no longer on the client account (docs/payments.md)."""
    return PaymentAllocation.objects.filter(
        settlement_line__isnull=True,
        payment__paid_on__lte=on,
        component__in=SETTLED_COMPONENTS,
    ).exclude(payment__status=Payment.Status.REVERSED)


def settlement_due_creditor_ids(*, on: dt.date) -> list[int]:
    """Creditors with money waiting whose schedule makes them due on ``on``."""
    waiting = set(_unsettled(on).values_list("case__creditor_id", flat=True).distinct())
    if not waiting:
        return []
    last = dict(
        Settlement.objects.filter(creditor_id__in=waiting)
        .values("creditor_id")
        .annotate(last=Max("settled_on"))
        .values_list("creditor_id", "last")
    )
    due = []
    for creditor_id, frequency in Creditor.objects.filter(pk__in=waiting).values_list(
        "pk", "settlement_frequency"
    ):
        if settlement_is_due(frequency=frequency, last_settled_on=last.get(creditor_id), on=on):
            due.append(creditor_id)
    return sorted(due)


# --- the arithmetic (pure) -----------------------------------------------------------------


@dataclass
class CaseAmounts:
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    salaer: Decimal = ZERO
    days_overdue: int = 0
    allocations: list = field(default_factory=list)

    @property
    def collected(self) -> Decimal:
        return self.principal + self.interest + self.fees + self.salaer


def line_amounts(
    amounts: CaseAmounts,
    *,
    interest_to_creditor: bool,
    vat_registered: bool,
    commission_percent: Decimal,
    commission_min_days: int,
) -> dict[str, Decimal]:
    """One case's settlement amounts (see the module docstring)."""
    interest_out = amounts.interest if interest_to_creditor else ZERO
    commission = ZERO
    if commission_percent > 0 and amounts.days_overdue > commission_min_days:
        commission = rules.round_ore(amounts.principal * commission_percent / 100)
    vat = ZERO
    if vat_registered:
        vat = rules.round_ore((amounts.salaer + commission) * VAT_PERCENT / 100)
    return {
        "collected": amounts.collected,
        "principal": amounts.principal,
        "interest": amounts.interest,
        "fees": amounts.fees,
        "salaer": amounts.salaer,
        "interest_to_creditor": interest_out,
        "commission": commission,
        "vat": vat,
        "payout": amounts.principal + interest_out - commission - vat,
    }


MONEY_FIELDS = (
    "collected",
    "principal",
    "interest",
    "fees",
    "salaer",
    "interest_to_creditor",
    "commission",
    "vat",
    "payout",
)


def split_over_invoices(
    principal: Decimal, open_by_invoice: list[tuple[int, Decimal]]
) -> list[tuple[int, Decimal]]:
    """Spread a case's settled principal over its invoices, oldest due first, each up to what
    is still open on it (``open_by_invoice`` in that order). What no invoice can take is left
    out: the posting lines credit it to receivables without an invoice number."""
    parts, rest = [], principal
    for invoice_id, still_open in open_by_invoice:
        if rest <= 0:
            break
        take = min(rest, max(still_open, ZERO))
        if take > 0:
            parts.append((invoice_id, take))
            rest -= take
    return parts


# --- the run -------------------------------------------------------------------------------


@dataclass
class SettleReport:
    on: dt.date
    created: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    statements_rendered: int = 0
    statement_errors: int = 0

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "created": len(self.created),
            "existing": len(self.existing),
            "skipped": len(self.skipped),
            "statements_rendered": self.statements_rendered,
            "statement_errors": self.statement_errors,
        }


class NothingToSettle(ApplicationError):
    pass


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


def settle(
    *,
    on: dt.date,
    creditor_ids: list[int] | None = None,
    render_statements: bool = True,
    batch_size: int | None = None,
) -> SettleReport:
    """The periodic run: settle every due creditor (or exactly ``creditor_ids``, due or not),
    then render the statements still missing (also those of earlier, interrupted runs).

    ``render_statements=False`` leaves the PDFs to the caller: rendering is nearly all of a
    run's time (WeasyPrint, seconds per statement), so the Celery task queues one render task
    per statement instead and the workers share them (docs/performance.md)."""
    report = SettleReport(on=on)
    targets = creditor_ids if creditor_ids is not None else settlement_due_creditor_ids(on=on)
    size = batch_size or SETTLE_BATCH_SIZE
    batches = list(_chunks(list(dict.fromkeys(targets)), size))  # each creditor once
    for number, batch in enumerate(batches):
        if number:  # before each further batch (the plans of the first are made fresh)
            _refresh_plans_as_tables_grow()
        settle_batch(creditor_ids=batch, on=on, report=report)
    if render_statements:
        statements_render_missing(report=report)
    return report


def settle_creditor(*, creditor_id: int, on: dt.date) -> tuple[Settlement, bool]:
    """Settle one creditor for ``on``: ``(settlement, created)`` — the batch run
    (:func:`settle_batch`) with a batch of one, in its own transaction with the creditor's row
    locked. A creditor already settled for ``on`` gets its settlement back (``created``
    False). Raises :class:`NothingToSettle` when nothing is waiting or the payout would not be
    positive (the money then waits for the next run; see docs/settlements.md)."""
    try:
        with transaction.atomic():
            created, existing, skipped = _settle_batch_locked([creditor_id], on)
    except IntegrityError:
        # A concurrent run made it first (SQLite has no row locks): that one stands.
        settlement = Settlement.objects.filter(creditor_id=creditor_id, settled_on=on).first()
        if settlement is None:
            raise
        return settlement, False
    if creditor_id in skipped:
        if not Creditor.objects.filter(pk=creditor_id).exists():
            raise Creditor.DoesNotExist(f"No creditor {creditor_id}.")
        raise NothingToSettle(skipped[creditor_id])
    [settlement_id] = created or existing
    return Settlement.objects.get(pk=settlement_id), bool(created)


# --- the run, set-based across creditors ----------------------------------------------------

#: Creditors settled per transaction by :func:`settle`. The SQL of a batch does not grow with
#: its creditors or cases (one statement per kind of row), so a larger batch is cheaper per
#: creditor, at the price of a longer transaction holding the batch's creditor rows.
SETTLE_BATCH_SIZE = 200
#: Allocations linked to their lines per UPDATE (one statement for a batch of ordinary size).
ALLOCATION_UPDATE_CHUNK = 20_000
_ATTRIBUTE = {
    Component.PRINCIPAL: "principal",
    Component.INTEREST: "interest",
    Component.FEE: "fees",
    Component.SALAER: "salaer",
}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def settle_batch(*, creditor_ids: list[int], on: dt.date, report: SettleReport) -> None:
    """Settle ``creditor_ids`` for ``on`` in one transaction (their rows locked, only
    unsettled allocations, each linked to its line, ``(creditor, settled_on)`` unique),
    set-based: one statement per kind of row for the whole batch (docs/performance.md). Adds
    to ``report``. :func:`settle_creditor` is this with a batch of one."""
    try:
        with transaction.atomic():
            created, existing, skipped = _settle_batch_locked(list(creditor_ids), on)
    except IntegrityError:
        # A concurrent run made some of them first (SQLite has no row locks): settle this
        # batch creditor by creditor (each a batch of one in its own transaction), where
        # each one's existing settlement stands.
        for creditor_id in creditor_ids:
            try:
                settlement, was_created = settle_creditor(creditor_id=creditor_id, on=on)
            except NothingToSettle as exc:
                report.skipped[creditor_id] = str(exc)
                continue
            (report.created if was_created else report.existing).append(settlement.pk)
        return
    report.created.extend(created)
    report.existing.extend(existing)
    report.skipped.update(skipped)


def _settle_batch_locked(creditor_ids: list[int], on: dt.date):
    creditors = {
        creditor.pk: creditor
        for creditor in Creditor.objects.select_for_update()
        .filter(pk__in=creditor_ids)
        .order_by("pk")
    }
    existing = dict(
        Settlement.objects.filter(creditor_id__in=creditor_ids, settled_on=on).values_list(
            "creditor_id", "pk"
        )
    )
    skipped: dict[int, str] = {}
    todo = [pk for pk in creditor_ids if pk in creditors and pk not in existing]
    nothing = _("Ingenting å gjøre opp.")
    for pk in creditor_ids:
        if pk not in creditors:
            skipped[pk] = nothing
    if not todo:
        return [], [existing[pk] for pk in creditor_ids if pk in existing], skipped

    waiting = _unsettled(on).filter(case__creditor_id__in=todo)
    # (pk, case, creditor, component, amount, paid on), by case then pk.
    allocations = list(
        waiting.order_by("case_id", "pk").values_list(
            "pk", "case_id", "case__creditor_id", "component", "amount", "payment__paid_on"
        )
    )
    cases: dict[int, list] = defaultdict(list)  # creditor → [case ids] (ascending)
    by_case: dict[int, CaseAmounts] = {}
    first_paid: dict[int, dt.date] = {}
    for _pk, case_id, creditor_id, component, amount, paid_on in allocations:
        amounts = by_case.get(case_id)
        if amounts is None:
            amounts = by_case[case_id] = CaseAmounts()
            cases[creditor_id].append(case_id)
        name = _ATTRIBUTE[component]
        setattr(amounts, name, getattr(amounts, name) + amount)
        if creditor_id not in first_paid or paid_on < first_paid[creditor_id]:
            first_paid[creditor_id] = paid_on

    oldest_due = dict(
        Invoice.objects.filter(case_id__in=_id_set(by_case))
        .values("case_id")
        .annotate(due=Min("due_date"))
        .values_list("case_id", "due")
    )
    for case_id, created_at in CollectionCase.objects.filter(pk__in=_id_set(by_case)).values_list(
        "pk", "created_at"
    ):
        if case_id in by_case:
            due = oldest_due.get(case_id)
            by_case[case_id].days_overdue = (
                (timezone.localdate(created_at) - due).days if due else 0
            )

    # Payments reversed after they were paid out: deducted from the next payout.
    open_claims: dict[int, list] = defaultdict(list)
    for claim in (
        SettlementClaim.objects.filter(creditor_id__in=todo, deducted_in__isnull=True)
        .select_related("case")
        .order_by("pk")
    ):
        open_claims[claim.creditor_id].append(claim)
    computed: dict[int, dict[str, Decimal]] = {}
    totals: dict[int, dict[str, Decimal]] = {}
    for creditor_id in todo:
        creditor = creditors[creditor_id]
        case_ids = cases.get(creditor_id)
        if not case_ids:
            skipped[creditor_id] = nothing
            continue
        # No payout to an unverified creditor, nor while a changed payout account is held
        # (issue 15): the money waits, unsettled, for the first run after (Utbetalinger
        # says why).
        held = payout_held_reason(creditor, on=on)
        if held:
            skipped[creditor_id] = held
            continue
        options = {
            "interest_to_creditor": creditor.interest_to == Creditor.InterestTo.CREDITOR,
            "vat_registered": creditor.vat_registered,
            "commission_percent": creditor.success_commission_percent,
            "commission_min_days": creditor.success_commission_min_days_overdue,
        }
        lines = [line_amounts(by_case[case_id], **options) for case_id in case_ids]
        total = {name: sum((c[name] for c in lines), ZERO) for name in MONEY_FIELDS}
        claims = sum((c.amount for c in open_claims.get(creditor_id, ())), ZERO)
        if total["payout"] <= 0:
            skipped[creditor_id] = _(
                "Utbetalingen ville blitt %(amount)s (mva. på salær er større enn innkrevd "
                "hovedstol); beløpet tas med i neste oppgjør."
            ) % {"amount": format_nok(total["payout"])}
            continue
        if total["payout"] - claims <= 0:
            skipped[creditor_id] = _(
                "Utbetalingen ville blitt %(amount)s etter trekk av tilbakeførte innbetalinger "
                "(%(claims)s); beløpet tas med i neste oppgjør."
            ) % {"amount": format_nok(total["payout"] - claims), "claims": format_nok(claims)}
            continue
        total["claims"] = claims
        total["payout"] -= claims
        totals[creditor_id] = total
        computed.update(zip(case_ids, lines, strict=True))
    settling = [pk for pk in todo if pk in totals]
    if not settling:
        return [], [existing[pk] for pk in creditor_ids if pk in existing], skipped

    previous = dict(
        Settlement.objects.filter(creditor_id__in=settling, settled_on__lt=on)
        .values("creditor_id")
        .annotate(last=Max("settled_on"))
        .values_list("creditor_id", "last")
    )
    settlements = []
    for creditor_id in settling:
        creditor = creditors[creditor_id]
        last = previous.get(creditor_id)
        first = first_paid[creditor_id]
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
                **totals[creditor_id],
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
    settlement_by_creditor = {s.creditor_id: s for s in settlements}

    settlement_ids = [s.pk for s in settlements]
    line_by_case = _insert_rows(
        SettlementLine,
        [
            {
                "settlement_id": settlement_by_creditor[creditor_id].pk,
                "case_id": case_id,
                "days_overdue": by_case[case_id].days_overdue,
                **computed[case_id],
            }
            for creditor_id in settling
            for case_id in cases[creditor_id]
        ],
        key="case_id",
    )
    if None in line_by_case.values():  # backends without RETURNING
        line_by_case = dict(
            SettlementLine.objects.filter(settlement_id__in=settlement_ids).values_list(
                "case_id", "pk"
            )
        )

    open_by_case = _open_principal_by_invoice_of(list(line_by_case))
    _insert_rows(
        SettlementInvoicePart,
        [
            {"line_id": line_by_case[case_id], "invoice_id": invoice_id, "amount": amount}
            for creditor_id in settling
            for case_id in cases[creditor_id]
            for invoice_id, amount in split_over_invoices(
                computed[case_id]["principal"], open_by_case.get(case_id, [])
            )
        ],
    )

    # Each allocation to the line that paid it out: its case's line in this batch.
    settled_pks = [pk for pk, case_id, *_rest in allocations if case_id in line_by_case]
    for chunk in _chunks(settled_pks, ALLOCATION_UPDATE_CHUNK):
        _link_allocations(chunk, settlement_ids)

    posting_parts = _posting_parts_of(settlement_ids)
    for settlement in settlements:
        settlement.voucher_lines = posting_lines(
            settlement,
            mapping=creditors[settlement.creditor_id].account_mapping,
            parts=posting_parts.get(settlement.pk, []),
            claims=[
                (c.case.number, c.principal, c.interest_to_creditor, c.commission, c.vat)
                for c in open_claims.get(settlement.creditor_id, ())
            ],
        )
    _save_voucher_lines(settlements)
    for settlement in settlements:
        deducted = [c.pk for c in open_claims.get(settlement.creditor_id, ())]
        if deducted:
            SettlementClaim.objects.filter(pk__in=deducted).update(deducted_in=settlement)

    actor_label = _("Oppgjørskjøring")
    template = _(
        "Oppgjort til kreditor i %(number)s: hovedstol %(principal)s, renter "
        "%(interest)s, gebyrer og salær %(costs)s; utbetales %(payout)s."
    )
    nok = lru_cache(maxsize=4096)(format_nok)  # many amounts repeat (0,00 above all)
    events = []
    for settlement in settlements:
        number = settlement.number
        for case_id in cases[settlement.creditor_id]:
            amounts = computed[case_id]
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
    _insert_rows(CaseEvent, events)

    # Per settlement too; receivers with a batch path leave the work to the batch signals.
    for settlement in settlements:
        settlement_created.send(sender=Settlement, settlement_id=settlement.pk, batched=True)
    settlements_created.send(sender=Settlement, settlement_ids=settlement_ids)
    transaction.on_commit(partial(_send_committed, settlement_ids))
    for settlement in settlements:
        logger.info(
            "Settlement %s for creditor %s: %s cases, payout %s",
            settlement.number,
            settlement.creditor_id,
            len(cases[settlement.creditor_id]),
            settlement.payout,
        )
    return (
        settlement_ids,
        [existing[pk] for pk in creditor_ids if pk in existing],
        skipped,
    )


#: Size in bytes of each settlement table when its plans were last refreshed (per process).
_planned_sizes: dict[str, int] = {}


def _refresh_plans_as_tables_grow() -> None:
    """PostgreSQL checks the foreign keys to the settlement tables (deferred: at each batch's
    commit, one lookup per new line, invoice part and allocation) with a plan it makes once
    per connection and keeps. Made while a table was nearly empty, that plan is a sequential
    scan, and the run turns quadratic as the table grows (seen at full scale: 34 307 scans
    reading 294 million settlement lines). ``ANALYZE`` invalidates the kept plans (new
    statistics), so the next check is planned for the table's size: done after the first batch
    and whenever a table has doubled since. Cheap (a sample), and it blocks no reads or writes."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (Settlement, SettlementLine, SettlementInvoicePart)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
        sizes = dict(cursor.fetchall())
        grown = [
            name
            for name in tables
            if sizes.get(name, 0) > 2 * _planned_sizes.get(name, 0) + 8192
            or name not in _planned_sizes
        ]
        if grown:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in grown))
            _planned_sizes.update({name: sizes.get(name, 0) for name in grown})


def _insert_rows(model, rows: list[dict], *, key: str | None = None) -> dict:
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


def _id_set(ids):
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
        Invoice.objects.filter(case_id__in=_id_set(case_ids))
        .order_by("case_id", "due_date", "invoice_no", "pk")
        .values_list("pk", "case_id")
    )
    invoice_ids = _id_set([pk for pk, _case in rows])
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


# --- statements, payout, bookkeeping -------------------------------------------------------


def settlement_render_statement(*, settlement: Settlement) -> Settlement:
    """Render and store the statement PDF (once; it reflects the settlement's fixed rows)."""
    from collections_cases.letters.documents.statements import document_settlement_pdf

    if settlement.statement_pdf:
        return settlement
    data = document_settlement_pdf(settlement=settlement)
    name = f"oppgjor-{settlement.number}.pdf"
    settlement.statement_pdf.save(name, ContentFile(data), save=False)
    Settlement.objects.filter(pk=settlement.pk, statement_pdf="").update(
        statement_pdf=settlement.statement_pdf.name
    )
    return settlement


def statements_missing_ids(*, limit: int = 2000) -> list[int]:
    """Settlements whose statement PDF is still to render (oldest first)."""
    return list(
        Settlement.objects.filter(statement_pdf="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def statements_render_missing(*, report: SettleReport | None = None, limit: int = 2000) -> int:
    rendered = 0
    for settlement in Settlement.objects.filter(statement_pdf="").select_related("creditor")[
        :limit
    ]:
        try:
            settlement_render_statement(settlement=settlement)
            rendered += 1
        except Exception:
            # Kept for the next run; the voucher waits for its PDF meanwhile.
            logger.exception("Could not render the statement of settlement %s", settlement.pk)
            if report is not None:
                report.statement_errors += 1
    if report is not None:
        report.statements_rendered += rendered
    return rendered


def settlement_mark_paid_out(*, settlement_ids, actor) -> int:
    """The agency paid these settlements out (from the bank file or by hand)."""
    return Settlement.objects.filter(
        pk__in=list(settlement_ids), payout_status=Settlement.PayoutStatus.PENDING
    ).update(
        payout_status=Settlement.PayoutStatus.PAID, paid_out_at=timezone.now(), paid_out_by=actor
    )


def settlement_mark_booked(*, settlement: Settlement, actor=None) -> Settlement:
    """The creditor confirms the settlement is in their books (idempotent)."""
    if settlement.booked_at is None:
        Settlement.objects.filter(pk=settlement.pk, booked_at__isnull=True).update(
            booked_at=timezone.now()
        )
        settlement.refresh_from_db(fields=["booked_at"])
    return settlement

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
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from collections_cases import rules
from collections_cases.models import Settlement, SettlementInvoicePart, SettlementLine
from collections_cases.settlements.amounts import (  # noqa: F401 - this module's names too
    MONEY_FIELDS,
    VAT_PERCENT,
    ZERO,
    CaseAmounts,
    line_amounts,
    split_over_invoices,
)
from collections_cases.settlements.batch import (  # noqa: F401 - payout_held_reason too
    SettleBatch,
    chunks,
    insert_rows,
    payout_held_reason,
    unsettled_allocations,
)
from creditors.models import Creditor
from kravia_web.errors import ApplicationError

#: The name the tests use for ``batch.insert_rows`` (the run's helpers moved to ``batch``).
_insert_rows = insert_rows

logger = logging.getLogger(__name__)


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


def settlement_due_creditor_ids(*, on: dt.date) -> list[int]:
    """Creditors with money waiting whose schedule makes them due on ``on``."""
    waiting = set(unsettled_allocations(on).values_list("case__creditor_id", flat=True).distinct())
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
    batches = list(chunks(list(dict.fromkeys(targets)), size))  # each creditor once
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
    """One batch inside the caller's transaction, step by step (``batch.SettleBatch``):
    ``(created settlement ids, existing settlement ids, skipped {creditor id: why})``."""
    run = SettleBatch(creditor_ids, on)
    run.lock_creditors()
    if run.todo:
        run.read_waiting_allocations()
        run.read_days_overdue()
        run.read_open_claims()
        run.compute_lines()
    if run.settling:
        run.create_settlements()
        run.insert_lines()
        run.insert_invoice_parts()
        run.link_allocations()
        run.store_voucher_lines()
        run.deduct_claims()
        run.record_events()
        run.announce()
    return run.result()


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

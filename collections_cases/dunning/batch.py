"""The daily dunning run, a batch of cases at a time: the one place each step is decided.

The steps and the law are described in :mod:`collections_cases.dunning.services`, whose pure
helpers (messages, fees, event data) and :mod:`collections_cases.rules` decide every amount
and date here. A single case is a batch of one (:func:`step_case`: the admin's "next step
now", :func:`.dunning.dunning_run_per_case`, and the fallback of a batch that cannot be
written). How the work reaches the database:

* Due cases are taken in batches of ids (keyset) and each batch is one transaction: its
  cases are locked at once with ``SELECT … FOR UPDATE SKIP LOCKED`` (a case another run
  holds is skipped, as before) and re-checked against :func:`.dunning.due_q`. A crash leaves
  whole batches done or not done; a second run the same day finds nothing due.
* Everything the steps read is loaded for the whole batch in a few queries (invoices, ledger
  sums per kind and invoice with the last interest date, earlier betalingsoppfordringer,
  approval events), the step of each case is decided in Python, and the writes go out in
  bulk: ledger entries, letters, their deliveries, case events, next steps.
* ``case_changed`` becomes one :data:`~collections_cases.signals.cases_changed` per batch
  after commit; its receivers queue the same status-push outbox rows, webhooks and
  notifications per case, in a few queries per batch.
* Moves of the case's status (closing as paid, waiting for the creditor's approval of the
  payment demand or of legal steps) are checked by the case services' move functions
  (``close_move`` …, ``changes.apply_move``) and written with the batch's rows. Holding a
  time-barred claim (rare) goes through the case services, in a savepoint.

If the batch cannot be written (a concurrent run recorded one of its letters first: the
unique (case, step) constraint), the transaction rolls back and each of its cases is done
again as a batch of one in its own transaction, which skips such a case and records any
other failure against its own case.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from collections_cases import rules
from collections_cases.cases import changes
from collections_cases.cases import services as case_services
from collections_cases.cases.selectors import PRINCIPAL_KINDS
from collections_cases.dunning import steps as d
from collections_cases.dunning.steps import _  # gettext, remembered per batch
from collections_cases.ledger import totals as ledger_totals
from collections_cases.ledger.interest import (
    INTEREST_KINDS,
    accrual_row,
    accruals_from,
    interest_facts,
    interest_not_before,
    invoice_due_date,
    principal_reductions,
    spread_interest_paid,
)
from collections_cases.letters.services import debtor_channel, delivery_create_for_letters
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Letter,
    LetterDelivery,
    Payment,
    PaymentAllocation,
)
from collections_cases.signals import cases_changed
from creditors.models import Creditor
from kravia_web.crashpoints import crash_point
from kravia_web.enqueue import enqueue_on_commit
from kravia_web.money import format_nok, to_ore
from kravia_web.pg_bulk import cast_type as _cast_type
from kravia_web.pg_bulk import insert_unnest as _insert
from kravia_web.pg_bulk import pg_array as _pg_array

logger = logging.getLogger(__name__)

Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")
#: The ledger kinds (``Kind.values`` builds its list anew on every access).
KINDS = tuple(Kind.values)

# --------------------------------------------------------------------------------------------
# What a batch knows about each case
# --------------------------------------------------------------------------------------------


@dataclass
class CaseFacts:
    """One case's rows as the steps need them, loaded for the whole batch."""

    case: CollectionCase
    invoices: list[Invoice] = field(default_factory=list)
    #: ``to_ore``'d sum per ledger kind (0 for kinds without entries).
    totals: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(KINDS, ZERO))
    #: The ``principal`` entries' sum per invoice id.
    principal_by_invoice: dict[int, Decimal] = field(default_factory=dict)
    #: What lowered the principal: ``(day, amount > 0, invoice id or None)``.
    reductions: list[tuple[date, Decimal, int | None]] = field(default_factory=list)
    #: The principal and interest parts of the case's payments (not reversed).
    paid_principal: Decimal = ZERO
    paid_interest: Decimal = ZERO
    #: Interest booked (less corrections) per invoice id, and the latest accrual's date.
    interest_booked: dict[int | None, Decimal] = field(default_factory=dict)
    last_interest: dict[int | None, date] = field(default_factory=dict)
    #: Earlier betalingsoppfordringer: ``(sent_on, id, deadline)``, oldest first.
    bo_letters: list[tuple[date, int, date]] = field(default_factory=list)
    #: Ids of the case's payment-demand approval requests and approvals.
    demand_requested: list[int] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)
    #: Whether the case has a betalingsoppfordring letter (read for the cases that may wait
    #: for the creditor's approval of one).
    had_payment_demand: bool = False

    @property
    def principal_outstanding(self) -> Decimal:
        """The principal less credit notes, direct payments and payments' principal parts."""
        return sum((self.totals[k] for k in PRINCIPAL_KINDS), start=ZERO) - self.paid_principal

    @property
    def balance(self) -> Decimal:
        return sum((self.totals[k] for k in KINDS), start=ZERO)

    @property
    def earliest_due(self) -> date:
        return min(invoice_due_date(invoice) for invoice in self.invoices)

    def amounts(self) -> dict[str, Decimal]:
        """As :func:`~collections_cases.cases.selectors.case_amounts`."""
        return {
            **self.totals,
            "principal_outstanding": self.principal_outstanding,
            "balance": self.balance,
        }

    def last_bo(self) -> tuple[date, int, date] | None:
        return max(self.bo_letters) if self.bo_letters else None

    def payment_demand_approved(self) -> bool:
        """Whether the creditor approved the betalingsoppfordring after the case last waited
        for that approval (``case_request_payment_demand_approval``, then ``case_approve``)."""
        if not self.demand_requested:
            return False
        parked = max(self.demand_requested)
        return any(approved > parked for approved in self.approved)


def _lock_batch(ids: list[int], on: date) -> list[CollectionCase]:
    """The batch's cases that are still due, locked (skipping those another run holds)."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    of = ("self",) if connection.features.has_select_for_update_of else ()
    cases = list(
        CollectionCase.objects.select_for_update(skip_locked=skip_locked, of=of)
        .select_related("debtor")
        .filter(d.due_q(on), pk__in=ids)
        .order_by("pk")
    )
    # A creditor has many cases: each loaded once (not once per case by a join)
    creditors = Creditor.objects.in_bulk({case.creditor_id for case in cases})
    for case in cases:
        case.creditor = creditors[case.creditor_id]
    return cases


def _load(cases: list[CollectionCase]) -> dict[int, CaseFacts]:
    facts = {case.pk: CaseFacts(case=case) for case in cases}
    ids = list(facts)
    for invoice in Invoice.objects.filter(case_id__in=ids).order_by("pk"):
        invoice.case = facts[invoice.case_id].case
        facts[invoice.case_id].invoices.append(invoice)
    rows = (
        LedgerEntry.objects.filter(case_id__in=ids)
        .order_by()
        .values_list("case_id", "kind", "invoice_id")
        .annotate(total=Sum("amount"), last=Max("booked_on"))
    )
    for case_id, kind, invoice_id, total, last in rows:
        f = facts[case_id]
        total = to_ore(total or 0)
        f.totals[kind] = f.totals.get(kind, ZERO) + total
        if kind == Kind.PRINCIPAL and invoice_id is not None:
            f.principal_by_invoice[invoice_id] = total
        elif kind in INTEREST_KINDS:
            f.interest_booked[invoice_id] = f.interest_booked.get(invoice_id, ZERO) + total
            if kind == Kind.INTEREST:
                f.last_interest[invoice_id] = last
    for case_id, reductions in principal_reductions(ids).items():
        facts[case_id].reductions = reductions
    for case_id, component, total in (
        PaymentAllocation.objects.filter(
            case_id__in=ids,
            component__in=(
                PaymentAllocation.Component.PRINCIPAL,
                PaymentAllocation.Component.INTEREST,
            ),
        )
        .exclude(payment__status=Payment.Status.REVERSED)
        .order_by()
        .values_list("case_id", "component")
        .annotate(total=Sum("amount"))
    ):
        if component == PaymentAllocation.Component.PRINCIPAL:
            facts[case_id].paid_principal = to_ore(total or 0)
        else:
            facts[case_id].paid_interest = to_ore(total or 0)
    needs_bo = [
        f.case.pk
        for f in facts.values()
        if f.case.status == Status.AWAITING_APPROVAL
        or f.case.next_action
        in (NextAction.SEND_VARSEL_RETTSLIG, NextAction.REQUEST_LEGAL_APPROVAL)
    ]
    if needs_bo:
        for case_id, sent_on, pk, deadline in Letter.objects.filter(
            case_id__in=needs_bo, kind__in=d.BO_KINDS
        ).values_list("case_id", "sent_on", "pk", "deadline"):
            facts[case_id].bo_letters.append((sent_on, pk, deadline))
    needs_approval = [
        f.case.pk
        for f in facts.values()
        if f.case.creditor.approve_payment_demands
        and f.case.status == Status.ACTIVE
        and f.case.next_action
        in (NextAction.SEND_INKASSOVARSEL, NextAction.SEND_BETALINGSOPPFORDRING)
    ]
    if needs_approval:
        for case_id, kind, pk in CaseEvent.objects.filter(
            case_id__in=needs_approval,
            kind__in=[CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED, CaseEvent.Kind.APPROVED],
        ).values_list("case_id", "kind", "pk"):
            target = (
                facts[case_id].demand_requested
                if kind == CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED
                else facts[case_id].approved
            )
            target.append(pk)
        for case_id in (
            Letter.objects.filter(case_id__in=needs_approval, kind=Letter.Kind.BETALINGSOPPFORDRING)
            .values_list("case_id", flat=True)
            .distinct()
        ):
            facts[case_id].had_payment_demand = True
    return facts


# --------------------------------------------------------------------------------------------
# Deciding a case's step (in memory)
# --------------------------------------------------------------------------------------------


#: The columns of a ledger entry the run writes (a plan's entries are tuples of these).
ENTRY_COLUMNS = ("case_id", "invoice_id", "kind", "amount", "booked_on", "description")
#: The columns of a case event the run writes (with the actor's).
EVENT_COLUMNS = ("case_id", "kind", "message", "data", "status_from", "status_to")
#: The columns of a letter the run writes, after ``case_id``.
LETTER_COLUMNS = ("kind", "step", "sent_on", "deadline", "fee", "amounts")


@dataclass
class Plan:
    """The writes one case's step makes, collected before any is made (plain tuples: a batch
    writes thousands of rows, and model instances cost more to build than the rows)."""

    case: CollectionCase
    outcome: str = ""
    #: Ledger entries as :data:`ENTRY_COLUMNS` tuples.
    entries: list[tuple] = field(default_factory=list)
    #: The letter as :data:`LETTER_COLUMNS` values.
    letter: tuple | None = None
    #: ``(kind, message, data)``; a letter's event gets ``letter_id`` once the letter exists.
    event: tuple[str, str, dict] | None = None
    update_fields: tuple[str, ...] = ()
    #: ``(status_from, status_to)`` of a move of the case's status written with the batch
    #: (:func:`_status_move`), for its event.
    status_change: tuple[str, str] = ("", "")
    #: A move of the case's status, made through the case services instead of the bulk
    #: writes (nothing else of the plan is set then).
    move: Callable[[], object] | None = None
    #: Why the step was held (nothing of the plan is written then).
    held_reason: str = ""


def _book(f: CaseFacts, plan: Plan, *, kind: str, amount: Decimal, on: date, description: str):
    if amount > 0:
        plan.entries.append((f.case.pk, None, kind, amount, on, description[:200]))
        f.totals[kind] += amount


def _accrue_interest(f: CaseFacts, plan: Plan, on: date) -> Decimal:
    """Forsinkelsesrente up to ``on`` on the principal still outstanding day by day
    (:mod:`collections_cases.ledger.interest`), none for a debtor exempt from it or a case
    that may not get costs. :class:`rules.RuleUnknown` past the rate table's end."""
    case = f.case
    if case.debtor.do_not_add_late_payment_interest or not case_services.case_may_add_costs(case):
        return ZERO
    facts = interest_facts(
        f.invoices,
        principal_by_invoice=f.principal_by_invoice,
        reductions=f.reductions,
        booked_by_invoice=f.interest_booked,
        last_by_invoice=f.last_interest,
    )
    spread_interest_paid(facts, f.paid_interest)
    accruals = accruals_from(facts, on=on, not_before=interest_not_before(case, on=on))
    total = ZERO
    for accrual in accruals:
        row = accrual_row(case.pk, accrual, on=on)
        plan.entries.append(row)
        f.totals[row[2]] += accrual.amount
        total += accrual.amount
    return total


def _salaer(f: CaseFacts, on: date, *, heavy: bool = False) -> Decimal:
    return rules.salaer(
        principal=f.principal_outstanding,
        on=on,
        due_date=f.earliest_due,
        heavy=heavy,
        business_debtor=not f.case.debtor.is_person,
        creditor_vat_registered=f.case.creditor.vat_registered,
    )


def _set_next(plan: Plan, action: str, on: date | None, stage: str | None = None) -> None:
    case = plan.case
    case.next_action = action
    case.next_action_date = on
    plan.update_fields = ("next_action", "next_action_date")
    if stage is not None:
        case.stage = stage
        plan.update_fields += ("stage",)


def _status_move(plan: Plan, move: dict) -> None:
    """A move of the case's status as the case service checked it (``move``:
    :func:`~collections_cases.cases.changes.move_case`'s arguments but the actor), written
    with the batch: the case's fields set in memory, its event with the statuses."""
    move = dict(move)
    kind, message, data = move.pop("kind"), move.pop("message"), move.pop("data")
    fields = tuple(name for name in move if name != "action")
    plan.status_change = changes.apply_move(plan.case, **move)
    plan.update_fields = ("status", *fields)
    plan.event = (kind, message, data or {})


def _letter(f: CaseFacts, plan: Plan, kind, on, deadline, fee, interest, message, step=None):
    """Record the letter and its event (after the next step is set); the unique (case, step)
    constraint guards the letter when it is written. The step is the letter's kind unless
    given; returns it."""
    step = step or str(kind)
    amounts = d.amounts_payload(f.amounts(), on=on, earliest_due=f.earliest_due)
    plan.letter = (kind, step, on, deadline, fee, amounts)
    message, data = d.letter_event(
        f.case,
        letter_id=None,
        kind=kind,
        step=step,
        on=on,
        deadline=deadline,
        fee=fee,
        interest=interest,
        message=message,
        amounts=amounts,
    )
    plan.event = (CaseEvent.Kind.LETTER, message, data)
    return step


def plan_step(f: CaseFacts, on: date) -> Plan:
    """The case's step on ``on`` as a :class:`Plan` (its ``outcome`` is the result key).

    Held, with nothing written: a claim whose limitation date has come (the case is paused
    for a case handler: :func:`~collections_cases.cases.limitation.case_hold_time_barred`),
    and a step that needs a rate or sats the tables do not know yet (:class:`rules.RuleUnknown`:
    the case stays due and is taken again once the row is added)."""
    case = f.case
    plan = Plan(case=case)
    if f.balance <= 0 or f.principal_outstanding <= 0:
        _close_paid(f, plan, on)
        plan.outcome = d.OUTCOME_CLOSED_PAID
        return plan
    if case.limitation_date is not None and case.limitation_date <= on:
        plan.move = lambda: _hold_time_barred(case, on)
        plan.outcome = d.OUTCOME_HELD_TIME_BARRED
        return plan
    before = (case.next_action, case.next_action_date, case.stage)
    try:
        if case.status == Status.AWAITING_APPROVAL:
            plan.outcome = _new_betalingsoppfordring(f, plan, on)
        elif case.next_action == NextAction.SEND_INKASSOVARSEL:
            plan.outcome = _inkassovarsel(f, plan, on)
        elif case.next_action == NextAction.SEND_BETALINGSOPPFORDRING:
            plan.outcome = _betalingsoppfordring(f, plan, on)
        elif case.next_action == NextAction.SEND_VARSEL_RETTSLIG:
            plan.outcome = _varsel_rettslig(f, plan, on)
        else:  # NextAction.REQUEST_LEGAL_APPROVAL
            plan.outcome = _request_legal_approval(f, plan, on)
    except rules.RuleUnknown as exc:
        case.next_action, case.next_action_date, case.stage = before
        plan = Plan(case=case, outcome=d.OUTCOME_HELD_RULE_UNKNOWN, held_reason=str(exc))
    return plan


def _hold_time_barred(case: CollectionCase, on: date) -> None:
    from collections_cases.cases.limitation import case_hold_time_barred

    case_hold_time_barred(case=case, on=on)


def _close_paid(f: CaseFacts, plan: Plan, on: date) -> None:
    """Close as paid (:func:`~collections_cases.cases.services.case_close`'s move). Costs
    left after the principal is paid are not pursued: a reduction entry waives them first,
    so the case closes with a balance of 0."""
    balance = f.balance
    note = ""
    if balance > 0:
        note = _("Hovedstolen er betalt; gjenstående kostnader %(amount)s kreves ikke inn.") % {
            "amount": format_nok(balance)
        }
        description = _("Gjenstående kostnader frafalt: hovedstolen er betalt")
        plan.entries.append((f.case.pk, None, Kind.REDUCTION, -balance, on, description[:200]))
        f.totals[Kind.REDUCTION] -= balance
    move = case_services.close_move(
        f.case, reason=CollectionCase.CloseReason.PAID, note=note, balance=f.balance
    )
    _status_move(plan, move)


def _inkassovarsel(f: CaseFacts, plan: Plan, on: date):
    pogo_deadline = d.pogo_iv_deadline(f.invoices)
    if pogo_deadline is not None:
        bo_on = d.after_grace(pogo_deadline)
        if pogo_deadline < on and bo_on <= on:
            return _betalingsoppfordring(f, plan, on, pogo_iv_deadline=pogo_deadline)
        _set_next(plan, NextAction.SEND_BETALINGSOPPFORDRING, bo_on)
        message, data = d.pogo_wait_event(pogo_deadline, bo_on)
        plan.event = (CaseEvent.Kind.DUNNING_STEP, message, data)
        return d.OUTCOME_WAITING_FOR_POGO_IV

    latest_due = max(invoice_due_date(invoice) for invoice in f.invoices)
    if on <= latest_due:
        _set_next(plan, NextAction.SEND_INKASSOVARSEL, latest_due + timedelta(days=1))
        return d.OUTCOME_RESCHEDULED

    fee = d.iv_fee(f.invoices, debtor=f.case.debtor, on=on)
    interest = _accrue_interest(f, plan, on)
    _book(f, plan, kind=Kind.FEE, amount=fee, on=on, description=_("Inkassovarselgebyr"))
    deadline = rules.deadline(on, rules.iv_deadline_days(on))
    _set_next(plan, NextAction.SEND_BETALINGSOPPFORDRING, d.after_grace(deadline))
    return _letter(
        f, plan, Letter.Kind.INKASSOVARSEL, on, deadline, fee, interest, d.iv_message(deadline, fee)
    )


def _betalingsoppfordring(f: CaseFacts, plan: Plan, on: date, *, pogo_iv_deadline=None):
    if f.case.creditor.approve_payment_demands and not f.payment_demand_approved():
        # Waits for the creditor's approval (no letter, no salær): a move of the status
        move = case_services.payment_demand_approval_move(
            f.case, had_payment_demand=f.had_payment_demand
        )
        _status_move(plan, move)
        return d.OUTCOME_AWAITING_DEMAND_APPROVAL
    interest = _accrue_interest(f, plan, on)
    salaer = _salaer(f, on)
    _book(f, plan, kind=Kind.SALAER, amount=salaer, on=on, description=_("Lett salær"))
    deadline = rules.deadline(on, rules.bo_deadline_days(on))
    varsel_on = rules.heavy_salaer_earliest(deadline)  # with tungt salær
    _set_next(plan, NextAction.SEND_VARSEL_RETTSLIG, varsel_on, Stage.BETALINGSOPPFORDRING)
    message = d.bo_message(deadline, salaer, pogo_iv_deadline)
    return _letter(
        f, plan, Letter.Kind.BETALINGSOPPFORDRING, on, deadline, salaer, interest, message
    )


def _varsel_rettslig(f: CaseFacts, plan: Plan, on: date):
    interest = _accrue_interest(f, plan, on)
    heavy_added = ZERO
    last_bo = f.last_bo()
    if last_bo is not None and on >= rules.heavy_salaer_earliest(last_bo[2]):
        booked = f.totals[Kind.SALAER]
        heavy_added = max(_salaer(f, on, heavy=True) - booked, ZERO)
        _book(
            f,
            plan,
            kind=Kind.SALAER,
            amount=heavy_added,
            on=on,
            description=_("Tungt salær (tillegg til lett salær)"),
        )
    deadline = rules.deadline(on, rules.rettslig_varsel_days(on))
    message = d.varsel_rettslig_message(deadline, heavy_added)
    _set_next(
        plan, NextAction.REQUEST_LEGAL_APPROVAL, d.after_grace(deadline), Stage.VARSEL_RETTSLIG
    )
    kind = Letter.Kind.VARSEL_RETTSLIG
    return _letter(f, plan, kind, on, deadline, heavy_added, interest, message)


def _request_legal_approval(f: CaseFacts, plan: Plan, on: date):
    """Ask the creditor to approve legal steps (a move of the status); a new BO is due
    ``rules.new_bo_due`` after the last one unless the creditor approves first."""
    _status_move(plan, case_services.legal_approval_move(f.case))
    last_bo = f.last_bo()
    if last_bo is not None:
        case = f.case
        case.next_action = NextAction.AWAIT_APPROVAL
        case.next_action_date = max(rules.new_bo_due(last_bo[0]), on + timedelta(days=1))
    return d.OUTCOME_LEGAL_APPROVAL_REQUESTED


def _new_betalingsoppfordring(f: CaseFacts, plan: Plan, on: date):
    number = len(f.bo_letters) + 1
    interest = _accrue_interest(f, plan, on)
    deadline = rules.deadline(on, rules.bo_deadline_days(on))
    _set_next(plan, NextAction.AWAIT_APPROVAL, rules.new_bo_due(on))
    message = d.new_bo_message(deadline, on)
    kind, step = Letter.Kind.NEW_BETALINGSOPPFORDRING, f"{d.STEP_BETALINGSOPPFORDRING}_{number}"
    _letter(f, plan, kind, on, deadline, ZERO, interest, message, step=step)
    return d.OUTCOME_NEW_BO


# --------------------------------------------------------------------------------------------
# Writing a batch
# --------------------------------------------------------------------------------------------


def _write(plans: list[Plan]) -> list[tuple[int, str]]:
    """The batch's writes in bulk; returns the ``(case_id, event kind)`` changes.

    On PostgreSQL each table's rows are one ``INSERT … SELECT FROM unnest(column arrays)``
    (:func:`_insert`) and the next steps one ``UPDATE … FROM unnest``: building model
    instances and preparing their values for ``bulk_create`` was a third of the run's CPU.
    The ledger entries go out with the stored-totals trigger skipped
    (:func:`~collections_cases.ledger.totals.trigger_skipped`) and that one ``UPDATE`` adds
    them to the cases' ``stored_*``: each case row is rewritten once per batch, not twice
    (the trigger's rewrite was ≈ 20 % of the run's PostgreSQL CPU). A time-barred hold made
    earlier in the batch through the case services (a savepoint) ran with the trigger on.
    Elsewhere ``bulk_create``/``bulk_update``, the trigger counting the entries."""
    postgres = connection.vendor == "postgresql"
    entries = [entry for plan in plans for entry in plan.entries]
    with_letter = [plan for plan in plans if plan.letter is not None]
    if postgres:
        with ledger_totals.trigger_skipped() as skipped:
            _insert(LedgerEntry, ENTRY_COLUMNS, entries)
        if not skipped:  # pragma: no cover - PostgreSQL always skips
            raise RuntimeError("the ledger trigger was not skipped")
        letter_ids = _insert(
            Letter,
            ("case_id", *LETTER_COLUMNS),
            [(plan.case.pk, *plan.letter) for plan in with_letter],
            returning="case_id",
        )
        deliveries = []
        for plan in with_letter:
            channel, recipient = debtor_channel(plan.case.debtor)
            deliveries.append(
                (letter_ids[plan.case.pk], channel, recipient, LetterDelivery.Reason.INITIAL)
            )
        delivery_ids = _insert(
            LetterDelivery,
            ("letter_id", "channel", "recipient", "reason"),
            deliveries,
            returning="letter_id",
        )
        _queue_deliveries(list(delivery_ids.values()))
    else:
        LedgerEntry.objects.bulk_create(
            LedgerEntry(**dict(zip(ENTRY_COLUMNS, entry, strict=True))) for entry in entries
        )
        letters = Letter.objects.bulk_create(
            Letter(case=plan.case, **dict(zip(LETTER_COLUMNS, plan.letter, strict=True)))
            for plan in with_letter
        )
        if letters and letters[0].pk is None:  # a backend that returns no ids from a bulk insert
            ids = {
                (case_id, step): pk
                for case_id, step, pk in Letter.objects.filter(
                    case_id__in=[letter.case_id for letter in letters],
                    step__in={letter.step for letter in letters},
                ).values_list("case_id", "step", "pk")
            }
            for letter in letters:
                letter.pk = ids[letter.case_id, letter.step]
        delivery_create_for_letters(letters=letters)
        letter_ids = {letter.case_id: letter.pk for letter in letters}
    for plan in with_letter:
        plan.event[2]["letter_id"] = letter_ids[plan.case.pk]
    actor = changes.actor_fields(None)
    events = [
        (plan.case.pk, kind, message, data, *plan.status_change)
        for plan in plans
        if plan.event is not None
        for kind, message, data in [plan.event]
    ]
    if postgres:
        _insert(
            CaseEvent,
            EVENT_COLUMNS + ("actor_id", "actor_label"),
            [(*event, actor["actor"], actor["actor_label"]) for event in events],
        )
        _update_cases(plans, add_totals=True)
    else:
        CaseEvent.objects.bulk_create(
            CaseEvent(**dict(zip(EVENT_COLUMNS, event, strict=True)), **actor) for event in events
        )
        _save_cases(plans)
    return [(event[0], event[1]) for event in events]


def _queue_deliveries(ids: list[int]) -> None:
    """As :func:`~collections_cases.letters.services.delivery_create_for_letters`: on
    commit, one task that queues every delivery's."""
    if ids:
        enqueue_on_commit("collections_cases.letters.tasks.deliver_letters_task", ids)


def _update_cases(plans: list[Plan], *, add_totals: bool) -> None:
    """The next steps (PostgreSQL): one ``UPDATE … FROM unnest`` for the batch, each case's
    changed fields set to its values in memory (the case is locked since it was read).
    ``add_totals``: the plans' ledger entries were written with the trigger skipped, so
    their sums are added to ``stored_*`` here (to the row's current value, as the trigger
    does)."""
    if not plans:
        return
    fields = sorted({name for plan in plans for name in plan.update_fields})
    now = timezone.now()
    meta = CollectionCase._meta
    ids = []
    columns = {name: [] for name in fields}
    for plan in plans:
        case = plan.case
        case.updated_at = now
        ids.append(case.pk)
        for name in fields:
            columns[name].append(getattr(case, name))
    sets, arrays, casts = [], [_pg_array(ids)], ["%s::bigint[]"]
    for name in fields:
        model_field = meta.get_field(name)
        column = connection.ops.quote_name(model_field.column)
        sets.append(f"{column} = v.{column}")
        arrays.append(
            _pg_array([model_field.get_db_prep_save(v, connection) for v in columns[name]])
        )
        casts.append(f"%s::{_cast_type(model_field)}[]")
    aliases = ["id", *(connection.ops.quote_name(meta.get_field(n).column) for n in fields)]
    if add_totals:
        sums = [ledger_totals.deltas((e[2], e[3]) for e in plan.entries) for plan in plans]
        for index, name in enumerate(("stored_balance", "stored_principal", "stored_paid")):
            sets.append(f"{name} = c.{name} + v.d_{name}")
            arrays.append(_pg_array([row[index] for row in sums]))
            casts.append("%s::numeric[]")
            aliases.append(f"d_{name}")
    table = connection.ops.quote_name(meta.db_table)
    sql = (
        f"UPDATE {table} AS c SET {', '.join(sets)}, updated_at = %s "  # noqa: S608 (names from the model)
        f"FROM unnest({', '.join(casts)}) AS v({', '.join(aliases)}) WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *arrays])


def _save_cases(plans: list[Plan]) -> None:
    """The next steps elsewhere: one UPDATE per set of values shared by several cases (a
    letter step's next date is the same for every case it is taken for on a day), one
    ``bulk_update`` for the cases with values of their own (a postponed inkassovarsel's
    date)."""
    now = timezone.now()
    groups: dict[tuple, list[int]] = defaultdict(list)
    for plan in plans:
        case = plan.case
        case.updated_at = now
        values = tuple((name, getattr(case, name)) for name in plan.update_fields)
        groups[values].append(case.pk)
    singles = []
    for values, ids in groups.items():
        if len(ids) == 1:
            singles.append(ids[0])
        else:
            CollectionCase.objects.filter(pk__in=ids).update(**dict(values), updated_at=now)
    if singles:
        by_id = {plan.case.pk: plan for plan in plans}
        fields = sorted({name for pk in singles for name in by_id[pk].update_fields})
        CollectionCase.objects.bulk_update(
            [by_id[pk].case for pk in singles], [*fields, "updated_at"]
        )


def _step_batch(ids: list[int], on: date, result: d.DunningResult, *, strict=False) -> None:
    """One batch in one transaction (the caller's). ``strict``: a case's failure propagates
    (a batch of one whose caller reports it), else it is recorded against its case."""
    cases = _lock_batch(ids, on)
    result.skipped += len(ids) - len(cases)  # no longer due, or another run holds it
    if not cases:
        return
    facts = _load(cases)
    plans = []
    # The status moves' changes, added on their savepoint's commit (a move that rolled back
    # adds nothing), sent with the batch's own in one ``cases_changed``.
    moved: list[tuple[int, str]] = []
    texts = {}  # the batch's translations (one language)
    for case in cases:
        try:
            with d.texts_remembered(texts):
                plan = plan_step(facts[case.pk], on)
        except Exception as exc:  # one bad case must not stop the run
            if strict:
                raise
            logger.exception("Dunning: case %s failed", case.pk)
            result.errors.append((case.pk, str(exc)))
            continue
        if plan.held_reason:
            result.steps[plan.outcome] += 1
            result.held.append((case.pk, plan.held_reason))
            continue
        if plan.move is None:
            plans.append(plan)
            result.steps[plan.outcome] += 1
            continue
        # A move of the status, through the case services (in a savepoint)
        if strict:
            with transaction.atomic():
                _make_move(plan, moved)
            result.steps[plan.outcome] += 1
        else:
            d.guarded(result, case.pk, lambda plan=plan: _make_move(plan, moved))
    written = _write(plans)
    crash_point("dunning.batch_written")  # a crash here (before the commit) leaves none of it
    transaction.on_commit(lambda: _announce(moved + written), robust=True)


def _announce(batch_changes: list[tuple[int, str]]) -> None:
    if batch_changes:
        cases_changed.send(sender=CollectionCase, changes=batch_changes)


def _make_move(plan: Plan, moved: list[tuple[int, str]]) -> str:
    """The move through the case services; its changes join the batch's ``cases_changed``
    once the move's savepoint is part of the commit (an ``on_commit`` made inside the
    savepoint: dropped with it if it rolls back)."""
    with changes.changes_collected() as collected:
        plan.move()
    transaction.on_commit(lambda: moved.extend(collected))
    return plan.outcome


def step_case(case_id: int, on: date) -> str | None:
    """One case's due step on ``on`` as a batch of one, in the caller's transaction: its
    result key, ``None`` when it is not due (or another run holds it). Errors propagate."""
    result = d.DunningResult(on=on)
    _step_batch([case_id], on, result, strict=True)
    return next(iter(result.steps), None)


def dunning_run_batched(*, on: date, batch_size: int = 500, alone: bool = False) -> d.DunningResult:
    """Resume the paused cases whose date came, then move every due case one step, one batch
    (one transaction) at a time. ``alone``: every case a batch of one in its own transaction
    (ids still read ``batch_size`` at a time)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = d.DunningResult(on=on)
    d.dunning_resume_due(result, on=on, batch_size=batch_size)
    for ids in d.id_batches(CollectionCase.objects.filter(d.due_q(on)), batch_size):
        if alone:
            _step_alone(ids, on, result)
            continue
        partial = d.DunningResult(on=on)
        try:
            with transaction.atomic():
                _step_batch(ids, on, partial)
        except Exception:
            # E.g. a concurrent run recorded a letter of this batch first (IntegrityError):
            # all of it rolled back, and each case is done again as a batch of one.
            logger.info("Dunning: batch from case %s done case by case", ids[0], exc_info=True)
            _step_alone(ids, on, result)
        else:
            result.steps.update(partial.steps)
            result.held += partial.held
            result.skipped += partial.skipped
            result.errors += partial.errors
        crash_point("dunning.after_batch")
    logger.info("Dunning run %s: %s", on.isoformat(), result.as_dict())
    return result


def _step_alone(ids: list[int], on: date, result: d.DunningResult) -> None:
    """Each case a batch of one in its own transaction (a savepoint when the caller has one):
    a letter a concurrent run recorded first skips the case, any other failure is recorded
    against it."""
    for case_id in ids:
        d.guarded(result, case_id, lambda case_id=case_id: step_case(case_id, on))

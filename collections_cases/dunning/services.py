"""The daily dunning run: every case whose next action is due moves one legal step.

Facts: ``shared/reference/norwegian-collection-rules.md``; every number comes from
:mod:`collections_cases.rules` (dated tables), never from a literal here.

The run (:func:`dunning_run`, date ``on``)
    1. Paused cases whose ``paused_until`` is on or before ``on`` resume (the case service).
    2. Every case that is due — *pågående* with a dunning next action dated on or before ``on``,
       or *venter godkjenning* of legal steps whose new-BO date has come — is processed, in
       batches of ids, each batch in one transaction that locks its rows
       (``select_for_update(skip_locked=True)`` on PostgreSQL, so two runs work side by side and
       never wait for each other; a plain lock on SQLite) and re-checks that they are still
       due (:mod:`collections_cases.dunning.batch`, where every step below is
       decided; :func:`dunning_run_per_case` runs each case as a batch of one in its own
       transaction, which is also what a batch that cannot be written falls back to).
    3. Exactly one step per case per run. A day the run missed is caught up, never skipped: a
       case due three days ago gets its step today, dated ``on``. A second run on the same date
       finds nothing due (each step moves the next action past ``on``) and changes nothing.
    4. One :class:`~collections_cases.models.Letter` per (case, step), enforced by a unique
       constraint: a letter a concurrent run already recorded rolls this case's transaction
       back (``IntegrityError``) and the case counts as skipped.
    5. Each step writes one :class:`~collections_cases.models.CaseEvent` (whose commit sends
       ``case_changed``, or ``cases_changed`` once for a batch: the PowerOffice Go status push
       listens there); no PoGo call here.

Before any step the balance is re-checked: a balance of 0 or less closes the case as paid
(no letter). When the outstanding principal is paid but costs remain, the case also closes as
paid — the agency does not pursue costs alone: a reduction entry waives the remaining costs,
so the case closes with a balance of 0 as ``case_close`` requires for *paid* (choice: keeps a
small remainder from ever producing a betalingsoppfordring with salær, which INKL § 17 forbids
after payment within the IV deadline).

Steps
    Entry step: the case starts at the debtor's override or the creditor's ``entry_step``
    (set by ``case_create``).

    Inkassovarsel (INKL § 9) — only after the due date of every invoice in the case (a case
    due later is moved to the day after its last due date, no letter). Skipped when PowerOffice
    Go already sent one for every invoice (``last_reminder_voucher_type ==
    "OutgoingNoticeOfDebtCollection"``): the BO follows the latest of those deadlines plus the
    grace days — at once when that day has come, else the case waits for it without a second
    IV. Fee ``rules.letter_fee`` per invoice, the smallest of them (choice: one fee per letter,
    debtor-friendly when the invoices differ), none when the debtor has
    ``do_not_add_late_payment_fees``. Deadline ``rules.deadline(on, rules.iv_deadline_days)``.
    Next: the BO on the ``settings.DUNNING_GRACE_DAYS``-th banking day after the deadline
    (default 3: a payment ordered on the last day needs a few banking days to arrive;
    :func:`after_grace`).

    Betalingsoppfordring (INKL § 10) — never when the claim was paid within the IV deadline
    (the balance check above). When the creditor has ``approve_payment_demands``, the case
    first waits *venter godkjenning* with approval kind payment demand
    (``case_request_payment_demand_approval``; no letter, no salær); once the creditor
    approves it (``case_approve``) it is active again with the BO due on the approval day
    (Europe/Oslo), and the run on that day or later sends it. Lett salær
    ``rules.salaer`` on the outstanding principal, the earliest due date's table, × 1.5 for a
    business debtor, × 1.25 for a creditor outside the VAT register. Deadline
    ``rules.deadline(on, rules.bo_deadline_days)``. Next: varsel om rettslig inndriving on
    ``rules.heavy_salaer_earliest(BO deadline)``.

    Varsel om rettslig inndriving (tvfbl § 4-18), with tungt salær (INKF § 2-3) — on the day
    tungt salær is allowed, the salær is raised to ``rules.salaer(heavy=True)`` computed that
    day (the sats in force on the computation date, as the reference says for quotes): the
    difference to the salær already booked. Choice: the two are one step (one run, one
    letter), so the varsel shows the tungt salær. Deadline ``rules.deadline(on,
    rules.rettslig_varsel_days)``. Next: the legal-approval request on that deadline + grace
    days, next business day.

    Request for the creditor's approval of legal steps — ``case_request_legal_approval``
    (*venter godkjenning*, approval kind legal). The case's next action date becomes
    ``rules.new_bo_due(last BO)``: if the creditor has not approved by then, the run sends a
    new BO (INKL § 11).

    New betalingsoppfordring — while legal steps wait for approval and 6 months
    (``rules.new_bo_due``) passed since the last BO: a new BO (step
    ``betalingsoppfordring_2``, ``_3`` …) with a fresh deadline and no new salær; the case
    keeps waiting for the approval, the next new BO ``rules.new_bo_due`` later.

    Forsinkelsesrente — accrued at every letter step, up to the letter's date
    (:mod:`collections_cases.ledger.interest`), unless the debtor has
    ``do_not_add_late_payment_interest``. Steps without a letter (parking for approval,
    the legal-approval request) accrue nothing; the next letter catches the period up.

Costs (fees, salær, interest) are never added to a disputed or closed case (INKL § 17); such
cases are never due here anyway. ``do_not_add_late_payment_fees`` concerns the letter fee only;
salær is a collection cost and follows the rules above.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from collections_cases.cases import changes
from collections_cases.cases import services as case_services
from collections_cases.dunning.batch import dunning_run_batched, step_case
from collections_cases.dunning.steps import (  # noqa: F401  (the run's vocabulary, as callers know it)
    _NEXT_ACTION_LABELS,
    BO_KINDS,
    DUE_ACTIONS,
    OUTCOME_AWAITING_DEMAND_APPROVAL,
    OUTCOME_CLOSED_PAID,
    OUTCOME_HELD_RULE_UNKNOWN,
    OUTCOME_HELD_TIME_BARRED,
    OUTCOME_LABELS,
    OUTCOME_LEGAL_APPROVAL_REQUESTED,
    OUTCOME_NEW_BO,
    OUTCOME_RESCHEDULED,
    OUTCOME_RESUMED,
    OUTCOME_WAITING_FOR_POGO_IV,
    POGO_IV_VOUCHER_TYPE,
    STEP_BETALINGSOPPFORDRING,
    STEP_INKASSOVARSEL,
    STEP_VARSEL_RETTSLIG,
    ZERO,
    ApprovalKind,
    DunningResult,
    NextAction,
    Stage,
    Status,
    _,
    _date,
    _texts,
    after_grace,
    amounts_payload,
    bo_message,
    due_q,
    dunning_resume_due,
    grace_days,
    guarded,
    id_batches,
    iv_fee,
    iv_message,
    letter_event,
    lock_if,
    new_bo_message,
    next_action_label,
    pogo_iv_deadline,
    pogo_wait_event,
    resume_one,
    resume_q,
    texts_remembered,
    varsel_rettslig_message,
)
from collections_cases.models import CaseEvent, CollectionCase
from kravia_web.enqueue import enqueue
from kravia_web.errors import ApplicationError


def dunning_run_daily(*, on: date) -> dict:
    """The daily run as the beat starts it: first every open case whose limitation date has
    come is held for a case handler (``cases.limitation.limitation_hold_due``), then the run,
    split over ``settings.DUNNING_RUN_TASKS`` tasks side by side — the others queued now, this
    one running its own part. Each part takes the next batch no other has locked (see
    :func:`dunning_run`), so on as many worker processes the day takes about that fraction of
    the time; a part that runs late, or never, changes nothing: the others step every case
    they find due. Returns this part's result and the number held."""
    from collections_cases.cases.limitation import limitation_hold_due

    held = limitation_hold_due(on=on)
    for _part in range(1, settings.DUNNING_RUN_TASKS):
        enqueue("collections_cases.dunning.tasks.dunning_run_part_task", on.isoformat())
    return {**dunning_run(on=on).as_dict(), "held_time_barred": held}


def dunning_run(*, on: date, batch_size: int = 500) -> DunningResult:
    """Resume the paused cases whose date came, then move every due case one step — a batch
    of cases at a time (:mod:`collections_cases.dunning.batch`)."""
    return dunning_run_batched(on=on, batch_size=batch_size)


def dunning_run_per_case(*, on: date, batch_size: int = 500) -> DunningResult:
    """The run one case at a time: each case a batch of one in its own transaction (what a
    batch that cannot be written falls back to; the batched run is tested against it)."""
    return dunning_run_batched(on=on, batch_size=batch_size, alone=True)


def dunning_case_step(*, case: CollectionCase, on: date) -> str | None:
    """One case's due step as the run would take it on ``on`` (for an admin action): resumes
    it first when its pause ended; ``None`` when nothing is due. Errors propagate."""
    with transaction.atomic():
        resumed = resume_one(case.pk, on)
        return _step_one(case.pk, on) or resumed


def dunning_case_step_early(*, case: CollectionCase, on: date, actor, reason: str) -> str:
    """A case handler runs the case's next step before its date (admin: «Kjør neste steg nå»
    with a reason): the date moves to ``on``, one event records who and why, then the step is
    taken exactly as the run would take it. The legal holds stay: an unverified creditor's
    case is refused, a time-barred claim is held (paused, no letter), and a step needing a rate
    the tables do not know is refused with nothing written (the date stays where it was)."""
    from creditors.selectors import verified_creditor_ids

    reason = changes.required_text(reason, gettext("en årsak"))
    with transaction.atomic():
        locked = case_services.case_lock(case_id=case.pk)
        if not verified_creditor_ids().filter(pk=locked.creditor_id).exists():
            raise ApplicationError(
                gettext(
                    "Kreditoren er ikke verifisert: ingen brev, e-post eller kostnad før "
                    "kreditoren er verifisert."
                )
            )
        if locked.status != Status.ACTIVE or locked.next_action not in DUE_ACTIONS:
            raise ApplicationError(
                gettext("Saken har ikke noe inkassosteg å ta (%(status)s).")
                % {"status": locked.get_status_display()}
            )
        planned = locked.next_action_date
        if planned is None or planned > on:
            locked.next_action_date = on
            locked.save(update_fields=["next_action_date", "updated_at"])
        changes.record_event(
            locked,
            kind=CaseEvent.Kind.DUNNING_STEP,
            actor=actor,
            message=gettext(
                "Neste steg (%(action)s, planlagt %(planned)s) kjøres før tiden: %(reason)s"
            )
            % {
                "action": locked.get_next_action_display(),
                "planned": planned.strftime("%d.%m.%Y") if planned else "–",
                "reason": reason,
            },
            data={
                "early": True,
                "planned": planned.isoformat() if planned else None,
                "run_on": on.isoformat(),
                "reason": reason,
            },
        )
        outcome = _step_one(locked.pk, on)
        if outcome == OUTCOME_HELD_RULE_UNKNOWN:
            # Nothing of the step was written; the error undoes the early date and the event.
            raise ApplicationError(str(OUTCOME_LABELS[outcome]))
        if outcome is None:
            raise ApplicationError(gettext("Steget kunne ikke tas nå."))
        return outcome


def _step_one(case_id: int, on: date) -> str | None:
    """The case's due step as a batch of one (in the caller's transaction); ``None`` when it
    is not due. Errors propagate."""
    return step_case(case_id, on)

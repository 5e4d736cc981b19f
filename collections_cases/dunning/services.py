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

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from collections_cases import rules
from collections_cases.cases import services as case_services
from collections_cases.ledger.interest import invoice_due_date
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter
from kravia_web.crashpoints import crash_point
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

logger = logging.getLogger(__name__)

_texts = threading.local()


def _(message: str) -> str:
    """``gettext``, remembered while a batch plans its steps (:func:`texts_remembered`): the
    same few messages are translated for every case, and each lookup of the active language
    costs more than the rest of the message."""
    memo = getattr(_texts, "memo", None)
    if memo is None:
        return gettext(message)
    text = memo.get(message)
    if text is None:
        text = memo[message] = gettext(message)
    return text


@contextmanager
def texts_remembered(memo: dict):
    """Within the block, :func:`_` remembers its translations in ``memo`` (one batch's: no
    language changes inside the block)."""
    previous = getattr(_texts, "memo", None)
    _texts.memo = memo
    try:
        yield
    finally:
        _texts.memo = previous


Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
ApprovalKind = CollectionCase.ApprovalKind

ZERO = Decimal("0.00")

#: PowerOffice Go's voucher type of an inkassovarsel it sent itself.
POGO_IV_VOUCHER_TYPE = "OutgoingNoticeOfDebtCollection"

#: Letter steps: one letter per (case, step).
STEP_INKASSOVARSEL = "inkassovarsel"
STEP_BETALINGSOPPFORDRING = "betalingsoppfordring"
STEP_VARSEL_RETTSLIG = "varsel_rettslig"

#: Result keys for steps without a letter.
OUTCOME_CLOSED_PAID = "closed_paid"
OUTCOME_RESUMED = "resumed"
OUTCOME_RESCHEDULED = "rescheduled"
OUTCOME_AWAITING_DEMAND_APPROVAL = "awaiting_payment_demand_approval"
OUTCOME_WAITING_FOR_POGO_IV = "waiting_for_pogo_inkassovarsel"
OUTCOME_LEGAL_APPROVAL_REQUESTED = "legal_approval_requested"
OUTCOME_NEW_BO = "new_betalingsoppfordring"
OUTCOME_HELD_TIME_BARRED = "held_time_barred"
OUTCOME_HELD_RULE_UNKNOWN = "held_rule_unknown"

#: What each outcome means, for people (admin messages).
OUTCOME_LABELS = {
    STEP_INKASSOVARSEL: gettext_lazy("inkassovarsel registrert"),
    STEP_BETALINGSOPPFORDRING: gettext_lazy("betalingsoppfordring registrert"),
    STEP_VARSEL_RETTSLIG: gettext_lazy("varsel om rettslig inndriving registrert"),
    OUTCOME_CLOSED_PAID: gettext_lazy("avsluttet som betalt"),
    OUTCOME_RESUMED: gettext_lazy("gjenopptatt"),
    OUTCOME_RESCHEDULED: gettext_lazy("inkassovarsel flyttet til dagen etter forfall"),
    OUTCOME_AWAITING_DEMAND_APPROVAL: gettext_lazy(
        "betalingsoppfordringen venter på kreditors godkjenning"
    ),
    OUTCOME_WAITING_FOR_POGO_IV: gettext_lazy(
        "venter på fristen i inkassovarselet fra PowerOffice Go"
    ),
    OUTCOME_LEGAL_APPROVAL_REQUESTED: gettext_lazy(
        "kreditor er bedt om å godkjenne rettslige tiltak"
    ),
    OUTCOME_NEW_BO: gettext_lazy("ny betalingsoppfordring registrert"),
    OUTCOME_HELD_TIME_BARRED: gettext_lazy("stanset: kravet er foreldet"),
    OUTCOME_HELD_RULE_UNKNOWN: gettext_lazy(
        "holdt tilbake: renten eller satsen for dagen er ikke kjent ennå"
    ),
}

DUE_ACTIONS = (
    NextAction.SEND_INKASSOVARSEL,
    NextAction.SEND_BETALINGSOPPFORDRING,
    NextAction.SEND_VARSEL_RETTSLIG,
    NextAction.REQUEST_LEGAL_APPROVAL,
)
BO_KINDS = (Letter.Kind.BETALINGSOPPFORDRING, Letter.Kind.NEW_BETALINGSOPPFORDRING)


@dataclass
class DunningResult:
    on: date
    steps: Counter = field(default_factory=Counter)
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: Steps held back with nothing written: ``(case_id, reason)``.
    held: list[tuple[int, str]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return sum(n for step, n in self.steps.items() if step != OUTCOME_HELD_RULE_UNKNOWN)

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "steps": dict(sorted(self.steps.items())),
            "skipped": self.skipped,
            "held": [{"case_id": case_id, "reason": reason} for case_id, reason in self.held],
            "errors": [{"case_id": case_id, "error": error} for case_id, error in self.errors],
        }


# --------------------------------------------------------------------------------------------
# Selection and locking
# --------------------------------------------------------------------------------------------


def grace_days() -> int:
    """Banking days after a deadline before a payment counts as missed (bank processing)."""
    return settings.DUNNING_GRACE_DAYS


def after_grace(deadline: date) -> date:
    """The first day a missed ``deadline`` is acted on: the ``grace_days()``-th banking day
    after it (a payment ordered on the deadline needs banking days to arrive)."""
    return rules.add_banking_days(deadline, grace_days())


def due_q(on: date) -> Q:
    """Cases with a dunning step due on or before ``on``.

    Only cases of a *verified* creditor (issue 15: an unverified creditor causes no letter,
    e-mail or cost to a debtor). An unverified creditor's cases stay due and are taken by the
    first run after :func:`creditors.services.creditor_verify`. A subquery, not a join, so the
    batch's ``SELECT … FOR UPDATE`` locks only case rows."""
    from creditors.selectors import verified_creditor_ids

    due = Q(status=Status.ACTIVE, next_action__in=DUE_ACTIONS, next_action_date__lte=on) | Q(
        status=Status.AWAITING_APPROVAL,
        approval_kind=ApprovalKind.LEGAL,
        next_action=NextAction.AWAIT_APPROVAL,
        next_action_date__lte=on,
    )
    return due & Q(creditor_id__in=verified_creditor_ids())


def resume_q(on: date) -> Q:
    return Q(status=Status.PAUSED, paused_until__isnull=False, paused_until__lte=on)


def _lock_if(case_id: int, condition: Q) -> CollectionCase | None:
    """The case row locked (inside ``atomic()``) if it still matches ``condition``; ``None``
    when it no longer does or another run holds it (PostgreSQL skips locked rows)."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    return (
        CollectionCase.objects.select_for_update(skip_locked=skip_locked)
        .filter(condition, pk=case_id)
        .first()
    )


def _id_batches(queryset: QuerySet, batch_size: int) -> Iterator[list[int]]:
    """Ids in ascending batches, re-queried each batch (keyset), so a long run stays current."""
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def dunning_run(*, on: date, batch_size: int = 500) -> DunningResult:
    """Resume the paused cases whose date came, then move every due case one step — a batch
    of cases at a time (:mod:`collections_cases.dunning.batch`)."""
    from collections_cases.dunning.batch import dunning_run_batched

    return dunning_run_batched(on=on, batch_size=batch_size)


def dunning_resume_due(result: DunningResult, *, on: date, batch_size: int) -> None:
    """Step 1 of the run: resume the paused cases whose date came (one transaction each)."""
    for batch in _id_batches(CollectionCase.objects.filter(resume_q(on)), batch_size):
        for case_id in batch:
            _guarded(result, case_id, lambda case_id=case_id: _resume_one(case_id, on))


def dunning_run_per_case(*, on: date, batch_size: int = 500) -> DunningResult:
    """The run one case at a time: each case a batch of one in its own transaction (what a
    batch that cannot be written falls back to; the batched run is tested against it)."""
    from collections_cases.dunning.batch import dunning_run_batched

    return dunning_run_batched(on=on, batch_size=batch_size, alone=True)


def dunning_case_step(*, case: CollectionCase, on: date) -> str | None:
    """One case's due step as the run would take it on ``on`` (for an admin action): resumes
    it first when its pause ended; ``None`` when nothing is due. Errors propagate."""
    with transaction.atomic():
        resumed = _resume_one(case.pk, on)
        return _step_one(case.pk, on) or resumed


def dunning_case_step_early(*, case: CollectionCase, on: date, actor, reason: str) -> str:
    """A case handler runs the case's next step before its date (admin: «Kjør neste steg nå»
    with a reason): the date moves to ``on``, one event records who and why, then the step is
    taken exactly as the run would take it. The legal holds stay: an unverified creditor's
    case is refused, a time-barred claim is held (paused, no letter), and a step needing a rate
    the tables do not know is refused with nothing written (the date stays where it was)."""
    from creditors.selectors import verified_creditor_ids

    reason = case_services._required_text(reason, gettext("en årsak"))
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
        case_services._record(
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


def _guarded(result: DunningResult, case_id: int, call) -> None:
    """Run one case's step in its own transaction (a savepoint when the caller has one)."""
    try:
        with transaction.atomic():
            outcome = call()
    except IntegrityError:
        # Another run recorded this step's letter first: our whole step rolled back.
        logger.info("Dunning: case %s already had this step's letter", case_id)
        result.skipped += 1
        return
    except Exception as exc:  # one bad case must not stop the run
        logger.exception("Dunning: case %s failed", case_id)
        result.errors.append((case_id, str(exc)))
        return
    crash_point("dunning.after_step")
    if outcome is None:
        result.skipped += 1
    else:
        result.steps[outcome] += 1


def _resume_one(case_id: int, on: date) -> str | None:
    case = _lock_if(case_id, resume_q(on))
    if case is None:
        return None
    case_services.case_resume(case=case, actor=None)
    return OUTCOME_RESUMED


def _step_one(case_id: int, on: date) -> str | None:
    """The case's due step as a batch of one (in the caller's transaction); ``None`` when it
    is not due. Errors propagate."""
    from collections_cases.dunning.batch import step_case

    return step_case(case_id, on)


# --------------------------------------------------------------------------------------------
# Helpers shared with the batch (pure: messages, fees, event data)
# --------------------------------------------------------------------------------------------


def amounts_payload(totals: dict[str, Decimal], *, on: date, earliest_due: date) -> dict:
    """The amounts a letter shows (:func:`~collections_cases.cases.selectors.case_amounts`)."""
    return {
        "principal": str(totals["principal_outstanding"]),
        "interest": str(
            totals[LedgerEntry.Kind.INTEREST] + totals[LedgerEntry.Kind.INTEREST_CORRECTION]
        ),
        "fees": str(totals[LedgerEntry.Kind.FEE]),
        "salaer": str(totals[LedgerEntry.Kind.SALAER]),
        "payments": str(totals[LedgerEntry.Kind.PAYMENT]),
        "total": str(totals["balance"]),
        "interest_rate": str(rules.late_interest_rate(on)),
        "interest_from": earliest_due.isoformat(),
    }


_NEXT_ACTION_LABELS: dict[tuple[str | None, str], str] = {}


def next_action_label(action: str) -> str:
    """``case.get_next_action_display()`` in the active language, remembered (the choices'
    lazy labels cost more to look up than the rest of a letter's event)."""
    key = (translation.get_language(), action)
    label = _NEXT_ACTION_LABELS.get(key)
    if label is None:
        label = _NEXT_ACTION_LABELS[key] = str(dict(NextAction.choices).get(action, action))
    return label


def letter_event(
    case: CollectionCase,
    *,
    letter_id: int | None,
    kind: str,
    step: str,
    on: date,
    deadline: date,
    fee: Decimal,
    interest: Decimal,
    message: str,
    amounts: dict,
) -> tuple[str, dict]:
    """The message and data of a letter's case event (after the case's next step is set)."""
    if interest > 0:
        message = "{} {}".format(
            message,
            _("Forsinkelsesrente %(amount)s lagt til.") % {"amount": format_nok(interest)},
        )
    message = "{} {}".format(
        message,
        _("Neste steg: %(action)s %(date)s.")
        % {
            "action": next_action_label(case.next_action).lower(),
            "date": case.next_action_date.strftime("%d.%m.%Y") if case.next_action_date else "",
        },
    )
    return (
        message,
        {
            "letter_id": letter_id,
            "kind": kind,
            "step": step,
            "sent_on": on.isoformat(),
            "deadline": deadline.isoformat(),
            "fee": str(fee),
            "interest": str(interest),
            "amounts": amounts,
            "next_action": case.next_action,
            "next_action_date": case.next_action_date.isoformat()
            if case.next_action_date
            else None,
        },
    )


def _date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def pogo_iv_deadline(invoices) -> date | None:
    """The latest deadline of the inkassovarsler PowerOffice Go sent, when it sent one for
    every invoice of the case; else ``None``."""
    deadlines = []
    for invoice in invoices:
        if (
            invoice.last_reminder_voucher_type != POGO_IV_VOUCHER_TYPE
            or invoice.last_reminder_due_date is None
        ):
            return None
        deadlines.append(invoice.last_reminder_due_date)
    return max(deadlines) if deadlines else None


def pogo_wait_event(pogo_deadline: date, bo_on: date) -> tuple[str, dict]:
    """The event of a case waiting for the deadline of PoGo's own inkassovarsel."""
    message = _(
        "PowerOffice Go har allerede sendt inkassovarsel med frist %(deadline)s; "
        "betalingsoppfordring sendes %(date)s hvis kravet ikke er betalt."
    ) % {"deadline": _date(pogo_deadline), "date": _date(bo_on)}
    return message, {"pogo_iv_deadline": pogo_deadline.isoformat(), "next_action_date": str(bo_on)}


def iv_fee(invoices, *, debtor, on: date) -> Decimal:
    """The inkassovarsel's fee: the smallest of the invoices' letter fees, none when the
    debtor is exempt from fees."""
    if debtor.do_not_add_late_payment_fees:
        return ZERO
    return min(rules.letter_fee(due_date=invoice_due_date(i), sent_on=on) for i in invoices)


def iv_message(deadline: date, fee: Decimal) -> str:
    return _("Inkassovarsel registrert med frist %(deadline)s, gebyr %(fee)s.") % {
        "deadline": _date(deadline),
        "fee": format_nok(fee),
    }


def bo_message(deadline: date, salaer: Decimal, pogo_iv_deadline: date | None) -> str:
    message = _("Betalingsoppfordring registrert med frist %(deadline)s, salær %(salaer)s.") % {
        "deadline": _date(deadline),
        "salaer": format_nok(salaer),
    }
    if pogo_iv_deadline is not None:
        message = "{} {}".format(
            message,
            _("Inkassovarsel ble sendt fra PowerOffice Go med frist %(deadline)s.")
            % {"deadline": _date(pogo_iv_deadline)},
        )
    return message


def varsel_rettslig_message(deadline: date, heavy_added: Decimal) -> str:
    return _(
        "Varsel om rettslig inndriving registrert med frist %(deadline)s, "
        "tungt salær økt med %(salaer)s."
    ) % {"deadline": _date(deadline), "salaer": format_nok(heavy_added)}


def new_bo_message(deadline: date, on: date) -> str:
    return _(
        "Ny betalingsoppfordring registrert med frist %(deadline)s: ingen rettslige "
        "tiltak innen %(months)d måneder etter forrige betalingsoppfordring."
    ) % {"deadline": _date(deadline), "months": rules.new_bo_months(on)}

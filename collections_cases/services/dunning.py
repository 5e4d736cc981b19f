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
       due (:mod:`collections_cases.services.dunning_batch`; :func:`dunning_run_per_case` does
       the same one case per transaction, and is what a batch that cannot be written falls
       back to).
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
    Next: the BO on the deadline + ``settings.DUNNING_GRACE_DAYS`` calendar days (default 3:
    a payment ordered on the last day needs a few banking days to arrive), moved to the next
    business day.

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
    (:mod:`collections_cases.services.interest`), unless the debtor has
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
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from collections_cases import rules
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter
from collections_cases.selectors import case_amounts, case_balance, case_principal_outstanding
from collections_cases.services import cases as case_services
from collections_cases.services.interest import case_accrue_interest, invoice_due_date
from kravia_web.crashpoints import crash_point
from kravia_web.money import format_nok, to_ore

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

    @property
    def processed(self) -> int:
        return sum(self.steps.values())

    def as_dict(self) -> dict:
        return {
            "on": self.on.isoformat(),
            "steps": dict(sorted(self.steps.items())),
            "skipped": self.skipped,
            "errors": [{"case_id": case_id, "error": error} for case_id, error in self.errors],
        }


# --------------------------------------------------------------------------------------------
# Selection and locking
# --------------------------------------------------------------------------------------------


def grace_days() -> int:
    """Calendar days after a deadline before a payment counts as missed (bank processing)."""
    return settings.DUNNING_GRACE_DAYS


def after_grace(deadline: date) -> date:
    """The first day a missed ``deadline`` is acted on: + grace days, next business day."""
    return rules.next_business_day(deadline + timedelta(days=grace_days()))


def due_q(on: date) -> Q:
    """Cases with a dunning step due on or before ``on``."""
    return Q(status=Status.ACTIVE, next_action__in=DUE_ACTIONS, next_action_date__lte=on) | Q(
        status=Status.AWAITING_APPROVAL,
        approval_kind=ApprovalKind.LEGAL,
        next_action=NextAction.AWAIT_APPROVAL,
        next_action_date__lte=on,
    )


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
    of cases at a time (:mod:`collections_cases.services.dunning_batch`), with the same
    outcome as :func:`dunning_run_per_case`."""
    from collections_cases.services.dunning_batch import dunning_run_batched

    return dunning_run_batched(on=on, batch_size=batch_size)


def dunning_resume_due(result: DunningResult, *, on: date, batch_size: int) -> None:
    """Step 1 of the run: resume the paused cases whose date came (one transaction each)."""
    for batch in _id_batches(CollectionCase.objects.filter(resume_q(on)), batch_size):
        for case_id in batch:
            _guarded(result, case_id, lambda case_id=case_id: _resume_one(case_id, on))


def dunning_run_per_case(*, on: date, batch_size: int = 500) -> DunningResult:
    """The run one case at a time, each in its own transaction (the reference the batched
    run is tested against; also what a batch falls back to when it cannot be written)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = DunningResult(on=on)
    dunning_resume_due(result, on=on, batch_size=batch_size)
    for batch in _id_batches(CollectionCase.objects.filter(due_q(on)), batch_size):
        for case_id in batch:
            _guarded(result, case_id, lambda case_id=case_id: _step_one(case_id, on))
    logger.info("Dunning run %s: %s", on.isoformat(), result.as_dict())
    return result


def dunning_case_step(*, case: CollectionCase, on: date) -> str | None:
    """One case's due step as the run would take it on ``on`` (for an admin action): resumes
    it first when its pause ended; ``None`` when nothing is due. Errors propagate."""
    with transaction.atomic():
        resumed = _resume_one(case.pk, on)
        return _step_one(case.pk, on) or resumed


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
    case = _lock_if(case_id, due_q(on))
    if case is None:
        return None
    if case_balance(case) <= 0 or case_principal_outstanding(case) <= 0:
        return _close_paid(case, on)
    if case.status == Status.AWAITING_APPROVAL:
        return _new_betalingsoppfordring(case, on)
    step = {
        NextAction.SEND_INKASSOVARSEL: _inkassovarsel,
        NextAction.SEND_BETALINGSOPPFORDRING: _betalingsoppfordring,
        NextAction.SEND_VARSEL_RETTSLIG: _varsel_rettslig,
        NextAction.REQUEST_LEGAL_APPROVAL: _request_legal_approval,
    }[case.next_action]
    return step(case, on)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _close_paid(case: CollectionCase, on: date) -> str:
    """Close as paid. Costs left after the principal is paid are not pursued: a reduction
    entry waives them first, so the case closes with a balance of 0."""
    balance = case_balance(case)
    note = ""
    if balance > 0:
        note = _("Hovedstolen er betalt; gjenstående kostnader %(amount)s kreves ikke inn.") % {
            "amount": format_nok(balance)
        }
        LedgerEntry.objects.create(
            case=case,
            kind=LedgerEntry.Kind.REDUCTION,
            amount=-balance,
            booked_on=on,
            description=_("Gjenstående kostnader frafalt: hovedstolen er betalt"),
        )
    case_services.case_close(
        case=case, actor=None, reason=CollectionCase.CloseReason.PAID, note=note
    )
    return OUTCOME_CLOSED_PAID


def _earliest_due(case: CollectionCase) -> date:
    return min(invoice_due_date(invoice) for invoice in case.invoices.all())


def _accrue_interest(case: CollectionCase, on: date) -> Decimal:
    if case.debtor.do_not_add_late_payment_interest or not case_services.case_may_add_costs(case):
        return ZERO
    return case_accrue_interest(case, on=on)


def _book(case: CollectionCase, *, kind: str, amount: Decimal, on: date, description: str):
    if amount > 0:
        LedgerEntry.objects.create(
            case=case, kind=kind, amount=amount, booked_on=on, description=description[:200]
        )


def _salaer(case: CollectionCase, on: date, *, heavy: bool = False) -> Decimal:
    return rules.salaer(
        principal=case_principal_outstanding(case),
        on=on,
        due_date=_earliest_due(case),
        heavy=heavy,
        business_debtor=not case.debtor.is_person,
        creditor_vat_registered=case.creditor.vat_registered,
    )


def _set_next(case: CollectionCase, *, action: str, on: date | None, **changes) -> None:
    case.next_action = action
    case.next_action_date = on
    for name, value in changes.items():
        setattr(case, name, value)
    case.save(update_fields=["next_action", "next_action_date", *changes, "updated_at"])


def _amounts(case: CollectionCase, on: date) -> dict[str, str]:
    return amounts_payload(case_amounts(case), on=on, earliest_due=_earliest_due(case))


def amounts_payload(totals: dict[str, Decimal], *, on: date, earliest_due: date) -> dict:
    """The amounts a letter shows (:func:`~collections_cases.selectors.case_amounts`)."""
    return {
        "principal": str(totals["principal_outstanding"]),
        "interest": str(totals[LedgerEntry.Kind.INTEREST]),
        "fees": str(totals[LedgerEntry.Kind.FEE]),
        "salaer": str(totals[LedgerEntry.Kind.SALAER]),
        "payments": str(totals[LedgerEntry.Kind.PAYMENT]),
        "total": str(totals["balance"]),
        "interest_rate": str(rules.late_interest_rate(on)),
        "interest_from": earliest_due.isoformat(),
    }


def _letter(
    case: CollectionCase,
    *,
    kind: str,
    step: str,
    on: date,
    deadline: date,
    fee: Decimal,
    interest: Decimal,
    message: str,
) -> Letter:
    """Record the letter (the unique (case, step) constraint guards it) and its event."""
    amounts = _amounts(case, on)
    letter = Letter.objects.create(
        case=case, kind=kind, step=step, sent_on=on, deadline=deadline, fee=fee, amounts=amounts
    )
    message, data = letter_event(
        case,
        letter_id=letter.pk,
        kind=kind,
        step=step,
        on=on,
        deadline=deadline,
        fee=fee,
        interest=interest,
        message=message,
        amounts=amounts,
    )
    case_services._record(case, kind=CaseEvent.Kind.LETTER, actor=None, message=message, data=data)
    return letter


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


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def _pogo_iv_deadline(case: CollectionCase) -> date | None:
    return pogo_iv_deadline(case.invoices.all())


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


def _inkassovarsel(case: CollectionCase, on: date) -> str:
    invoices = list(case.invoices.all())
    pogo_deadline = _pogo_iv_deadline(case)
    if pogo_deadline is not None:
        bo_on = after_grace(pogo_deadline)
        if pogo_deadline < on and bo_on <= on:
            return _betalingsoppfordring(case, on, pogo_iv_deadline=pogo_deadline)
        _set_next(case, action=NextAction.SEND_BETALINGSOPPFORDRING, on=bo_on)
        message, data = pogo_wait_event(pogo_deadline, bo_on)
        case_services._record(
            case, kind=CaseEvent.Kind.DUNNING_STEP, actor=None, message=message, data=data
        )
        return OUTCOME_WAITING_FOR_POGO_IV

    latest_due = max(invoice_due_date(invoice) for invoice in invoices)
    if on <= latest_due:
        # INKL § 9: an inkassovarsel only after the due date.
        _set_next(case, action=NextAction.SEND_INKASSOVARSEL, on=latest_due + timedelta(days=1))
        return OUTCOME_RESCHEDULED

    fee = iv_fee(invoices, debtor=case.debtor, on=on)
    interest = _accrue_interest(case, on)
    _book(case, kind=LedgerEntry.Kind.FEE, amount=fee, on=on, description=_("Inkassovarselgebyr"))
    deadline = rules.deadline(on, rules.iv_deadline_days(on))
    _set_next(case, action=NextAction.SEND_BETALINGSOPPFORDRING, on=after_grace(deadline))
    _letter(
        case,
        kind=Letter.Kind.INKASSOVARSEL,
        step=STEP_INKASSOVARSEL,
        on=on,
        deadline=deadline,
        fee=fee,
        interest=interest,
        message=iv_message(deadline, fee),
    )
    return STEP_INKASSOVARSEL


def _payment_demand_approved(case: CollectionCase) -> bool:
    """Whether the creditor approved the betalingsoppfordring after the case last waited for
    that approval (``case_request_payment_demand_approval``, then ``case_approve``)."""
    parked = (
        CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED)
        .order_by("-id")
        .first()
    )
    if parked is None:
        return False
    return CaseEvent.objects.filter(
        case=case, kind=CaseEvent.Kind.APPROVED, id__gt=parked.id
    ).exists()


def _betalingsoppfordring(
    case: CollectionCase, on: date, *, pogo_iv_deadline: date | None = None
) -> str:
    if case.creditor.approve_payment_demands and not _payment_demand_approved(case):
        case_services.case_request_payment_demand_approval(case=case, actor=None)
        return OUTCOME_AWAITING_DEMAND_APPROVAL
    interest = _accrue_interest(case, on)
    salaer = _salaer(case, on)
    _book(case, kind=LedgerEntry.Kind.SALAER, amount=salaer, on=on, description=_("Lett salær"))
    deadline = rules.deadline(on, rules.bo_deadline_days(on))
    _set_next(
        case,
        action=NextAction.SEND_VARSEL_RETTSLIG,
        on=rules.heavy_salaer_earliest(deadline),
        stage=Stage.BETALINGSOPPFORDRING,
    )
    _letter(
        case,
        kind=Letter.Kind.BETALINGSOPPFORDRING,
        step=STEP_BETALINGSOPPFORDRING,
        on=on,
        deadline=deadline,
        fee=salaer,
        interest=interest,
        message=bo_message(deadline, salaer, pogo_iv_deadline),
    )
    return STEP_BETALINGSOPPFORDRING


def _varsel_rettslig(case: CollectionCase, on: date) -> str:
    interest = _accrue_interest(case, on)
    heavy_added = ZERO
    last_bo = case.letters.filter(kind__in=BO_KINDS).order_by("-sent_on", "-id").first()
    if last_bo is not None and on >= rules.heavy_salaer_earliest(last_bo.deadline):
        booked = to_ore(
            LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.SALAER).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        heavy_added = max(_salaer(case, on, heavy=True) - booked, ZERO)
        _book(
            case,
            kind=LedgerEntry.Kind.SALAER,
            amount=heavy_added,
            on=on,
            description=_("Tungt salær (tillegg til lett salær)"),
        )
    deadline = rules.deadline(on, rules.rettslig_varsel_days(on))
    _set_next(
        case,
        action=NextAction.REQUEST_LEGAL_APPROVAL,
        on=after_grace(deadline),
        stage=Stage.VARSEL_RETTSLIG,
    )
    _letter(
        case,
        kind=Letter.Kind.VARSEL_RETTSLIG,
        step=STEP_VARSEL_RETTSLIG,
        on=on,
        deadline=deadline,
        fee=heavy_added,
        interest=interest,
        message=varsel_rettslig_message(deadline, heavy_added),
    )
    return STEP_VARSEL_RETTSLIG


def _request_legal_approval(case: CollectionCase, on: date) -> str:
    case = case_services.case_request_legal_approval(case=case, actor=None)
    last_bo = case.letters.filter(kind__in=BO_KINDS).order_by("-sent_on", "-id").first()
    if last_bo is not None:
        new_bo_on = max(rules.new_bo_due(last_bo.sent_on), on + timedelta(days=1))
        _set_next(case, action=NextAction.AWAIT_APPROVAL, on=new_bo_on)
    return OUTCOME_LEGAL_APPROVAL_REQUESTED


def _new_betalingsoppfordring(case: CollectionCase, on: date) -> str:
    number = case.letters.filter(kind__in=BO_KINDS).count() + 1
    interest = _accrue_interest(case, on)
    deadline = rules.deadline(on, rules.bo_deadline_days(on))
    _set_next(case, action=NextAction.AWAIT_APPROVAL, on=rules.new_bo_due(on))
    _letter(
        case,
        kind=Letter.Kind.NEW_BETALINGSOPPFORDRING,
        step=f"{STEP_BETALINGSOPPFORDRING}_{number}",
        on=on,
        deadline=deadline,
        fee=ZERO,
        interest=interest,
        message=new_bo_message(deadline, on),
    )
    return OUTCOME_NEW_BO

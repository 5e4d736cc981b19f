"""The dunning run's vocabulary, shared by the run (:mod:`collections_cases.dunning.services`)
and its batches (:mod:`collections_cases.dunning.batch`): steps and outcomes, what is due, the
result, the guarded step of one case, and the pure helpers (messages, fees, event data).

Imports neither of them, so the run imports the batch and the batch imports this module, with
no circle between them.
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
from collections_cases.models import CollectionCase, LedgerEntry, Letter
from kravia_web.crashpoints import crash_point
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


def lock_if(case_id: int, condition: Q) -> CollectionCase | None:
    """The case row locked (inside ``atomic()``) if it still matches ``condition``; ``None``
    when it no longer does or another run holds it (PostgreSQL skips locked rows)."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    return (
        CollectionCase.objects.select_for_update(skip_locked=skip_locked)
        .filter(condition, pk=case_id)
        .first()
    )


def id_batches(queryset: QuerySet, batch_size: int) -> Iterator[list[int]]:
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


def dunning_resume_due(result: DunningResult, *, on: date, batch_size: int) -> None:
    """Step 1 of the run: resume the paused cases whose date came (one transaction each)."""
    for batch in id_batches(CollectionCase.objects.filter(resume_q(on)), batch_size):
        for case_id in batch:
            guarded(result, case_id, lambda case_id=case_id: resume_one(case_id, on))


def guarded(result: DunningResult, case_id: int, call) -> None:
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


def resume_one(case_id: int, on: date) -> str | None:
    case = lock_if(case_id, resume_q(on))
    if case is None:
        return None
    case_services.case_resume(case=case, actor=None)
    return OUTCOME_RESUMED


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

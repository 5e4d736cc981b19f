"""The «Oppgave over restbeløp»: after a payment that leaves only costs and interest, or a
small principal, the debtor first gets a plain statement of what the payment covered and what
is left, before any new cost (reference § 4b).

:func:`remainder_statement_send` records the letter (kind ``remainder_statement``, step
``remainder_<payment id>`` — the unique (case, step) constraint makes a second call for the
same payment return the first letter), its delivery (the ``post_save`` receiver of every
letter, :func:`~collections_cases.letters.services.delivery_create_for_letter`) and a
``letter`` case event. The letter costs nothing (fee 0, no ledger entry). Its deadline is the
longer of the inkassovarsel's and the betalingsoppfordring's deadline days from ``on``
(:func:`collections_cases.rules.deadline`); the case's next dunning step waits until the
grace days after it (:func:`~collections_cases.dunning.services.after_grace`), never earlier
than it was already due. When to send one is the caller's decision (the payment allocation).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.cases import changes
from collections_cases.cases.selectors import case_amounts
from collections_cases.dunning import services as dunning
from collections_cases.ledger.interest import invoice_due_date
from collections_cases.models import CaseEvent, CollectionCase, Letter, Payment
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

STEP_PREFIX = "remainder_"


def remainder_step(payment: Payment) -> str:
    """The letter step of the statement after ``payment`` (one per payment and case)."""
    return f"{STEP_PREFIX}{payment.pk}"


def remainder_deadline(on: date) -> date:
    """The statement's deadline: as long as the longer of the IV and BO deadlines."""
    return rules.deadline(on, max(rules.iv_deadline_days(on), rules.bo_deadline_days(on)))


def remainder_amounts(case: CollectionCase, *, payment: Payment, on: date) -> dict:
    """The letter's amounts, as the dunning run records them, with the payment it follows.
    On a day past the interest-rate table the letter names no current rate (never guessed)
    rather than failing the payment's allocation."""
    earliest_due = min((invoice_due_date(invoice) for invoice in case.invoices.all()), default=on)
    totals = case_amounts(case)
    try:
        amounts = dunning.amounts_payload(totals, on=on, earliest_due=earliest_due)
    except rules.RuleUnknown:
        known = rules.late_interest_rate_known_until()
        amounts = dunning.amounts_payload(totals, on=known, earliest_due=earliest_due)
        del amounts["interest_rate"]
    amounts["payment_id"] = payment.pk
    return amounts


def _later(current: date | None, earliest: date) -> date | None:
    """``current`` moved to at least ``earliest``; ``None`` stays ``None`` (no step waits)."""
    if current is None:
        return None
    return max(current, earliest)


def remainder_statement_send(*, case: CollectionCase, payment: Payment, on: date) -> Letter | None:
    """Record the «Oppgave over restbeløp» after ``payment`` on ``case`` (locked by the
    caller, inside its transaction), dated ``on``; the letter already recorded for this
    payment when there is one. ``None`` for an unverified creditor's case."""
    step = remainder_step(payment)
    existing = Letter.objects.filter(case=case, step=step).first()
    if existing is not None:
        return existing
    if not case.creditor.is_verified:
        # Issue 15: no letter to a debtor of an unverified creditor. Not recorded and held
        # either: it would go out after verification with its deadline long past. The
        # dunning run, which waits for verification too, takes the case on from there.
        return None
    if not case.is_open:
        raise ApplicationError(_("Saken er avsluttet; det sendes ingen oppgave over restbeløp."))

    deadline = remainder_deadline(on)
    amounts = remainder_amounts(case, payment=payment, on=on)
    letter = Letter.objects.create(
        case=case,
        kind=Letter.Kind.REMAINDER_STATEMENT,
        step=step,
        sent_on=on,
        deadline=deadline,
        fee=0,
        amounts=amounts,
    )

    # The next dunning step waits for the statement's deadline and the grace days after it.
    earliest = dunning.after_grace(deadline)
    case.next_action_date = _later(case.next_action_date, earliest)
    case.held_next_action_date = _later(case.held_next_action_date, earliest)
    case.save(update_fields=["next_action_date", "held_next_action_date", "updated_at"])

    message = _(
        "Oppgave over restbeløp registrert etter innbetaling %(amount)s: restbeløp %(rest)s "
        "med frist %(deadline)s, uten gebyr."
    ) % {
        "amount": format_nok(payment.amount),
        "rest": format_nok(amounts["total"]),
        "deadline": deadline.strftime("%d.%m.%Y"),
    }
    if case.next_action and case.next_action_date:
        message = "{} {}".format(
            message,
            _("Neste steg tidligst %(date)s: %(action)s.")
            % {
                "date": case.next_action_date.strftime("%d.%m.%Y"),
                "action": dunning.next_action_label(case.next_action).lower(),
            },
        )
    changes.record_event(
        case,
        kind=CaseEvent.Kind.LETTER,
        actor=None,
        message=message,
        data={
            "letter_id": letter.pk,
            "kind": letter.kind,
            "step": step,
            "payment_id": payment.pk,
            "sent_on": on.isoformat(),
            "deadline": deadline.isoformat(),
            "fee": "0.00",
            "amounts": amounts,
            "next_action": case.next_action,
            "next_action_date": case.next_action_date.isoformat()
            if case.next_action_date
            else None,
        },
    )
    return letter

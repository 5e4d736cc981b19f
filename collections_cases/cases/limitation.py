"""Limitation (foreldelse), acted on (reference § 5; docs/cases.md, *Limitation*).

A claim is time-barred 3 years after its due date, or after the last interruption: the
debtor's acknowledgement or part-payment, a forliksklage, a lawsuit or a request for utlegg.
Reminders, inkassovarsel and betalingsoppfordring do **not** interrupt.

This project's conventions
    * A case's limitation date is counted from the earliest due date of its invoices (the
      first claim to expire decides) and from the case's last recorded interruption
      (``CollectionCase.limitation_interrupted_on``); an interruption is recorded for the
      whole case (a payment goes to the case's KID, not to one invoice).
    * A claim counts as time-barred **on** its limitation date (``limitation_date <= on``):
      on the last day nothing we could send would take effect in time.
    * A time-barred claim gets no letter and no cost: it is refused at registration (the API
      and Kundeweb, where someone can answer) or, from the PowerOffice Go sync, registered and
      held for a case handler at once (:func:`case_hold_time_barred`). A case whose date
      passes is held the same way: by the dunning run before a step, and by the daily
      :func:`limitation_hold_due` for every other open case.
    * A held case cannot be resumed while its limitation date is today or earlier; a case
      handler either records an interruption (then the date moves 3 years after it) or
      closes the case as *foreldet* (``CloseReason.TIME_BARRED``).
    * Cases whose limitation date is within :data:`WARNING_DAYS` days are flagged on Oversikt
      and in the admin (:func:`limitation_warning_cases`).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_cases import rules
from collections_cases.cases.changes import case_lock, move_case, record_event
from collections_cases.models import CaseEvent, CollectionCase
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

Status = CollectionCase.Status
EventKind = CaseEvent.Kind

#: Cases whose limitation date is within this many days are flagged (Oversikt, admin).
WARNING_DAYS = 60

#: What may interrupt the limitation period (reference § 5), by code → label.
INTERRUPTION_REASONS = {
    "part_payment": gettext_lazy("delbetaling"),
    "acknowledgement": gettext_lazy("skyldners erkjennelse"),
    "forliksklage": gettext_lazy("forliksklage"),
    "lawsuit": gettext_lazy("søksmål"),
    "utlegg": gettext_lazy("begjæring om utlegg"),
}

#: How a time-barred hold's pause reason begins (how such a hold is recognised).
TIME_BARRED_REASON_PREFIX = "Kravet er foreldet"

#: The statuses a time-barred case is paused from (a disputed case is stopped already).
HOLDABLE_STATUSES = (Status.AWAITING_APPROVAL, Status.ACTIVE, Status.LEGAL, Status.MONITORING)


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def claim_limitation_date(*, due_date: date, interrupted_on: date | None = None) -> date:
    """The limitation date of a claim due ``due_date``: 3 years from the due date, or from the
    interruption when that is later (an interruption before the due date changes nothing)."""
    if interrupted_on is not None and interrupted_on < due_date:
        interrupted_on = None
    return rules.limitation_date(due_date, interrupted_on)


def claim_is_time_barred(*, due_date: date, on: date, interrupted_on: date | None = None) -> bool:
    """Whether a claim due ``due_date`` is time-barred on ``on`` (its limitation date is
    ``on`` or earlier)."""
    return claim_limitation_date(due_date=due_date, interrupted_on=interrupted_on) <= on


def case_is_time_barred(case: CollectionCase, *, on: date) -> bool:
    """Whether the case's stored limitation date is ``on`` or earlier."""
    return case.limitation_date is not None and case.limitation_date <= on


def interruption_label(reason: str) -> str:
    """The Norwegian label of an interruption code; other text is shown as it is."""
    label = INTERRUPTION_REASONS.get(reason)
    return str(label) if label is not None else reason


def time_barred_reason(limitation_date: date) -> str:
    """The pause reason of a case held as time-barred (shown to the creditor and in admin).
    Stored data in Norwegian, not translated (like payment plans' ``PAUSE_REASON``): it
    begins with :data:`TIME_BARRED_REASON_PREFIX` whoever's request caused the hold."""
    return (
        f"{TIME_BARRED_REASON_PREFIX}: foreldelsesdatoen {_d(limitation_date)} er nådd, og "
        "ingen avbrudd er registrert. Det sendes ingen brev og legges ikke til kostnader. En "
        "saksbehandler avslutter saken som foreldet, eller registrerer et avbrudd (erkjennelse, "
        "delbetaling, forliksklage eller begjæring om utlegg) før saken kan gjenopptas."
    )


def time_barred_message(invoice_no, due_date: date) -> str:
    """Why a time-barred invoice is refused at registration (the API, Kundeweb)."""
    return _(
        "Faktura %(number)s er foreldet (forfall %(due)s, foreldelsesdato %(date)s) og kan "
        "ikke sendes til inkasso. Har skyldner erkjent kravet, betalt noe på det eller fått "
        "forliksklage eller begjæring om utlegg etter forfall, kontakt oss."
    ) % {
        "number": invoice_no,
        "due": _d(due_date),
        "date": _d(claim_limitation_date(due_date=due_date)),
    }


def case_is_held_time_barred(case: CollectionCase) -> bool:
    """Whether the case is paused as time-barred (:func:`case_hold_time_barred`)."""
    return case.status == Status.PAUSED and case.pause_reason.startswith(TIME_BARRED_REASON_PREFIX)


def _earliest_due(case: CollectionCase) -> date | None:
    return case.invoices.aggregate(first=Min(Coalesce("due_date", "invoice_date")))["first"]


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def case_limitation_interrupt(
    *, case: CollectionCase, on: date, reason: str, actor=None
) -> CollectionCase:
    """Record an interruption of the limitation period on ``on`` (a part-payment, the
    debtor's acknowledgement, a forliksklage, a lawsuit, a request for utlegg; ``reason`` is
    a code of :data:`INTERRUPTION_REASONS` or a text): ``limitation_interrupted_on`` becomes
    the later of the stored one and ``on``, and ``limitation_date`` 3 years after it (from
    the earliest due date of the case's invoices); one ``limitation`` event.

    The caller holds the case lock inside a transaction (:func:`case_lock`), and ``case`` is
    updated in place. A closed case, or an interruption before the claim fell due, changes
    nothing (the limitation runs from the due date anyway). A date in the future is refused.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("an interruption needs a reason")
    today = timezone.localdate()
    if on > today:
        raise ValueError(f"an interruption cannot be in the future ({on.isoformat()})")
    if case.status == Status.CLOSED:
        return case
    due = _earliest_due(case)
    if due is not None and on < due:
        return case
    old_interrupted, old_date = case.limitation_interrupted_on, case.limitation_date
    interrupted = max(old_interrupted, on) if old_interrupted else on
    new_date = (
        claim_limitation_date(due_date=due, interrupted_on=interrupted)
        if due is not None
        else rules.limitation_date(interrupted)
    )
    case.limitation_interrupted_on = interrupted
    case.limitation_date = new_date
    case.save(update_fields=["limitation_interrupted_on", "limitation_date", "updated_at"])
    label = interruption_label(reason)
    if old_date is not None and old_date <= on:
        message = _(
            "Avbrudd av foreldelsen registrert %(on)s (%(reason)s), etter at "
            "foreldelsesdatoen %(old)s var nådd. Ny foreldelsesdato: %(new)s."
        ) % {"on": _d(on), "reason": label, "old": _d(old_date), "new": _d(new_date)}
    else:
        message = _(
            "Avbrudd av foreldelsen registrert %(on)s (%(reason)s). Foreldelsesdato: %(new)s."
        ) % {"on": _d(on), "reason": label, "new": _d(new_date)}
    record_event(
        case,
        kind=EventKind.LIMITATION,
        actor=actor,
        message=message,
        data={
            "interruption": reason,
            "interrupted_on": on.isoformat(),
            "limitation_date_before": old_date.isoformat() if old_date else None,
            "limitation_date": new_date.isoformat(),
            "after_limitation": old_date is not None and old_date <= on,
        },
    )
    return case


def case_record_limitation_interruption(
    *, case: CollectionCase, on: date, reason: str, actor=None
) -> CollectionCase:
    """A case handler records an interruption (the admin's action): :func:`case_limitation_interrupt`
    in its own transaction with the case locked — refused, with a message, for a closed case,
    a date in the future or a date before the claim fell due."""
    if on > timezone.localdate():
        raise ApplicationError(_("Datoen for avbruddet kan ikke være frem i tid."))
    with transaction.atomic():
        locked = case_lock(case_id=case.pk)
        if locked.status == Status.CLOSED:
            raise ApplicationError(_("Sak %(number)s er avsluttet.") % {"number": locked.number})
        due = _earliest_due(locked)
        if due is not None and on < due:
            raise ApplicationError(
                _(
                    "Sak %(number)s: avbruddet %(on)s er før forfall %(due)s og avbryter ikke "
                    "foreldelsen."
                )
                % {"number": locked.number, "on": _d(on), "due": _d(due)}
            )
        return case_limitation_interrupt(case=locked, on=on, reason=reason, actor=actor)


def case_hold_time_barred(*, case: CollectionCase, on: date, actor=None) -> CollectionCase:
    """The case is time-barred on ``on``: pause it with no resume date and the reason
    (:func:`time_barred_reason`) — no letter, cost or legal request until a case handler
    acts — and record one ``limitation`` event. A paused case keeps what its pause held and
    gets the time-barred reason (a resume date is dropped); a disputed or closed case, or
    one already held as time-barred, is left as it is.

    The caller holds the case lock inside a transaction; ``case`` is updated in place."""
    limitation = case.limitation_date or on
    reason = time_barred_reason(limitation)
    data = {"limitation_date": limitation.isoformat(), "on": on.isoformat()}
    if case.status in HOLDABLE_STATUSES:
        return move_case(
            case,
            action="pause",
            actor=actor,
            kind=EventKind.LIMITATION,
            message=reason,
            data=data,
            held_status=case.status,
            held_next_action=case.next_action,
            held_next_action_date=case.next_action_date,
            pause_reason=reason,
            paused_until=None,
            next_action="",
            next_action_date=None,
        )
    if case.status == Status.PAUSED and not case_is_held_time_barred(case):
        case.pause_reason = reason
        case.paused_until = None
        case.next_action = ""
        case.next_action_date = None
        case.save(
            update_fields=[
                "pause_reason",
                "paused_until",
                "next_action",
                "next_action_date",
                "updated_at",
            ]
        )
        record_event(case, kind=EventKind.LIMITATION, actor=actor, message=reason, data=data)
    return case


def limitation_hold_due(*, on: date, actor=None) -> int:
    """Hold every open case whose limitation date is ``on`` or earlier and that is not held
    as time-barred yet — the daily check, run by the beat's dunning task just before the
    dunning run (which holds the cases due for a step itself); ``manage.py limitation_check``
    by hand. Each case in its own short transaction; one failing case is logged and the
    others go on. Returns how many were held."""
    held = 0
    ids = list(cases_to_hold(on=on).order_by("limitation_date", "pk").values_list("pk", flat=True))
    for case_id in ids:
        try:
            with transaction.atomic():
                case = case_lock(case_id=case_id)
                if not case_is_time_barred(case, on=on):
                    continue  # an interruption was recorded meanwhile
                before = (case.status, case.pause_reason)
                case_hold_time_barred(case=case, on=on, actor=actor)
                held += (case.status, case.pause_reason) != before
        except Exception:  # one bad case must not stop the check (nor the dunning run after)
            logger.exception("Limitation check: case %s failed", case_id)
    return held


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------


def cases_to_hold(*, on: date) -> QuerySet[CollectionCase]:
    """Open cases time-barred on ``on`` that still may take a step or are paused for another
    reason (a disputed case takes no step; a closed one is done)."""
    return (
        CollectionCase.objects.filter(limitation_date__lte=on)
        .filter(Q(status__in=HOLDABLE_STATUSES) | Q(status=Status.PAUSED))
        .exclude(status=Status.PAUSED, pause_reason__startswith=TIME_BARRED_REASON_PREFIX)
    )


def limitation_warning_cases(
    *, on: date, creditors=None, within_days: int = WARNING_DAYS
) -> QuerySet[CollectionCase]:
    """Open cases whose limitation date is after ``on`` and at most ``within_days`` days
    later, soonest first. ``creditors``: limit to these (Oversikt passes the user's active
    creditor); ``None``: all (the admin)."""
    cases = CollectionCase.objects.exclude(status=Status.CLOSED).filter(
        limitation_date__gt=on, limitation_date__lte=on + timedelta(days=within_days)
    )
    if creditors is not None:
        cases = cases.filter(creditor__in=creditors)
    return cases.order_by("limitation_date", "pk")


def limitation_passed_cases(*, on: date, creditors=None) -> QuerySet[CollectionCase]:
    """Open cases time-barred on ``on`` (held, or about to be held by the daily check)."""
    cases = CollectionCase.objects.exclude(status=Status.CLOSED).filter(limitation_date__lte=on)
    if creditors is not None:
        cases = cases.filter(creditor__in=creditors)
    return cases.order_by("limitation_date", "pk")

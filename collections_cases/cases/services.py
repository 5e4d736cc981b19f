"""Case lifecycle: every change of a case goes through one of these functions.

Each runs in ``transaction.atomic()``, locks the case row (:func:`case_lock`), checks the move
against :data:`collections_cases.cases.states.TRANSITIONS`, saves only the fields it changed, writes
exactly one :class:`CaseEvent`, and sends :data:`collections_cases.signals.case_changed` after
the transaction commits (the PowerOffice Go status push listens there).

``actor`` is the user who acted, a label for a system actor (``"PowerOffice Go"``), or
``None`` for the system itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_cases.cases.changes import (
    STAGE_ACTION,
    amount_text,
    case_lock,
    case_may_add_costs,
    ensure_open,
    iso_or_none,
    move_case,
    positive_amount,
    record_event,
    required_text,
)
from collections_cases.cases.registration import (  # noqa: F401  (re-exported)
    case_add_invoices,
    case_create,
    case_take_out_invoices,
)
from collections_cases.cases.selectors import case_balance, case_principal_outstanding
from collections_cases.cases.states import target_status
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    Letter,
)
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
CloseReason = CollectionCase.CloseReason
ApprovalKind = CollectionCase.ApprovalKind
EventKind = CaseEvent.Kind

# --------------------------------------------------------------------------------------------
# Start
# --------------------------------------------------------------------------------------------


def case_approve(*, case: CollectionCase, actor) -> CollectionCase:
    """The creditor approves what the case waits for: its start (the case begins at its
    stage, due today) or its betalingsoppfordring (the case is active again with the BO due
    today, Europe/Oslo, so the next dunning run sends it). Legal steps have their own
    approval (:func:`case_approve_legal`)."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        waiting = case.status == Status.AWAITING_APPROVAL
        if waiting and case.approval_kind == ApprovalKind.LEGAL:
            raise ApplicationError(
                _("Sak %(number)s venter på godkjenning av rettslige tiltak, ikke av oppstart.")
                % {"number": case.number}
            )
        if waiting and case.approval_kind == ApprovalKind.PAYMENT_DEMAND:
            return move_case(
                case,
                action="approve",
                actor=actor,
                kind=EventKind.APPROVED,
                message=_("Betalingsoppfordringen er godkjent og sendes ved neste kjøring."),
                data={"approval_kind": ApprovalKind.PAYMENT_DEMAND.value},
                approval_kind="",
                next_action=NextAction.SEND_BETALINGSOPPFORDRING,
                next_action_date=timezone.localdate(),
            )
        return move_case(
            case,
            action="approve",
            actor=actor,
            kind=EventKind.APPROVED,
            message=_("Saken er godkjent og startet med %(stage)s.")
            % {"stage": case.get_stage_display().lower()},
            data={"approval_kind": ApprovalKind.START.value},
            approval_kind="",
            next_action=STAGE_ACTION[case.stage],
            next_action_date=timezone.localdate(),
        )


def payment_demand_approval_move(case: CollectionCase, *, had_payment_demand: bool) -> dict:
    """The move of :func:`case_request_payment_demand_approval` (``case`` locked), checked:
    :func:`~collections_cases.cases.changes.move_case`'s arguments but the actor.
    ``had_payment_demand``: the case has a betalingsoppfordring letter already (a batch reads
    it for all its cases at once)."""
    if case.status == Status.ACTIVE and (
        had_payment_demand or case.stage not in (Stage.INKASSOVARSEL, Stage.BETALINGSOPPFORDRING)
    ):
        raise ApplicationError(
            _(
                "Sak %(number)s har allerede fått betalingsoppfordring (steg «%(stage)s»); "
                "bare den første betalingsoppfordringen venter på kreditors godkjenning."
            )
            % {"number": case.number, "stage": case.get_stage_display()}
        )
    return {
        "action": "request_payment_demand_approval",
        "kind": EventKind.DEMAND_APPROVAL_REQUESTED,
        "message": _("Betalingsoppfordringen venter på kreditors godkjenning."),
        "data": {"next_action_date": iso_or_none(case.next_action_date)},
        "approval_kind": ApprovalKind.PAYMENT_DEMAND,
        "next_action": NextAction.AWAIT_APPROVAL,
        "next_action_date": None,
    }


def case_request_payment_demand_approval(*, case: CollectionCase, actor=None) -> CollectionCase:
    """Before the betalingsoppfordring, when the creditor wants to approve every payment
    demand: the case waits (*venter godkjenning*, approval kind payment demand) until
    :func:`case_approve`; no letter, no salær until then."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        had = (
            case.status == Status.ACTIVE
            and case.stage in (Stage.INKASSOVARSEL, Stage.BETALINGSOPPFORDRING)
            and case.letters.filter(kind=Letter.Kind.BETALINGSOPPFORDRING).exists()
        )
        move = payment_demand_approval_move(case, had_payment_demand=had)
        return move_case(case, actor=actor, **move)


# --------------------------------------------------------------------------------------------
# Legal steps
# --------------------------------------------------------------------------------------------


def legal_approval_move(case: CollectionCase) -> dict:
    """The move of :func:`case_request_legal_approval` (``case`` locked), checked:
    :func:`~collections_cases.cases.changes.move_case`'s arguments but the actor."""
    if case.status == Status.ACTIVE and case.stage != Stage.VARSEL_RETTSLIG:
        raise ApplicationError(
            _(
                "Sak %(number)s må ha fått varsel om rettslig inndriving før kreditor kan "
                "godkjenne rettslige tiltak."
            )
            % {"number": case.number}
        )
    return {
        "action": "request_legal_approval",
        "kind": EventKind.LEGAL_APPROVAL_REQUESTED,
        "message": _("Kreditor er bedt om å godkjenne rettslige tiltak."),
        "data": None,
        "approval_kind": CollectionCase.ApprovalKind.LEGAL,
        "next_action": NextAction.AWAIT_APPROVAL,
        "next_action_date": None,
    }


def case_request_legal_approval(*, case: CollectionCase, actor=None) -> CollectionCase:
    """After the varsel om rettslig inndriving: ask the creditor before any legal step."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        return move_case(case, actor=actor, **legal_approval_move(case))


def case_approve_legal(*, case: CollectionCase, actor) -> CollectionCase:
    """The creditor approves legal steps (forliksråd or utlegg)."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if case.status == Status.AWAITING_APPROVAL and case.approval_kind != ApprovalKind.LEGAL:
            waits_for = (
                _("betalingsoppfordringen")
                if case.approval_kind == ApprovalKind.PAYMENT_DEMAND
                else _("oppstart")
            )
            raise ApplicationError(
                _("Sak %(number)s venter på godkjenning av %(what)s, ikke av rettslige tiltak.")
                % {"number": case.number, "what": waits_for}
            )
        return move_case(
            case,
            action="approve_legal",
            actor=actor,
            kind=EventKind.LEGAL_APPROVED,
            message=_("Rettslige tiltak er godkjent."),
            approval_kind="",
            legal_approved_at=timezone.now(),
            next_action=NextAction.START_LEGAL,
            next_action_date=timezone.localdate(),
        )


#: Legal steps the agency starts once the creditor approved them (reference § 1, § 5): each
#: interrupts the limitation period.
LEGAL_STEPS = {
    "forliksklage": gettext_lazy("forliksklage sendt forliksrådet"),
    "utlegg": gettext_lazy("begjæring om utlegg sendt namsmannen"),
    "lawsuit": gettext_lazy("søksmål reist for tingretten"),
}


def case_record_legal_step(
    *, case: CollectionCase, actor, step: str, on: date, reference: str = ""
) -> CollectionCase:
    """The agency started the legal step the creditor approved (a forliksklage, a request for
    utlegg, a lawsuit) on ``on``: one event, the limitation period interrupted from ``on``
    (``services.limitation``), and no next step scheduled — the forliksråd, the namsmann or
    the court answers next — so the case leaves the case handlers' queue of approved legal
    steps not yet started."""
    from collections_cases.cases.limitation import case_limitation_interrupt

    if step not in LEGAL_STEPS:
        raise ApplicationError(_("Ukjent rettslig tiltak."))
    if on > timezone.localdate():
        raise ApplicationError(_("Datoen kan ikke være frem i tid."))
    reference = (reference or "").strip()[:200]
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if case.status != Status.LEGAL or case.next_action != NextAction.START_LEGAL:
            raise ApplicationError(
                _("Sak %(number)s venter ikke på at rettslige tiltak startes.")
                % {"number": case.number}
            )
        case_limitation_interrupt(case=case, on=on, reason=step, actor=actor)
        case.next_action = ""
        case.next_action_date = None
        case.save(update_fields=["next_action", "next_action_date", "updated_at"])
        message = _("Rettslig tiltak startet %(date)s: %(step)s.") % {
            "date": on.strftime("%d.%m.%Y"),
            "step": str(LEGAL_STEPS[step]),
        }
        if reference:
            message = "{} {}".format(message, _("Referanse: %(ref)s.") % {"ref": reference})
        record_event(
            case,
            kind=EventKind.DUNNING_STEP,
            actor=actor,
            message=message,
            data={"legal_step": step, "on": on.isoformat(), "reference": reference},
        )
        return case


def case_to_monitoring(
    *, case: CollectionCase, actor, reason: str, review_on: date | None = None
) -> CollectionCase:
    """Stop active steps and watch the debtor (e.g. no ability to pay now)."""
    reason = required_text(reason, _("en årsak"))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        return move_case(
            case,
            action="to_monitoring",
            actor=actor,
            kind=EventKind.MONITORING,
            message=_("Saken er satt til overvåkning: %(reason)s") % {"reason": reason},
            data={"reason": reason, "review_on": review_on.isoformat() if review_on else None},
            next_action=NextAction.MONITOR,
            next_action_date=review_on,
        )


# --------------------------------------------------------------------------------------------
# Pause and dispute
# --------------------------------------------------------------------------------------------


def case_pause(
    *, case: CollectionCase, actor, reason: str, until: date | None = None
) -> CollectionCase:
    """Put the case on hold, optionally until a date (then it resumes on that date)."""
    reason = required_text(reason, _("en årsak"))
    if until is not None and until <= timezone.localdate():
        raise ApplicationError(_("Datoen saken skal gjenopptas må være frem i tid."))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if until:
            message = _("Saken er satt på vent til %(until)s: %(reason)s") % {
                "until": until.strftime("%d.%m.%Y"),
                "reason": reason,
            }
        else:
            message = _("Saken er satt på vent: %(reason)s") % {"reason": reason}
        return move_case(
            case,
            action="pause",
            actor=actor,
            kind=EventKind.PAUSED,
            message=message,
            data={"reason": reason, "until": until.isoformat() if until else None},
            held_status=case.status,
            held_next_action=case.next_action,
            held_next_action_date=case.next_action_date,
            pause_reason=reason,
            paused_until=until,
            next_action=NextAction.RESUME if until else "",
            next_action_date=until,
        )


def _release_hold(case: CollectionCase) -> dict:
    """Field changes that give a paused or disputed case back its held next action; a date
    that passed while on hold becomes today (the step is caught up, never skipped)."""
    held_date = case.held_next_action_date
    if held_date is not None:
        held_date = max(held_date, timezone.localdate())
    return {
        "next_action": case.held_next_action,
        "next_action_date": held_date,
        "held_status": "",
        "held_next_action": "",
        "held_next_action_date": None,
        "pause_reason": "",
        "paused_until": None,
    }


def case_resume(*, case: CollectionCase, actor) -> CollectionCase:
    """Take a paused case back to where it was — not once its limitation date is reached
    (today or earlier): a case handler records an interruption of the limitation first
    (``services.limitation``) or closes the case as time-barred. A scheduled resume (the
    system, ``actor`` None) of such a case holds it as time-barred instead."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        today = timezone.localdate()
        if (
            case.status == Status.PAUSED
            and case.limitation_date is not None
            and case.limitation_date <= today
        ):
            if actor is None:
                from collections_cases.cases.limitation import case_hold_time_barred

                return case_hold_time_barred(case=case, on=today)
            raise ApplicationError(
                _(
                    "Sak %(number)s kan ikke gjenopptas: kravet er foreldet (foreldelsesdato "
                    "%(date)s). Registrer et avbrudd av foreldelsen (erkjennelse, delbetaling, "
                    "forliksklage eller begjæring om utlegg), eller avslutt saken som foreldet."
                )
                % {"number": case.number, "date": case.limitation_date.strftime("%d.%m.%Y")},
                extra={"limitation_date": case.limitation_date.isoformat()},
            )
        return move_case(
            case,
            action="resume",
            actor=actor,
            kind=EventKind.RESUMED,
            message=_("Saken er gjenopptatt."),
            **_release_hold(case),
        )


def case_mark_disputed(*, case: CollectionCase, actor, reason: str) -> CollectionCase:
    """The debtor objected: no further steps or costs until the objection is resolved."""
    reason = required_text(reason, _("innsigelsen"))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if case.status == Status.PAUSED:
            # Keep what the pause held: resolving the dispute returns to the pre-pause status.
            hold = {}
        else:
            hold = {
                "held_status": case.status,
                "held_next_action": case.next_action,
                "held_next_action_date": case.next_action_date,
            }
        return move_case(
            case,
            action="mark_disputed",
            actor=actor,
            kind=EventKind.DISPUTED,
            message=_("Skyldner har innsigelser: %(reason)s") % {"reason": reason},
            data={"reason": reason},
            dispute_reason=reason,
            pause_reason="",
            paused_until=None,
            next_action="",
            next_action_date=None,
            **hold,
        )


def case_resolve_dispute(*, case: CollectionCase, actor, note: str = "") -> CollectionCase:
    """The objection is settled in the creditor's favour: the case continues where it was.
    (When the debtor was right, close the case instead: credited or withdrawn.)"""
    note = (note or "").strip()
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        message = _("Innsigelsen er avklart, saken fortsetter.")
        if note:
            message = f"{message} {note}"
        return move_case(
            case,
            action="resolve_dispute",
            actor=actor,
            kind=EventKind.DISPUTE_RESOLVED,
            message=message,
            data={"note": note} if note else None,
            dispute_reason="",
            **_release_hold(case),
        )


# --------------------------------------------------------------------------------------------
# Closing
# --------------------------------------------------------------------------------------------


def _close_changes(reason: str, note: str) -> dict:
    return {
        "close_reason": reason,
        "close_note": note,
        "closed_at": timezone.now(),
        "approval_kind": "",
        "held_status": "",
        "held_next_action": "",
        "held_next_action_date": None,
        "paused_until": None,
        "next_action": "",
        "next_action_date": None,
    }


def case_close(*, case: CollectionCase, actor, reason: str, note: str = "") -> CollectionCase:
    """Close the case for ``reason`` (a :class:`CollectionCase.CloseReason`). *Paid* only
    when nothing is left to collect: a balance of 0 or less."""
    if reason not in CloseReason.values:
        raise ApplicationError(_("Ukjent avslutningsårsak: %(reason)s") % {"reason": reason})
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        target_status(case, "close")  # an illegal move is refused as such, before the balance
        move = close_move(case, reason=reason, note=note, balance=case_balance(case))
        return move_case(case, actor=actor, **move)


def close_move(case: CollectionCase, *, reason: str, note: str, balance: Decimal) -> dict:
    """The move of :func:`case_close` (``case`` locked, ``balance`` its ledger's sum),
    checked: :func:`~collections_cases.cases.changes.move_case`'s arguments but the actor."""
    if reason not in CloseReason.values:
        raise ApplicationError(_("Ukjent avslutningsårsak: %(reason)s") % {"reason": reason})
    note = (note or "").strip()
    target_status(case, "close")  # an illegal move is refused as such, before the balance
    if reason == CloseReason.PAID and balance > 0:
        raise ApplicationError(
            _(
                "Sak %(number)s kan ikke avsluttes som betalt: saldoen er "
                "%(balance)s. Registrer betalingen eller velg en annen årsak."
            )
            % {"number": case.number, "balance": format_nok(balance)},
            extra={"balance": str(balance)},
        )
    label = CloseReason(reason).label
    message = _("Saken er avsluttet: %(reason)s.") % {"reason": label}
    if note:
        message = f"{message} {note}"
    return {
        "action": "close",
        "kind": EventKind.CLOSED,
        "message": message,
        "data": {"close_reason": reason, "balance": amount_text(balance)},
        **_close_changes(reason, note),
    }


def case_withdraw(*, case: CollectionCase, actor, reason: str) -> CollectionCase:
    """The creditor withdraws the case."""
    reason = required_text(reason, _("en årsak"))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        return move_case(
            case,
            action="withdraw",
            actor=actor,
            kind=EventKind.CLOSED,
            message=_("Saken er trukket tilbake: %(reason)s") % {"reason": reason},
            data={
                "close_reason": CloseReason.WITHDRAWN.value,
                "reason": reason,
                "balance": amount_text(case_balance(case)),
            },
            **_close_changes(CloseReason.WITHDRAWN, reason),
        )


# --------------------------------------------------------------------------------------------
# Notes, payments, costs
# --------------------------------------------------------------------------------------------


#: Statuses a reopened case may go back to (the one it was closed from); others → active.
REOPEN_STATUSES = (Status.ACTIVE, Status.LEGAL, Status.MONITORING)


def case_reopen(*, case: CollectionCase, actor, reason: str) -> CollectionCase:
    """Reopen a case closed as paid whose payment is gone (the bank reversed it,
    ``payments.reversals``): back to the status it was closed from (active, legal or
    monitoring; else active), with the next step the dunning run had planned before it closed
    — due no earlier than today — so dunning continues where it stopped. Not part of the
    transition table: only the reversal of a payment may undo a close."""
    reason = required_text(reason, _("en årsak"))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if case.status != Status.CLOSED:
            raise ApplicationError(
                _("Sak %(number)s er ikke avsluttet og kan ikke gjenåpnes.")
                % {"number": case.number}
            )
        closed = case.events.filter(kind=EventKind.CLOSED).order_by("-at", "-id").first()
        status_to = (
            closed.status_from
            if closed is not None and closed.status_from in REOPEN_STATUSES
            else Status.ACTIVE
        )
        planned = case.events.filter(data__has_key="next_action").order_by("-at", "-id").first()
        today = timezone.localdate()
        next_action, next_date = STAGE_ACTION.get(case.stage, ""), today
        if planned is not None and planned.data.get("next_action"):
            next_action = planned.data["next_action"]
            planned_on = planned.data.get("next_action_date")
            if planned_on:
                next_date = max(date.fromisoformat(planned_on), today)
        if status_to == Status.MONITORING:
            next_action = NextAction.MONITOR
        status_from = case.status
        case.status = status_to
        case.close_reason = ""
        case.close_note = ""
        case.closed_at = None
        case.next_action = next_action
        case.next_action_date = next_date if next_action else None
        case.save(
            update_fields=[
                "status",
                "close_reason",
                "close_note",
                "closed_at",
                "next_action",
                "next_action_date",
                "updated_at",
            ]
        )
        record_event(
            case,
            kind=EventKind.REOPENED,
            actor=actor,
            message=_("Saken er gjenåpnet: %(reason)s.") % {"reason": reason},
            data={
                "reason": reason,
                "balance": amount_text(case_balance(case)),
                "next_action": case.next_action,
                "next_action_date": iso_or_none(case.next_action_date),
            },
            status_from=status_from,
            status_to=status_to,
        )
        return case


def case_add_note(*, case: CollectionCase, actor, text: str) -> CaseEvent:
    text = required_text(text, _("en tekst"))
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        return record_event(case, kind=EventKind.NOTE, actor=actor, message=text)


def case_register_direct_payment(
    *,
    case: CollectionCase,
    actor,
    amount,
    paid_on: date,
    reference: str = "",
) -> CollectionCase:
    """The debtor paid the creditor directly: the principal is reduced (never below zero);
    when nothing is left to collect the case closes as *paid directly*, otherwise the
    part-payment interrupts the limitation (3 new years from ``paid_on``)."""
    amount = positive_amount(amount)
    if paid_on > timezone.localdate():
        raise ApplicationError(_("Betalingsdatoen kan ikke være frem i tid."))
    reference = (reference or "").strip()
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        ensure_open(case)
        principal = case_principal_outstanding(case)
        if amount > principal:
            raise ApplicationError(
                _(
                    "Beløpet %(amount)s er større enn udekket hovedstol %(principal)s "
                    "i sak %(number)s."
                )
                % {
                    "amount": format_nok(amount),
                    "principal": format_nok(principal),
                    "number": case.number,
                }
            )
        LedgerEntry.objects.create(
            case=case,
            kind=LedgerEntry.Kind.DIRECT_PAYMENT,
            amount=-amount,
            booked_on=paid_on,
            description=reference[:200],
            created_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        balance = case_balance(case)
        message = _("Direkte betaling til kreditor registrert: %(amount)s.") % {
            "amount": format_nok(amount)
        }
        data = {
            "amount": str(amount),
            "paid_on": paid_on.isoformat(),
            "reference": reference,
            "balance": str(balance),
        }
        if balance <= 0:
            data["close_reason"] = CloseReason.PAID_DIRECTLY.value
            return move_case(
                case,
                action="close",
                actor=actor,
                kind=EventKind.DIRECT_PAYMENT,
                message=f"{message} {_('Saken er avsluttet som betalt direkte til kreditor.')}",
                data=data,
                **_close_changes(CloseReason.PAID_DIRECTLY, reference),
            )
        # A part-payment interrupts the limitation: 3 new years from the payment date (its
        # own event, before the payment's, which stays the case's latest).
        from collections_cases.cases.limitation import case_limitation_interrupt

        case_limitation_interrupt(case=case, on=paid_on, reason="part_payment", actor=actor)
        record_event(
            case,
            kind=EventKind.DIRECT_PAYMENT,
            actor=actor,
            message=message,
            data=data,
        )
        return case


def case_add_cost(
    *,
    case: CollectionCase,
    actor,
    kind: str,
    amount,
    booked_on: date,
    description: str = "",
) -> LedgerEntry:
    """Book interest, a fee or salær on the case — refused while it is disputed or closed."""
    if kind not in LedgerEntry.COST_KINDS:
        raise ApplicationError(_("%(kind)s er ikke en kostnad.") % {"kind": kind})
    amount = positive_amount(amount)
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if not case_may_add_costs(case):
            raise ApplicationError(
                _("Sak %(number)s har status «%(status)s»: det kan ikke legges til kostnader.")
                % {"number": case.number, "status": case.get_status_display()}
            )
        entry = LedgerEntry.objects.create(
            case=case,
            kind=kind,
            amount=amount,
            booked_on=booked_on,
            description=description[:200],
            created_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        record_event(
            case,
            kind=EventKind.COST_ADDED,
            actor=actor,
            message=_("%(kind)s %(amount)s lagt til.")
            % {"kind": LedgerEntry.Kind(kind).label, "amount": format_nok(amount)},
            data={"kind": kind, "amount": str(amount), "booked_on": booked_on.isoformat()},
        )
    return entry

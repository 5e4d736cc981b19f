"""Payment plans: the debtor asks on Min side, the creditor or a case handler decides, and a
daily check follows the instalments.

- :func:`payment_plan_request` — monthly instalments (2–12) that sum exactly to the case
  balance in øre; the last instalment takes the rounding remainder. One open plan per case
  (requested or accepted), enforced by a partial unique constraint.
- :func:`payment_plan_accept` — the case is paused with reason «Betalingsplan»
  (:func:`~collections_cases.cases.services.case_pause`, no resume date), so the dunning run
  takes no step and adds no cost while the plan runs.
- :func:`payment_plan_decline` — the plan ends, the case goes on as before.
- :func:`payment_plans_check` (daily, Celery beat at 06:30 Europe/Oslo) — what the debtor
  paid since the plan was requested (payments to the agency and direct payments to the
  creditor, registered after the request) against the instalments whose due date plus the
  grace days (``DUNNING_GRACE_DAYS`` banking days: a payment ordered on the due date needs
  them to arrive) lies before ``on``.
  All paid → *completed* and the case resumes (the dunning run then closes it as paid by the
  usual balance check); behind → *broken* and the case resumes, so escalation continues.

Every change writes a case event (a note on the timeline, or the pause/resume event of the
case service) inside the same transaction.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.cases import services as case_services
from collections_cases.cases.selectors import case_balance
from collections_cases.models import (
    CollectionCase,
    LedgerEntry,
    PaymentPlan,
    PaymentPlanInstalment,
)
from kravia_web.enqueue import enqueue
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok, to_ore

logger = logging.getLogger(__name__)

Status = CollectionCase.Status
PlanStatus = PaymentPlan.Status

MIN_INSTALMENTS = 2
MAX_INSTALMENTS = 12
#: The first instalment may be at most this many days away (a plan starts paying soon).
MAX_DAYS_TO_FIRST_INSTALMENT = 31
PAUSE_REASON = "Betalingsplan"
#: The statuses a case may be in when a plan is asked for or accepted.
PLAN_CASE_STATUSES = (Status.AWAITING_APPROVAL, Status.ACTIVE, Status.LEGAL, Status.MONITORING)
PAID_KINDS = (LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.DIRECT_PAYMENT)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; a day the month lacks becomes its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def payment_plan_schedule(
    *, total: Decimal, count: int, first_due: date
) -> list[tuple[date, Decimal]]:
    """``count`` monthly (due date, amount) pairs summing exactly to ``total``: equal whole-øre
    instalments, the last one taking the remainder."""
    total_ore = int(to_ore(total) * 100)
    base = total_ore // count
    amounts = [base] * (count - 1) + [total_ore - base * (count - 1)]
    return [
        (add_months(first_due, index), Decimal(amount) / 100)
        for index, amount in enumerate(amounts)
    ]


def _validate_request(case: CollectionCase, count: int, first_due: date, balance: Decimal):
    today = timezone.localdate()
    if case.status not in PLAN_CASE_STATUSES:
        if case.status == Status.CLOSED:
            raise ApplicationError(_("Saken er avsluttet."))
        if case.status == Status.DISPUTED:
            raise ApplicationError(
                _("Saken er omtvistet. Vi behandler innsigelsen din før noe annet skjer.")
            )
        raise ApplicationError(_("Saken er satt på vent, så det kan ikke avtales en plan nå."))
    if not MIN_INSTALMENTS <= count <= MAX_INSTALMENTS:
        raise ApplicationError(
            _("Velg mellom %(min)d og %(max)d avdrag.")
            % {"min": MIN_INSTALMENTS, "max": MAX_INSTALMENTS}
        )
    if first_due < today:
        raise ApplicationError(_("Første avdrag kan ikke være tilbake i tid."))
    if first_due > today + timedelta(days=MAX_DAYS_TO_FIRST_INSTALMENT):
        raise ApplicationError(
            _("Første avdrag må forfalle innen %(days)d dager.")
            % {"days": MAX_DAYS_TO_FIRST_INSTALMENT}
        )
    if balance <= 0:
        raise ApplicationError(_("Det er ikke noe utestående å lage en plan for."))
    if to_ore(balance) * 100 < count:
        raise ApplicationError(_("Saldoen er for liten til så mange avdrag."))


def payment_plan_request(
    *, case: CollectionCase, instalment_count: int, first_due: date, actor: str
) -> PaymentPlan:
    """The debtor proposes ``instalment_count`` monthly instalments from ``first_due``."""
    with transaction.atomic():
        case = case_services.case_lock(case_id=case.pk)
        if PaymentPlan.objects.open().filter(case=case).exists():
            raise ApplicationError(
                _("Saken har allerede en betalingsplan som er ønsket eller godtatt.")
            )
        balance = case_balance(case)
        _validate_request(case, instalment_count, first_due, balance)
        schedule = payment_plan_schedule(total=balance, count=instalment_count, first_due=first_due)
        try:
            with transaction.atomic():
                plan = PaymentPlan.objects.create(case=case, total=balance, requested_by=actor)
        except IntegrityError as exc:  # a concurrent request won
            raise ApplicationError(
                _("Saken har allerede en betalingsplan som er ønsket eller godtatt.")
            ) from exc
        PaymentPlanInstalment.objects.bulk_create(
            PaymentPlanInstalment(plan=plan, number=index, due_date=due, amount=amount)
            for index, (due, amount) in enumerate(schedule, start=1)
        )
        case_services.case_add_note(
            case=case,
            actor=actor,
            text=_(
                "Skyldner ønsker betalingsplan: %(count)d månedlige avdrag fra %(first)s, "
                "til sammen %(total)s."
            )
            % {
                "count": instalment_count,
                "first": first_due.strftime("%d.%m.%Y"),
                "total": format_nok(balance),
            },
        )
        transaction.on_commit(lambda: _notify_plan_requested(plan.pk), robust=True)
    return plan


def _notify_plan_requested(plan_id: int) -> None:
    enqueue("collections_cases.notifications.tasks.plan_requested_notification_task", plan_id)


def _lock_plan(plan: PaymentPlan) -> tuple[PaymentPlan, CollectionCase]:
    """The case row, then the plan row, locked (always in that order)."""
    case = case_services.case_lock(case_id=plan.case_id)
    return PaymentPlan.objects.select_for_update().get(pk=plan.pk), case


def _actor_user(actor):
    return actor if actor is not None and not isinstance(actor, str) else None


def payment_plan_accept(*, plan: PaymentPlan, actor, note: str = "") -> PaymentPlan:
    """Accept a requested plan: the case is paused («Betalingsplan») until the plan ends."""
    note = (note or "").strip()
    with transaction.atomic():
        plan, case = _lock_plan(plan)
        if plan.status != PlanStatus.REQUESTED:
            raise ApplicationError(
                _("Betalingsplanen er allerede %(status)s.")
                % {"status": plan.get_status_display().lower()}
            )
        if case.status not in PLAN_CASE_STATUSES:
            raise ApplicationError(
                _("Sak %(number)s har status «%(status)s»; betalingsplanen kan ikke godtas nå.")
                % {"number": case.number, "status": case.get_status_display()}
            )
        plan.status = PlanStatus.ACCEPTED
        plan.decided_by = _actor_user(actor)
        plan.decided_at = timezone.now()
        plan.note = note
        plan.save(update_fields=["status", "decided_by", "decided_at", "note"])
        case_services.case_pause(case=case, actor=actor, reason=PAUSE_REASON)
        text = _("Betalingsplanen er godtatt (%(count)d avdrag, til sammen %(total)s).") % {
            "count": plan.instalments.count(),
            "total": format_nok(plan.total),
        }
        if note:
            text = f"{text} {note}"
        case_services.case_add_note(case=case, actor=actor, text=text)
    return plan


def payment_plan_decline(*, plan: PaymentPlan, actor, note: str) -> PaymentPlan:
    """Decline a requested plan; ``note`` (the reason) is required and shown to the debtor."""
    note = (note or "").strip()
    if not note:
        raise ApplicationError(_("Skriv hvorfor betalingsplanen avslås."))
    with transaction.atomic():
        plan, case = _lock_plan(plan)
        if plan.status != PlanStatus.REQUESTED:
            raise ApplicationError(
                _("Betalingsplanen er allerede %(status)s.")
                % {"status": plan.get_status_display().lower()}
            )
        now = timezone.now()
        plan.status = PlanStatus.DECLINED
        plan.decided_by = _actor_user(actor)
        plan.decided_at = now
        plan.ended_at = now
        plan.note = note
        plan.save(update_fields=["status", "decided_by", "decided_at", "ended_at", "note"])
        case_services.case_add_note(
            case=case,
            actor=actor,
            text=_("Betalingsplanen er avslått: %(note)s") % {"note": note},
        )
    return plan


# --------------------------------------------------------------------------------------------
# The daily check
# --------------------------------------------------------------------------------------------


def grace_days() -> int:
    return int(getattr(settings, "DUNNING_GRACE_DAYS", 3))


def payment_plan_paid(plan: PaymentPlan) -> Decimal:
    """What the debtor paid on the case since the plan was requested (a positive amount)."""
    total = LedgerEntry.objects.filter(
        case_id=plan.case_id, kind__in=PAID_KINDS, created_at__gte=plan.requested_at
    ).aggregate(total=Sum("amount"))["total"]
    return -to_ore(total or 0)


def payment_plan_due(plan: PaymentPlan, *, by: date) -> Decimal:
    """The sum of the plan's instalments due on or before ``by``."""
    total = plan.instalments.filter(due_date__lte=by).aggregate(total=Sum("amount"))["total"]
    return to_ore(total or 0)


def payment_plan_progress(plan: PaymentPlan) -> list[dict]:
    """The instalments with what of each is paid so far (payments fill them in order)."""
    left = payment_plan_paid(plan)
    rows = []
    for instalment in plan.instalments.all():
        covered = min(max(left, Decimal("0.00")), instalment.amount)
        left -= covered
        rows.append(
            {"instalment": instalment, "paid": covered, "is_paid": covered >= instalment.amount}
        )
    return rows


OUTCOME_ON_TIME = "on_time"
OUTCOME_COMPLETED = "completed"
OUTCOME_BROKEN = "broken"


@dataclass
class PlanCheckResult:
    on: date
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict:
        return {"on": self.on.isoformat(), "outcomes": self.outcomes, "errors": self.errors}


def _end(plan: PaymentPlan, status: str) -> None:
    plan.status = status
    plan.ended_at = timezone.now()
    plan.save(update_fields=["status", "ended_at"])


def _resume_if_held_by_plan(case: CollectionCase) -> None:
    if case.status == Status.PAUSED and case.pause_reason == PAUSE_REASON:
        case_services.case_resume(case=case, actor=None)


def payment_plan_check(*, plan: PaymentPlan, on: date) -> str:
    """Check one accepted plan as of ``on``; returns the outcome."""
    with transaction.atomic():
        plan, case = _lock_plan(plan)
        if plan.status != PlanStatus.ACCEPTED:
            return OUTCOME_ON_TIME
        paid = payment_plan_paid(plan)
        if paid >= plan.total or case_balance(case) <= 0 or case.status == Status.CLOSED:
            _end(plan, PlanStatus.COMPLETED)
            case_services.case_add_note(
                case=case,
                actor=None,
                text=_("Betalingsplanen er fullført: %(paid)s er betalt.")
                % {"paid": format_nok(paid)},
            )
            _resume_if_held_by_plan(case)
            return OUTCOME_COMPLETED
        # An instalment is missed once its due date plus the grace days (banking days: a
        # payment ordered on the due date needs them to arrive) has passed.
        due = to_ore(
            sum(
                (
                    i.amount
                    for i in plan.instalments.all()
                    if rules.add_banking_days(i.due_date, grace_days()) < on
                ),
                Decimal("0.00"),
            )
        )
        if paid >= due:
            return OUTCOME_ON_TIME
        _end(plan, PlanStatus.BROKEN)
        case_services.case_add_note(
            case=case,
            actor=None,
            text=_(
                "Betalingsplanen er brutt: %(due)s skulle vært betalt, %(paid)s er betalt. "
                "Saken fortsetter."
            )
            % {"due": format_nok(due), "paid": format_nok(paid)},
        )
        _resume_if_held_by_plan(case)
        return OUTCOME_BROKEN


def payment_plans_check(*, on: date) -> PlanCheckResult:
    """Check every accepted plan as of ``on``; each plan in its own transaction, an error in
    one is logged and reported without stopping the others. Running twice changes nothing."""
    result = PlanCheckResult(on=on)
    plan_ids = list(
        PaymentPlan.objects.filter(status=PlanStatus.ACCEPTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for plan in PaymentPlan.objects.filter(pk__in=plan_ids).order_by("pk"):
        try:
            result.count(payment_plan_check(plan=plan, on=on))
        except ApplicationError as exc:
            logger.warning("payment plan %s: %s", plan.pk, exc.message)
            result.errors.append((plan.pk, exc.message))
        except Exception as exc:  # one plan's failure must not stop the others
            logger.exception("payment plan %s failed", plan.pk)
            result.errors.append((plan.pk, str(exc)))
    return result

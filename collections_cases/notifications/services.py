"""E-mail to creditors: cases waiting for approval, disputes, legal-approval requests and the
weekly summary. Each kind can be switched off in the creditor's settings (``notify_*``), and
``Creditor.notification_frequency`` says how the event mails go: *immediate* (one mail per
event), *daily* (the rows are *held* and one digest per creditor per day links to *Trenger
deg*) or *off* (none; *Trenger deg* still lists everything).

A notification is a :class:`~collections_cases.models.CreditorNotification` row with its
rendered subject and text and a unique ``key`` — one mail per case per event (the event's id),
one summary per creditor per ISO week — written in a transaction whose commit queues the send
task. Sending claims the row like a letter delivery (conditional UPDATE), so a duplicate task
or a second signal never mails twice; failures back off and the sweep retries them.

Recipients: the creditor's primary e-mail, else the e-mail of each active owner.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from collections_cases.letters.services import LEASE, MAX_ATTEMPTS, backoff
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    CreditorNotification,
    LedgerEntry,
)
from creditors.models import Creditor, Membership
from kravia_web.enqueue import enqueue_on_commit
from kravia_web.money import format_nok, to_ore

logger = logging.getLogger(__name__)

Kind = CreditorNotification.Kind
Status = CreditorNotification.Status
Frequency = Creditor.NotificationFrequency
EventKind = CaseEvent.Kind

CLAIMABLE = (Status.QUEUED, Status.FAILED, Status.SENDING)

#: Which case event makes which notification, and the creditor switch that allows it.
EVENT_NOTIFICATIONS = {
    EventKind.CREATED: (Kind.AWAITING_APPROVAL, "notify_awaiting_approval"),
    EventKind.DEMAND_APPROVAL_REQUESTED: (
        Kind.PAYMENT_DEMAND_APPROVAL,
        "notify_awaiting_approval",
    ),
    EventKind.LEGAL_APPROVAL_REQUESTED: (Kind.LEGAL_APPROVAL, "notify_legal_requests"),
    EventKind.DISPUTED: (Kind.DISPUTE, "notify_disputes"),
}


def creditor_recipients(creditor: Creditor) -> list[str]:
    if creditor.email:
        return [creditor.email]
    return sorted(
        Membership.objects.filter(
            creditor=creditor, role=Membership.Role.OWNER, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _queue(notification_id: int) -> None:
    enqueue_on_commit(
        "collections_cases.notifications.tasks.send_notification_task", notification_id
    )


def _create(**fields):
    """The notification's row (:func:`_render`'s arguments), rendered and saved; ``None``
    without recipients or when its ``key`` is taken already. A batch passes the creditor's
    ``recipients`` and the ``taken_keys`` it read for all its notifications at once."""
    notification = _render(**fields)
    if notification is None:
        return None
    try:
        with transaction.atomic():
            notification.save()
            if notification.status != Status.HELD:
                _queue(notification.pk)
    except IntegrityError:  # the same event reported twice at once: one row wins
        return None
    return notification


def _render(
    *,
    creditor: Creditor,
    case,
    kind: str,
    key: str,
    template: str,
    context: dict,
    held: bool = False,
    recipients: list[str] | None = None,
    taken_keys: set[str] | None = None,
) -> CreditorNotification | None:
    """:func:`_create`'s row, rendered and not saved (``None``: no recipients, key taken)."""
    if recipients is None:
        recipients = creditor_recipients(creditor)
    if not recipients:
        logger.info("Creditor %s has no e-mail for notification %s", creditor.pk, key)
        return None
    if taken_keys is None:
        if CreditorNotification.objects.filter(key=key).exists():
            return None
    elif key in taken_keys:
        return None
    context = {"creditor": creditor, "case": case, "site_url": settings.SITE_URL, **context}
    with translation.override("nb"):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        body = render_to_string(f"emails/{template}.txt", context)
    return CreditorNotification(
        creditor=creditor,
        case=case,
        kind=kind,
        key=key,
        recipients=recipients,
        subject=subject[:200],
        body=body,
        # Daily mode: the row waits for the creditor's digest and is never sent alone.
        status=Status.HELD if held else Status.QUEUED,
        next_attempt_at=None if held else timezone.now(),
    )


def notification_case_changed(*, case_id: int, kind: str) -> CreditorNotification | None:
    """After a case change committed: notify the creditor when the change is one they asked
    to hear about (a case waiting for approval, a dispute, a legal-approval request)."""
    if kind not in EVENT_NOTIFICATIONS:
        return None
    case = CollectionCase.objects.select_related("creditor", "debtor").filter(pk=case_id).first()
    if case is None:
        return None
    event = CaseEvent.objects.filter(case=case, kind=kind).order_by("-id").first()
    spec = _event_notification(case, kind, event)
    return _create(**spec) if spec else None


def notification_cases_changed(*, changes) -> list[CreditorNotification]:
    """:func:`notification_case_changed` for a batch of ``(case_id, kind)`` changes (the
    dunning run's approval requests): the cases, their events, the creditors' recipients and
    the keys already taken read once for the batch, then each notification written as one
    would be."""
    wanted = list(dict.fromkeys((c, k) for c, k in changes if k in EVENT_NOTIFICATIONS))
    if not wanted:
        return []
    case_ids = {case_id for case_id, _kind in wanted}
    cases = CollectionCase.objects.select_related("creditor", "debtor").in_bulk(case_ids)
    events: dict[tuple[int, str], CaseEvent] = {}
    for event in CaseEvent.objects.filter(
        case_id__in=case_ids, kind__in={kind for _case, kind in wanted}
    ).order_by("-id"):
        events.setdefault((event.case_id, event.kind), event)
    specs = []
    for case_id, kind in wanted:
        case = cases.get(case_id)
        spec = case and _event_notification(case, kind, events.get((case_id, kind)))
        if spec:
            specs.append(spec)
    taken = set(
        CreditorNotification.objects.filter(key__in=[spec["key"] for spec in specs]).values_list(
            "key", flat=True
        )
    )
    recipients: dict[int, list[str]] = {}
    rendered = []
    for spec in specs:
        creditor = spec["creditor"]
        if creditor.pk not in recipients:
            recipients[creditor.pk] = creditor_recipients(creditor)
        try:
            notification = _render(**spec, recipients=recipients[creditor.pk], taken_keys=taken)
        except Exception:  # one case's notification must not keep the others from theirs
            logger.exception("Could not queue the notification %s", spec["key"])
            continue
        if notification is not None:
            taken.add(notification.key)  # a change reported twice in the batch: one row
            rendered.append(notification)
    return _save_all(rendered)


def _save_all(rendered: list[CreditorNotification]) -> list[CreditorNotification]:
    """The batch's rendered rows in one insert and one transaction (its commit queues the
    send tasks); a key another process took meanwhile keeps that row (``ON CONFLICT DO
    NOTHING``; read back with the others, its send task is queued once more, which the
    send's claim makes harmless). If the insert fails, each row is saved on its own, as
    :func:`_create` does."""
    if not rendered:
        return []
    keys = [notification.key for notification in rendered]
    try:
        with transaction.atomic():
            CreditorNotification.objects.bulk_create(rendered, ignore_conflicts=True)
            ids = dict(CreditorNotification.objects.filter(key__in=keys).values_list("key", "pk"))
            created = []
            for notification in rendered:
                notification.pk = ids.get(notification.key)
                if notification.pk is None:
                    continue
                notification._state.adding = False
                created.append(notification)
                if notification.status == Status.QUEUED:
                    _queue(notification.pk)
            return created
    except Exception:
        logger.exception("Could not queue %s notifications at once", len(rendered))
    created = []
    for notification in rendered:
        notification.pk = None
        notification._state.adding = True
        try:
            with transaction.atomic():
                notification.save()
                if notification.status == Status.QUEUED:
                    _queue(notification.pk)
        except IntegrityError:  # the same event reported twice at once: one row wins
            continue
        except Exception:  # one case's notification must not keep the others from theirs
            logger.exception("Could not queue the notification %s", notification.key)
            continue
        created.append(notification)
    return created


def _event_notification(case, kind: str, event: CaseEvent | None) -> dict | None:
    """What :func:`_create` needs for the notification of ``case``'s ``event``, or ``None``
    when the creditor does not want it (switch off, frequency off) or there is none."""
    notification_kind, switch = EVENT_NOTIFICATIONS[kind]
    if not getattr(case.creditor, switch):
        return None
    frequency = case.creditor.notification_frequency
    if frequency == Frequency.OFF or event is None:
        return None
    if kind == EventKind.CREATED and event.status_to != CollectionCase.Status.AWAITING_APPROVAL:
        return None
    return {
        "creditor": case.creditor,
        "case": case,
        "kind": notification_kind,
        "key": f"{notification_kind}:{case.pk}:{event.pk}",
        "template": f"creditor_{notification_kind}",
        "context": {
            "event": event,
            "debtor": case.debtor,
            "case_url": settings.SITE_URL + reverse("case_detail", args=[case.pk]),
            "reason": case.dispute_reason,
        },
        "held": frequency == Frequency.DAILY,
    }


def notification_plan_requested(*, plan_id: int) -> CreditorNotification | None:
    """After a debtor's payment-plan request committed: tell the creditor (switch
    ``notify_awaiting_approval``: a decision waits for them), one mail per plan."""
    from collections_cases.models import PaymentPlan

    plan = (
        PaymentPlan.objects.select_related("case__creditor", "case__debtor")
        .filter(pk=plan_id, status=PaymentPlan.Status.REQUESTED)
        .first()
    )
    if plan is None:
        return None
    case, creditor = plan.case, plan.case.creditor
    frequency = creditor.notification_frequency
    if not creditor.notify_awaiting_approval or frequency == Frequency.OFF:
        return None
    instalments = list(plan.instalments.order_by("number").values_list("due_date", flat=True))
    return _create(
        creditor=creditor,
        case=case,
        kind=Kind.PAYMENT_PLAN_REQUEST,
        key=f"{Kind.PAYMENT_PLAN_REQUEST}:{case.pk}:{plan.pk}",
        template=f"creditor_{Kind.PAYMENT_PLAN_REQUEST}",
        context={
            "debtor": case.debtor,
            "count": len(instalments),
            "first_due": instalments[0].strftime("%d.%m.%Y") if instalments else "",
            "total": format_nok(plan.total),
            "trenger_deg_url": trenger_deg_url(),
        },
        held=frequency == Frequency.DAILY,
    )


# --- weekly summary -------------------------------------------------------------------------


def _week(on: dt.date) -> tuple[dt.date, dt.date]:
    """The last full week (Monday–Sunday) before ``on``."""
    this_monday = on - dt.timedelta(days=on.weekday())
    start = this_monday - dt.timedelta(days=7)
    return start, start + dt.timedelta(days=6)


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def creditor_weekly_numbers(*, creditor: Creditor, start: dt.date, end: dt.date) -> dict:
    """New cases, amounts collected and what is outstanding, for ``start``–``end``."""
    cases = CollectionCase.objects.filter(creditor=creditor)
    new = cases.filter(
        created_at__gte=_aware(start), created_at__lt=_aware(end + dt.timedelta(days=1))
    )
    new_principal = LedgerEntry.objects.filter(
        case__in=new, kind=LedgerEntry.Kind.PRINCIPAL
    ).aggregate(total=Sum("amount"))["total"]
    collected = LedgerEntry.objects.filter(
        case__creditor=creditor,
        kind__in=[LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.DIRECT_PAYMENT],
        booked_on__gte=start,
        booked_on__lte=end,
    ).aggregate(total=Sum("amount"))["total"]
    open_cases = cases.exclude(status=CollectionCase.Status.CLOSED)
    outstanding = LedgerEntry.objects.filter(case__in=open_cases).aggregate(total=Sum("amount"))[
        "total"
    ]
    return {
        "new_cases": new.count(),
        "new_principal": to_ore(new_principal or 0),
        "collected": to_ore(-(collected or 0)),
        "open_cases": open_cases.count(),
        "outstanding": to_ore(outstanding or 0),
        "awaiting_approval": cases.filter(status=CollectionCase.Status.AWAITING_APPROVAL).count(),
        "disputed": cases.filter(status=CollectionCase.Status.DISPUTED).count(),
        "closed": cases.filter(
            closed_at__gte=_aware(start), closed_at__lt=_aware(end + dt.timedelta(days=1))
        ).count(),
    }


def notifications_weekly_summary(*, on: dt.date) -> int:
    """Beat (Monday 07:00 Oslo): one summary of last week per creditor who wants it and has
    cases. Safe to run twice: the week is part of the key."""
    start, end = _week(on)
    year, week, _weekday = start.isocalendar()
    created = 0
    creditors = Creditor.objects.filter(notify_weekly_summary=True, cases__isnull=False).distinct()
    for creditor in creditors:
        numbers = creditor_weekly_numbers(creditor=creditor, start=start, end=end)
        formatted = {
            name: format_nok(value) if isinstance(value, Decimal) else value
            for name, value in numbers.items()
        }
        notification = _create(
            creditor=creditor,
            case=None,
            kind=Kind.WEEKLY_SUMMARY,
            key=f"weekly_summary:{creditor.pk}:{year}-W{week:02d}",
            template="creditor_weekly_summary",
            context={
                "numbers": formatted,
                "start": start.strftime("%d.%m.%Y"),
                "end": end.strftime("%d.%m.%Y"),
                "week": week,
                "cases_url": settings.SITE_URL + reverse("case_list"),
            },
        )
        created += notification is not None
    return created


# --- daily digest ---------------------------------------------------------------------------


def trenger_deg_url() -> str:
    return settings.SITE_URL + reverse("dashboard") + "#trenger-deg"


def notification_digest_creditor(*, creditor: Creditor, on: dt.date) -> CreditorNotification | None:
    """One e-mail with every notification of ``creditor`` held since its last digest, linking
    to *Trenger deg*; the held rows become *digested* (pointing at it). Nothing held, no mail.
    Safe to run twice on a day: the day is part of the key, and a row is taken once (locked)."""
    recipients = creditor_recipients(creditor)
    key = f"daily_digest:{creditor.pk}:{on.isoformat()}"
    with transaction.atomic():
        held = list(
            # Lock only the notifications: PostgreSQL refuses FOR UPDATE on the nullable side
            # of the outer join to the case (a notification need not have one).
            CreditorNotification.objects.select_for_update(of=("self",))
            .filter(creditor=creditor, status=Status.HELD)
            .select_related("case__debtor")
            .order_by("kind", "created_at", "pk")
        )
        if not held or not recipients or CreditorNotification.objects.filter(key=key).exists():
            return None
        groups: dict[str, list[CreditorNotification]] = {}
        for row in held:
            groups.setdefault(row.kind, []).append(row)
        context = {
            "creditor": creditor,
            "day": on.strftime("%d.%m.%Y"),
            "count": len(held),
            "groups": [
                {"label": Kind(kind).label, "rows": rows, "count": len(rows)}
                for kind, rows in groups.items()
            ],
            "trenger_deg_url": trenger_deg_url(),
        }
        with translation.override("nb"):
            subject = " ".join(
                render_to_string("emails/creditor_daily_digest_subject.txt", context).split()
            )
            body = render_to_string("emails/creditor_daily_digest.txt", context)
        digest = CreditorNotification.objects.create(
            creditor=creditor,
            kind=Kind.DAILY_DIGEST,
            key=key,
            recipients=recipients,
            subject=subject[:200],
            body=body,
        )
        CreditorNotification.objects.filter(pk__in=[row.pk for row in held]).update(
            status=Status.DIGESTED, digest=digest, next_attempt_at=None
        )
        _queue(digest.pk)
    return digest


def notifications_daily_digest(*, on: dt.date) -> int:
    """Beat (07:00 Oslo): one digest per creditor with held notifications. A creditor who has
    since turned e-mail off gets none; one who switched to *immediate* gets what was held."""
    creditors = (
        Creditor.objects.filter(notifications__status=Status.HELD)
        .exclude(notification_frequency=Frequency.OFF)
        .distinct()
    )
    return sum(
        notification_digest_creditor(creditor=creditor, on=on) is not None for creditor in creditors
    )


# --- sending --------------------------------------------------------------------------------


def _claim(notification_id: int, now) -> CreditorNotification | None:
    claimed = CreditorNotification.objects.filter(
        pk=notification_id, status__in=CLAIMABLE, next_attempt_at__lte=now
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return CreditorNotification.objects.get(pk=notification_id)


def notification_send(*, notification_id: int) -> str:
    """One attempt at the notification, if it is due and no one else holds it."""
    now = timezone.now()
    notification = _claim(notification_id, now)
    if notification is None:
        return "skipped"
    try:
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(notification.recipients),
        ).send(fail_silently=False)
    except Exception as exc:  # recorded and retried, never lost
        logger.warning("Notification %s failed", notification.pk, exc_info=True)
        retry = notification.attempts < MAX_ATTEMPTS
        CreditorNotification.objects.filter(pk=notification.pk).update(
            status=Status.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + backoff(notification.attempts) if retry else None,
        )
        return Status.FAILED
    CreditorNotification.objects.filter(pk=notification.pk).update(
        status=Status.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return Status.SENT


def notification_sweep(*, limit: int = 200) -> dict[str, int]:
    ids = list(
        CreditorNotification.objects.filter(
            status__in=CLAIMABLE, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return dict(Counter(notification_send(notification_id=pk) for pk in ids))

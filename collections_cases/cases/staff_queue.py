"""Today's queue for the agency's case handlers (the admin's front page): what waits for a
person, each with its count and a link to the admin list filtered to exactly those items.

One definition per queue (:data:`QUEUES`) serves both the count and the list filter
(:class:`StaffQueueFilter`, ``?ko=<key>``), so the number on the front page is the number of
rows the link shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_cases.cases import limitation
from collections_cases.models import (
    CollectionCase,
    LetterDelivery,
    Payment,
    PaymentPlan,
    PrintQueueItem,
    Settlement,
)
from creditors.models import Creditor

PARAMETER = "ko"


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    model: type
    #: The items waiting on ``on`` (Europe/Oslo today for the admin).
    items: Callable[[date], QuerySet]


@dataclass(frozen=True)
class QueueEntry:
    key: str
    label: str
    count: int
    url: str


QUEUES: tuple[Queue, ...] = (
    Queue(
        "innsigelser",
        _("Innsigelser å avklare"),
        CollectionCase,
        lambda on: CollectionCase.objects.filter(status=CollectionCase.Status.DISPUTED),
    ),
    Queue(
        "betalingsplaner",
        _("Betalingsplaner å avgjøre"),
        PaymentPlan,
        lambda on: PaymentPlan.objects.filter(status=PaymentPlan.Status.REQUESTED),
    ),
    Queue(
        "innbetalinger",
        _("Innbetalinger som ikke er koblet til en sak"),
        Payment,
        lambda on: Payment.objects.filter(status__in=Payment.QUEUE_STATUSES),
    ),
    Queue(
        "utsendinger",
        _("Utsendinger som feilet eller ble avvist"),
        LetterDelivery,
        lambda on: LetterDelivery.objects.filter(
            status__in=[LetterDelivery.Status.FAILED, LetterDelivery.Status.BOUNCED]
        ),
    ),
    Queue(
        "utskrift",
        _("Brev i utskriftskøen"),
        PrintQueueItem,
        lambda on: PrintQueueItem.objects.filter(
            channel=LetterDelivery.Channel.POST, status=LetterDelivery.Status.PRINT_QUEUED
        ),
    ),
    Queue(
        "bilag",
        _("Oppgjørsbilag som er stoppet eller feilet"),
        Settlement,
        lambda on: Settlement.objects.filter(
            voucher_status__in=[
                Settlement.VoucherStatus.BLOCKED,
                Settlement.VoucherStatus.FAILED,
            ]
        ),
    ),
    Queue(
        "rettslig",
        _("Rettslige tiltak godkjent av kreditor, ikke startet"),
        CollectionCase,
        lambda on: CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED).filter(
            next_action=CollectionCase.NextAction.START_LEGAL
        ),
    ),
    Queue(
        "kreditorer",
        _("Kreditorer som ikke er verifisert"),
        Creditor,
        lambda on: Creditor.objects.filter(verified_at__isnull=True),
    ),
    Queue(
        "foreldet",
        _("Foreldede krav i åpne saker"),
        CollectionCase,
        lambda on: limitation.limitation_passed_cases(on=on),
    ),
    Queue(
        "foreldes",
        lazy(
            lambda: (
                gettext("Saker som foreldes innen %(days)d dager")
                % {"days": limitation.WARNING_DAYS}
            ),
            str,
        )(),
        CollectionCase,
        lambda on: limitation.limitation_warning_cases(on=on),
    ),
)

BY_KEY = {queue.key: queue for queue in QUEUES}


def queue_url(queue: Queue) -> str:
    opts = queue.model._meta
    return (
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        + f"?{PARAMETER}={queue.key}"
    )


def staff_queue(*, on: date) -> list[QueueEntry]:
    """Every queue with its count on ``on`` (empty ones too: a zero says it was looked at)."""
    return [
        QueueEntry(
            key=queue.key,
            label=str(queue.label),
            count=queue.items(on).count(),
            url=queue_url(queue),
        )
        for queue in QUEUES
    ]


class StaffQueueFilter(admin.SimpleListFilter):
    """The front page's queues for this list (``?ko=<key>``)."""

    title = _("arbeidskø")
    parameter_name = PARAMETER

    def lookups(self, request, model_admin):
        return [(q.key, q.label) for q in QUEUES if q.model is model_admin.model]

    def queryset(self, request, queryset):
        queue = BY_KEY.get(self.value() or "")
        if queue is None or queue.model is not queryset.model:
            return queryset
        on = timezone.localdate()
        return queryset.filter(pk__in=queue.items(on).values("pk"))

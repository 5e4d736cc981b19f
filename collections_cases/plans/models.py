"""Payment plans and their instalments."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase
from collections_cases.models.base import money_field


class PaymentPlanQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=PaymentPlan.OPEN_STATUSES)


class PaymentPlan(models.Model):
    """A debtor's proposal to pay the balance in monthly instalments (Min side), decided by the
    creditor or a case handler. An accepted plan keeps the case paused while instalments arrive
    on time (:mod:`collections_cases.plans.services`)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Ønsket")
        ACCEPTED = "accepted", _("Godtatt")
        DECLINED = "declined", _("Avslått")
        BROKEN = "broken", _("Brutt")
        COMPLETED = "completed", _("Fullført")

    OPEN_STATUSES = (Status.REQUESTED, Status.ACCEPTED)

    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="payment_plans",
        verbose_name=_("sak"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    total = money_field(_("sum"), help_text=_("Saldoen da planen ble ønsket."))
    requested_at = models.DateTimeField(_("ønsket"), default=timezone.now)
    requested_by = models.CharField(_("ønsket av"), max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("avgjort av"),
    )
    decided_at = models.DateTimeField(_("avgjort"), null=True, blank=True)
    note = models.TextField(_("merknad"), blank=True)
    ended_at = models.DateTimeField(_("avsluttet"), null=True, blank=True)

    objects = PaymentPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("betalingsplan")
        verbose_name_plural = _("betalingsplaner")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["requested", "accepted"]),
                name="uniq_payment_plan_open_per_case",
            )
        ]

    def __str__(self):
        return _("Betalingsplan for %(case)s") % {"case": self.case}

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PaymentPlanInstalment(models.Model):
    plan = models.ForeignKey(
        PaymentPlan,
        on_delete=models.CASCADE,
        related_name="instalments",
        verbose_name=_("betalingsplan"),
    )
    number = models.PositiveSmallIntegerField(_("nummer"))
    due_date = models.DateField(_("forfall"))
    amount = money_field(_("beløp"))

    class Meta:
        verbose_name = _("avdrag")
        verbose_name_plural = _("avdrag")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"], name="uniq_payment_plan_instalment_number"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_plan_instalment_amount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.number}: {self.due_date:%d.%m.%Y} {self.amount}"

"""E-mails to creditors about their cases."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase
from creditors.models import Creditor


class CreditorNotification(models.Model):
    """One e-mail to a creditor (:mod:`collections_cases.notifications.services`): a case
    waiting for approval, a dispute, a legal-approval request, the weekly summary.
    ``key`` is unique (one mail per case per event, one summary per creditor per week)."""

    class Kind(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Sak venter på godkjenning")
        PAYMENT_DEMAND_APPROVAL = (
            "payment_demand_approval",
            _("Betalingsoppfordring venter på godkjenning"),
        )
        LEGAL_APPROVAL = "legal_approval", _("Rettslige tiltak venter på godkjenning")
        DISPUTE = "dispute", _("Skyldner har innsigelser")
        PAYMENT_PLAN_REQUEST = "payment_plan_request", _("Skyldner ønsker betalingsplan")
        WEEKLY_SUMMARY = "weekly_summary", _("Ukentlig oppsummering")
        DAILY_DIGEST = "daily_digest", _("Daglig oppsummering")

    class Status(models.TextChoices):
        #: Daily mode: waits for the creditor's next digest (never sent on its own).
        HELD = "held", _("Venter på daglig oppsummering")
        #: Sent as part of the digest in ``digest``.
        DIGESTED = "digested", _("Sendt i daglig oppsummering")
        QUEUED = "queued", _("I kø")
        SENDING = "sending", _("Sendes")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Feilet")

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("kreditor"),
    )
    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("sak"),
    )
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    digest = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="included",
        verbose_name=_("daglig oppsummering"),
    )
    key = models.CharField(_("nøkkel"), max_length=100, unique=True)
    recipients = models.JSONField(_("mottakere"), default=list)
    subject = models.CharField(_("emne"), max_length=200)
    body = models.TextField(_("tekst"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("forsøk"), default=0)
    next_attempt_at = models.DateTimeField(
        _("neste forsøk"), null=True, blank=True, default=timezone.now
    )
    last_error = models.TextField(_("siste feil"), blank=True)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)

    class Meta:
        verbose_name = _("varsel til kreditor")
        verbose_name_plural = _("varsler til kreditor")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_status_next_idx")
        ]

    def __str__(self):
        return self.subject

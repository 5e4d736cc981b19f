"""Webhook endpoints a creditor registered, and every delivery of an event to one of them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor
from kravia_web.crypto import EncryptedTextField


class EventType(models.TextChoices):
    CASE_CREATED = "case.created", _("Sak opprettet")
    CASE_UPDATED = "case.updated", _("Sak endret")
    CASE_CLOSED = "case.closed", _("Sak avsluttet")
    SETTLEMENT_CREATED = "settlement.created", _("Oppgjør laget")


class WebhookEndpoint(models.Model):
    """A URL of the creditor's that receives the events it subscribed to, signed with
    ``secret`` (encrypted at rest: it must be read back to sign; shown once, when created)."""

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("kreditor"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("beskrivelse"), max_length=200, blank=True)
    events = models.JSONField(_("hendelser"), default=list)
    secret = EncryptedTextField(_("hemmelighet"))
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opprettet av"),
    )
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("endret"), auto_now=True)

    class Meta:
        verbose_name = _("webhook-mottaker")
        verbose_name_plural = _("webhook-mottakere")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: attempted (claim → POST → record) until the
    endpoint answers 2xx, with exponential backoff, or failed for good. A replay is a new row
    with the same event id (receivers de-duplicate on it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        SUCCEEDED = "succeeded", _("Levert")
        FAILED = "failed", _("Feilet")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("mottaker"),
    )
    event_id = models.UUIDField(_("hendelses-ID"), default=uuid.uuid4)
    event_type = models.CharField(_("hendelse"), max_length=40, choices=EventType.choices)
    payload = models.JSONField(_("innhold"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("forsøk"), default=0)
    next_attempt_at = models.DateTimeField(_("neste forsøk"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("sendes til"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("siste forsøk"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("svarstatus"), null=True, blank=True)
    error = models.TextField(_("feil"), blank=True)
    delivered_at = models.DateTimeField(_("levert"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
        verbose_name=_("sendt på nytt fra"),
    )
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook-levering")
        verbose_name_plural = _("webhook-leveringer")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"],
                condition=Q(replay_of__isnull=True),
                name="uniq_webhook_delivery_event",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint}"

"""API keys (stored hashed) and idempotency records (one row per owner and key)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor


class ApiKey(models.Model):
    """A key that acts for exactly one creditor. Only ``prefix`` and the SHA-256 of the whole
    key are stored: the key itself is shown once, when it is created."""

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("kreditor")
    )
    name = models.CharField(_("navn"), max_length=100)
    prefix = models.CharField(_("prefiks"), max_length=16, unique=True)
    key_hash = models.CharField(_("SHA-256 av nøkkelen"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opprettet av"),
    )
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("sist brukt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("trukket tilbake"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trukket tilbake av"),
    )

    class Meta:
        verbose_name = _("API-nøkkel")
        verbose_name_plural = _("API-nøkler")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The response to a POST sent with an ``Idempotency-Key``: inserted (unique per owner and
    key) before the request runs, so a concurrent duplicate cannot run too, and completed with
    the response that a repeat of the same request gets back."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Pågår")
        COMPLETED = "completed", _("Fullført")

    owner = models.CharField(
        _("eier"), max_length=40, help_text=_("«key:<id>» for en API-nøkkel, «user:<id>» ellers.")
    )
    key = models.CharField(_("idempotensnøkkel"), max_length=255)
    request_hash = models.CharField(_("SHA-256 av forespørselen"), max_length=64)
    method = models.CharField(_("metode"), max_length=10)
    path = models.CharField(_("sti"), max_length=500)
    state = models.CharField(
        _("tilstand"), max_length=20, choices=State.choices, default=State.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("svarstatus"), null=True, blank=True)
    response_body = models.JSONField(_("svar"), null=True, blank=True)
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotensnøkkel")
        verbose_name_plural = _("idempotensnøkler")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="uniq_idempotency_owner_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self):
        return f"{self.owner} {self.key}"

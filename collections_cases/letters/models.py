"""Letters to debtors, their delivery and the print queue."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase
from collections_cases.models.base import money_field


class Letter(models.Model):
    """A letter the dunning run decided to send: one per (case, step), enforced by the database.

    Recorded here with its dates and amounts; rendering and delivery come later (``status``).
    """

    class Kind(models.TextChoices):
        INKASSOVARSEL = "inkassovarsel", _("Inkassovarsel")
        BETALINGSOPPFORDRING = "betalingsoppfordring", _("Betalingsoppfordring")
        VARSEL_RETTSLIG = "varsel_rettslig", _("Varsel om rettslig inndriving")
        NEW_BETALINGSOPPFORDRING = "new_betalingsoppfordring", _("Ny betalingsoppfordring")
        # After a payment that leaves little: what is left and how the payment was split
        REMAINDER_STATEMENT = "remainder_statement", _("Oppgave over restbeløp")

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Registrert")

    case = models.ForeignKey(
        CollectionCase, on_delete=models.PROTECT, related_name="letters", verbose_name=_("sak")
    )
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    step = models.CharField(
        _("steg"), max_length=40, help_text=_("Inkassosteget brevet hører til; ett brev per steg.")
    )
    sent_on = models.DateField(_("sendt"))
    deadline = models.DateField(_("betalingsfrist"))
    fee = money_field(_("gebyr eller salær"), default=0)
    amounts = models.JSONField(_("beløp"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECORDED
    )
    # The rendered document (collections_cases.letters.documents.letter_pdf): written once and then
    # served as stored, so a sent letter never changes.
    pdf = models.FileField(_("PDF"), upload_to="letters/%Y/%m/", blank=True)
    rendered_at = models.DateTimeField(_("laget"), null=True, blank=True)
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)

    class Meta:
        verbose_name = _("brev")
        verbose_name_plural = _("brev")
        ordering = ["sent_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="uniq_letter_case_step")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sent_on:%d.%m.%Y}"


class LetterDelivery(models.Model):
    """One letter on its way to one recipient (:mod:`collections_cases.letters.services`).

    The dunning run's letter gets one row (``reason`` initial, unique per letter); staff may
    send it again to another address (``reason`` resend). One row per (letter, channel,
    recipient), so a letter never goes twice to the same address. E-mail rows are claimed
    (queued/failed → sending) by a conditional UPDATE before the send, like the outbox.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-post")
        POST = "post", _("Post")

    class Status(models.TextChoices):
        QUEUED = "queued", _("I kø")
        SENDING = "sending", _("Sendes")
        SENT = "sent", _("Sendt")
        PRINT_QUEUED = "print_queued", _("I utskriftskø")
        POSTED = "posted", _("Postlagt")
        FAILED = "failed", _("Feilet")
        BOUNCED = "bounced", _("Avvist av mottaker")

    class Reason(models.TextChoices):
        INITIAL = "initial", _("Første utsending")
        RESEND = "resend", _("Sendt på nytt")

    letter = models.ForeignKey(
        Letter, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("brev")
    )
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(
        _("mottaker"), max_length=500, help_text=_("E-postadresse eller postadresse.")
    )
    reason = models.CharField(
        _("årsak"), max_length=10, choices=Reason.choices, default=Reason.INITIAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("forsøk"), default=0)
    next_attempt_at = models.DateTimeField(
        _("neste forsøk"), null=True, blank=True, default=timezone.now
    )
    last_error = models.TextField(_("siste feil"), blank=True)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)
    posted_at = models.DateTimeField(_("postlagt"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bestilt av"),
    )
    # The copy this delivery sends when it is not the letter's stored PDF: a re-sent letter
    # (or one whose code was revoked before it left) carries a new Min side code, so it gets a
    # copy of its own (collections_cases.letters.services.delivery_document).
    pdf = models.FileField(_("PDF sendt"), upload_to="letters/deliveries/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("endret"), auto_now=True)

    class Meta:
        verbose_name = _("utsending")
        verbose_name_plural = _("utsendinger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "channel", "recipient"], name="uniq_delivery_letter_recipient"
            ),
            models.UniqueConstraint(
                fields=["letter"],
                condition=Q(reason="initial"),
                name="uniq_delivery_letter_initial",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next_idx"),
            models.Index(fields=["channel", "status"], name="delivery_channel_status_idx"),
        ]

    def __str__(self):
        return f"{self.letter} → {self.recipient.splitlines()[0] if self.recipient else ''}"


class PrintQueueItem(LetterDelivery):
    """The post deliveries, as the admin's print queue (*utskriftskø*)."""

    class Meta:
        proxy = True
        verbose_name = _("brev i utskriftskø")
        verbose_name_plural = _("utskriftskø")

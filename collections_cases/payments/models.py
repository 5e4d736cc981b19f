"""Incoming payments: imports, payments, allocations and reversals."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase
from collections_cases.ledger.models import LedgerEntry
from collections_cases.models.base import money_field

# --- Incoming payments (collections_cases.payments) -------------------------------------


class PaymentImport(models.Model):
    """One imported bank file (camt.054 or OCR giro). The sha256 refuses the same file twice."""

    class Format(models.TextChoices):
        CAMT054 = "camt054", _("camt.054")
        OCR = "ocr", _("OCR giro")

    file_name = models.CharField(_("filnavn"), max_length=255)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    sha256 = models.CharField(_("sjekksum (sha256)"), max_length=64, unique=True)
    imported_at = models.DateTimeField(_("importert"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("importert av"),
    )
    transactions_count = models.PositiveIntegerField(_("transaksjoner i filen"), default=0)
    created_count = models.PositiveIntegerField(_("nye innbetalinger"), default=0)
    duplicate_count = models.PositiveIntegerField(_("allerede importert"), default=0)
    matched_count = models.PositiveIntegerField(_("koblet til sak"), default=0)
    unmatched_count = models.PositiveIntegerField(_("til manuell behandling"), default=0)
    # Entries that are not money in (pending/information entries, debits that reverse
    # nothing of ours): counted so the file's contents are accounted for, never imported.
    ignored_count = models.PositiveIntegerField(_("ikke innbetalinger (ignorert)"), default=0)
    reversal_count = models.PositiveIntegerField(_("tilbakeføringer"), default=0)
    reversal_unmatched_count = models.PositiveIntegerField(
        _("tilbakeføringer til saksbehandler"), default=0
    )
    #: Records skipped because they were malformed while the bank's totals still reconciled:
    #: ``[{"where": "Linje 7", "error": "…"}]`` (docs/payments.md).
    skipped = models.JSONField(_("poster hoppet over"), default=list, blank=True)
    account = models.CharField(
        _("konto"),
        max_length=34,
        blank=True,
        help_text=_("Kontoen filen gjelder (kontonummer, fra IBAN eller Othr/Id)."),
    )

    class Meta:
        verbose_name = _("import av innbetalinger")
        verbose_name_plural = _("importer av innbetalinger")
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.file_name} ({self.imported_at:%d.%m.%Y %H:%M})"


class Payment(models.Model):
    """Money received on the agency's client account. Matched by KID to exactly one open
    case and then allocated (:class:`PaymentAllocation`); otherwise queued for a case handler."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manuelt registrert")
        CAMT054 = "camt054", _("camt.054")
        OCR = "ocr", _("OCR giro")

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("Ikke koblet")
        AMBIGUOUS = "ambiguous", _("Tvetydig")
        MATCHED = "matched", _("Koblet til sak")
        ALLOCATED = "allocated", _("Fordelt")
        REFUNDED = "refunded", _("Tilbakebetalt")
        REVERSED = "reversed", _("Tilbakeført av banken")

    QUEUE_STATUSES = (Status.UNMATCHED, Status.AMBIGUOUS)

    source = models.CharField(_("kilde"), max_length=20, choices=Source.choices)
    external_reference = models.CharField(_("ekstern referanse"), max_length=200, unique=True)
    amount = money_field(_("beløp"))
    paid_on = models.DateField(_("betalt"))
    kid = models.CharField(_("KID"), max_length=25, blank=True)
    payer_name = models.CharField(_("innbetaler"), max_length=200, blank=True)
    payer_reference = models.CharField(_("referanse/melding"), max_length=500, blank=True)
    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("sak"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.UNMATCHED
    )
    match_note = models.CharField(_("merknad om kobling"), max_length=300, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("koblet av"),
    )
    import_batch = models.ForeignKey(
        PaymentImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("import"),
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("innbetaling")
        verbose_name_plural = _("innbetalinger")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "paid_on"], name="payment_status_paid_on_idx")]

    def __str__(self):
        return f"{self.paid_on:%d.%m.%Y} {self.amount} ({self.get_status_display()})"


class PaymentAllocation(models.Model):
    """One component of a payment's split over a case, with the ledger entry it created.
    ``overpayment`` is the part held as a refund due to the debtor (its ledger entry is the
    payment credit; a ``refund_due`` debit of the same amount brings the balance back to 0)."""

    class Component(models.TextChoices):
        FEE = "fee", _("Gebyr")
        SALAER = "salaer", _("Salær")
        INTEREST = "interest", _("Forsinkelsesrente")
        PRINCIPAL = "principal", _("Hovedstol")
        OVERPAYMENT = "overpayment", _("Overbetaling (til tilbakebetaling)")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("innbetaling")
    )
    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="payment_allocations",
        verbose_name=_("sak"),
    )
    component = models.CharField(_("komponent"), max_length=20, choices=Component.choices)
    amount = money_field(_("beløp"))
    ledger_entry = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="payment_allocations",
        verbose_name=_("postering"),
    )
    settlement_line = models.ForeignKey(
        "SettlementLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("oppgjort i"),
        help_text=_("Tomt til beløpet er tatt med i et oppgjør til kreditor."),
    )
    #: The ``payment_reversal`` entry that undid this allocation when the bank reversed the
    #: payment (``case_outstanding_by_component`` gives it back to the same component).
    reversal_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_allocation",
        verbose_name=_("tilbakeføring"),
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("fordeling av innbetaling")
        verbose_name_plural = _("fordelinger av innbetalinger")
        ordering = ["payment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_allocation_amount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.get_component_display()} {self.amount}"


class PaymentReversal(models.Model):
    """Money the bank took back from the client account: a camt.054 reversal (``RvslInd``, or
    a debit reversing a KID credit) or an OCR giro transaction of type 18/20. Matched to the
    payment it reverses (by bank reference, else KID and amount) and then undone by
    :func:`collections_cases.payments.reversals.payment_reverse`; a reversal that matches no
    payment waits here for a case handler (``status`` unmatched). ``external_reference`` is the
    bank's reference of the reversal itself: the same reversal imported twice undoes nothing
    twice."""

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("Venter på saksbehandler")
        REVERSED = "reversed", _("Innbetalingen er tilbakeført")
        DISMISSED = "dismissed", _("Avsluttet uten tilbakeføring")

    source = models.CharField(_("kilde"), max_length=20, choices=Payment.Source.choices)
    external_reference = models.CharField(_("ekstern referanse"), max_length=200, unique=True)
    amount = money_field(_("beløp"))
    reversed_on = models.DateField(_("tilbakeført"))
    kid = models.CharField(_("KID"), max_length=25, blank=True)
    original_reference = models.CharField(
        _("referanse til innbetalingen"),
        max_length=200,
        blank=True,
        help_text=_("Bankens referanse til den opprinnelige innbetalingen, når filen har den."),
    )
    payer_name = models.CharField(_("innbetaler"), max_length=200, blank=True)
    payer_reference = models.CharField(_("referanse/melding"), max_length=500, blank=True)
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("innbetaling"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.UNMATCHED
    )
    note = models.CharField(_("merknad"), max_length=300, blank=True)
    import_batch = models.ForeignKey(
        PaymentImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("import"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("behandlet av"),
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("tilbakeført innbetaling")
        verbose_name_plural = _("tilbakeførte innbetalinger")
        ordering = ["-reversed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_reversal_amount_positive"
            ),
            # A payment is reversed at most once.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(status="reversed"),
                name="uniq_payment_reversal_per_payment",
            ),
        ]
        indexes = [models.Index(fields=["status", "reversed_on"], name="reversal_status_idx")]

    def __str__(self):
        return f"{self.reversed_on:%d.%m.%Y} −{self.amount} ({self.get_status_display()})"

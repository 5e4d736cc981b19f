"""Settlements to creditors: amounts, lines, invoice parts and claims."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase, Invoice
from collections_cases.models.base import (
    money_field,
)
from collections_cases.payments.models import PaymentReversal
from creditors.models import Creditor


class SettlementAmounts(models.Model):
    """The money of a settlement and of each of its case lines (see
    ``collections_cases.settlements.services``): ``collected = principal + interest + fees +
    salaer``; ``payout = principal + interest_to_creditor - commission - vat``."""

    collected = money_field(_("innbetalt"))
    principal = money_field(_("hovedstol"))
    interest = money_field(_("renter"))
    fees = money_field(_("gebyrer"))
    salaer = money_field(_("salær"))
    interest_to_creditor = money_field(_("renter til kreditor"))
    commission = money_field(_("suksessprovisjon"))
    vat = money_field(_("mva. på byråets honorar"))
    payout = money_field(_("utbetales"))

    class Meta:
        abstract = True

    @property
    def costs(self):
        """Fees and salær: the collection costs the debtors paid, kept by the agency."""
        return self.fees + self.salaer

    @property
    def interest_kept(self):
        """Interest the agency keeps (all of it unless the creditor gets the interest)."""
        return self.interest - self.interest_to_creditor

    @property
    def agency_keeps(self):
        """What the agency keeps of ``collected``: fees, salær, interest it keeps, commission
        and VAT (the creditor's share is ``payout``)."""
        return self.collected - self.payout


class Settlement(SettlementAmounts):
    """One payout to a creditor (oppgjør): everything collected on its cases and not yet paid
    out when the run for ``settled_on`` made it. Written once by
    :func:`collections_cases.settlements.services.settle_creditor`; afterwards only the payout
    and bookkeeping status fields change.

    Amounts (all ``>= 0`` except none): ``collected`` = ``principal + interest + fees +
    salaer`` (what the debtors paid that is settled here); ``payout = principal +
    interest_to_creditor - commission - vat``.
    """

    class PayoutStatus(models.TextChoices):
        PENDING = "pending", _("Til utbetaling")
        PAID = "paid", _("Utbetalt")

    class VoucherStatus(models.TextChoices):
        MANUAL = "manual", _("Føres manuelt (ingen bokføring fra oss)")
        PENDING = "pending", _("Venter på sending til PowerOffice Go")
        BLOCKED = "blocked", _("Stoppet – kontooppsettet må rettes")
        SENT = "sent", _("Bilagsforslag i bilagsmottaket")
        POSTED = "posted", _("Bokført i PowerOffice Go")
        FAILED = "failed", _("Feilet – byrået ser på det")

    creditor = models.ForeignKey(
        Creditor, on_delete=models.PROTECT, related_name="settlements", verbose_name=_("kreditor")
    )
    settled_on = models.DateField(_("oppgjørsdato"))
    period_start = models.DateField(_("fra"))
    period_end = models.DateField(_("til"))

    # The creditor's settings when the settlement was made (later changes do not rewrite it).
    bookkeeping_mode = models.CharField(
        _("bokføring"), max_length=20, choices=Creditor.BookkeepingMode.choices
    )
    vat_registered = models.BooleanField(_("mva.-registrert"))
    interest_to = models.CharField(
        _("renter til"), max_length=10, choices=Creditor.InterestTo.choices
    )
    commission_percent = models.DecimalField(
        _("suksessprovisjon (%)"), max_digits=5, decimal_places=2, default=0
    )
    vat_percent = models.DecimalField(_("mva.-sats (%)"), max_digits=5, decimal_places=2)

    #: Open :class:`SettlementClaim` amounts deducted here (payments the bank reversed after
    #: they were paid out): ``payout`` = the lines' payout − ``claims``.
    claims = money_field(_("tilbakeførte innbetalinger trukket"), default=0)
    payout_account = models.CharField(_("utbetales til konto"), max_length=11, blank=True)
    payout_status = models.CharField(
        _("utbetaling"), max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    paid_out_at = models.DateTimeField(_("utbetalt"), null=True, blank=True)
    paid_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utbetalt av"),
    )

    statement_pdf = models.FileField(
        _("oppgjørsoppstilling (PDF)"), upload_to="settlements/%Y/%m/", blank=True
    )

    voucher_status = models.CharField(
        _("bokføring i PowerOffice Go"),
        max_length=10,
        choices=VoucherStatus.choices,
        default=VoucherStatus.PENDING,
    )
    voucher_error = models.TextField(_("melding om bokføringen"), blank=True)
    #: The posting lines by account number (see ``settlements.vouchers.posting_lines``).
    voucher_lines = models.JSONField(_("posteringer"), default=list, blank=True)
    pogo_voucher_id = models.CharField(_("bilags-ID i PowerOffice Go"), max_length=64, blank=True)
    voucher_sent_at = models.DateTimeField(_("bilag sendt"), null=True, blank=True)
    booked_at = models.DateTimeField(
        _("markert som bokført"),
        null=True,
        blank=True,
        help_text=_("Kreditoren (eller regnskapsføreren) har bekreftet at oppgjøret er bokført."),
    )
    created_at = models.DateTimeField(_("opprettet"), default=timezone.now)

    class Meta:
        verbose_name = _("oppgjør")
        verbose_name_plural = _("oppgjør")
        ordering = ["-settled_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "settled_on"], name="uniq_settlement_creditor_date"
            ),
            models.CheckConstraint(condition=Q(payout__gt=0), name="settlement_payout_positive"),
        ]
        indexes = [
            models.Index(fields=["creditor", "-settled_on"], name="settlement_creditor_date_idx"),
            models.Index(fields=["voucher_status"], name="settlement_voucher_status_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.creditor.name}"

    @property
    def number(self) -> str:
        return f"O-{self.settled_on.year}-{self.pk:06d}" if self.pk else ""


class SettlementLine(SettlementAmounts):
    """One case's part of a settlement (same amount fields as :class:`Settlement`)."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("oppgjør")
    )
    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="settlement_lines",
        verbose_name=_("sak"),
    )
    days_overdue = models.IntegerField(
        _("dager forfalt ved registrering"),
        default=0,
        help_text=_("Eldste faktura: dager fra forfall til saken ble registrert."),
    )

    class Meta:
        verbose_name = _("oppgjørslinje")
        verbose_name_plural = _("oppgjørslinjer")
        ordering = ["settlement_id", "case_id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "case"], name="uniq_settlement_line_case")
        ]

    def __str__(self):
        return f"{self.case} {self.payout}"


class SettlementInvoicePart(models.Model):
    """The principal a settlement line pays on one invoice: the voucher credits the customer's
    open item with it (``InvoiceNo``), and the sync recognises PoGo's matched item for it as
    our own posting, not a new direct payment."""

    line = models.ForeignKey(
        SettlementLine,
        on_delete=models.CASCADE,
        related_name="invoice_parts",
        verbose_name=_("oppgjørslinje"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="settlement_parts",
        verbose_name=_("faktura"),
    )
    amount = money_field(_("hovedstol"))

    class Meta:
        verbose_name = _("oppgjort hovedstol per faktura")
        verbose_name_plural = _("oppgjort hovedstol per faktura")
        constraints = [
            models.UniqueConstraint(fields=["line", "invoice"], name="uniq_settlement_part"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_part_positive"),
        ]

    def __str__(self):
        return f"{self.invoice} {self.amount}"


class SettlementClaim(models.Model):
    """The creditor's share of a payment the bank reversed after it was paid out: the agency
    paid the creditor money it no longer has, so it is deducted from the creditor's next
    payout (``deducted_in``) and shown there. The amounts are the reversed payment's part of
    the settlement line it was paid out in, computed the way the line was (same creditor
    settings): ``amount = principal + interest_to_creditor - commission - vat``."""

    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        related_name="settlement_claims",
        verbose_name=_("kreditor"),
    )
    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="settlement_claims",
        verbose_name=_("sak"),
    )
    reversal = models.OneToOneField(
        PaymentReversal,
        on_delete=models.PROTECT,
        related_name="settlement_claim",
        verbose_name=_("tilbakeføring"),
    )
    settled_in = models.ForeignKey(
        SettlementLine,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("utbetalt i"),
    )
    principal = money_field(_("hovedstol"))
    interest_to_creditor = money_field(_("renter til kreditor"))
    commission = money_field(_("suksessprovisjon"))
    vat = money_field(_("mva. på byråets honorar"))
    amount = money_field(_("til trekk"))
    deducted_in = models.ForeignKey(
        Settlement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deducted_claims",
        verbose_name=_("trukket i oppgjør"),
        help_text=_("Tomt til kravet er trukket fra en utbetaling."),
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("krav mot neste utbetaling")
        verbose_name_plural = _("krav mot neste utbetaling")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="settlement_claim_not_zero"),
        ]

    def __str__(self):
        return f"{self.case} {self.amount}"

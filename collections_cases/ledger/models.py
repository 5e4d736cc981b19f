"""The case ledger: append-only entries (the stored totals live on the case)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase, Invoice
from collections_cases.models.base import AppendOnlyModel, money_field
from kravia_web.money import format_nok


class LedgerKind(models.TextChoices):
    PRINCIPAL = "principal", _("Hovedstol")
    INTEREST = "interest", _("Forsinkelsesrente")
    FEE = "fee", _("Gebyr")
    SALAER = "salaer", _("Salær")
    PAYMENT = "payment", _("Innbetaling")
    DIRECT_PAYMENT = "direct_payment", _("Direkte betalt til kreditor")
    CREDIT_NOTE = "credit_note", _("Kreditnota")
    WRITE_OFF = "write_off", _("Avskrivning")
    REDUCTION = "reduction", _("Reduksjon")
    REFUND_DUE = "refund_due", _("Til tilbakebetaling")
    # A payment the bank reversed: its allocation undone (debit, one per component).
    PAYMENT_REVERSAL = "payment_reversal", _("Tilbakeført innbetaling")
    # The refund due of a reversed payment's overpayment: the debtor is no longer owed it
    # (credit, paired with the refund_due debit it cancels).
    REFUND_CANCELLED = "refund_cancelled", _("Tilbakebetaling bortfalt")
    # Interest booked earlier for days whose base a later-known reduction lowered (credit).
    INTEREST_CORRECTION = "interest_correction", _("Rentekorreksjon")


LEDGER_DEBIT_KINDS = (
    LedgerKind.PRINCIPAL,
    LedgerKind.INTEREST,
    LedgerKind.FEE,
    LedgerKind.SALAER,
    LedgerKind.REFUND_DUE,
    LedgerKind.PAYMENT_REVERSAL,
)
LEDGER_CREDIT_KINDS = (
    LedgerKind.PAYMENT,
    LedgerKind.DIRECT_PAYMENT,
    LedgerKind.CREDIT_NOTE,
    LedgerKind.WRITE_OFF,
    LedgerKind.REDUCTION,
    LedgerKind.INTEREST_CORRECTION,
    LedgerKind.REFUND_CANCELLED,
)
LEDGER_COST_KINDS = (LedgerKind.INTEREST, LedgerKind.FEE, LedgerKind.SALAER)


class LedgerEntry(AppendOnlyModel):
    """One line of a case's account. Debits are positive, credits (payments, reductions)
    negative; the case balance is the sum. Corrections are new entries, never edits."""

    Kind = LedgerKind
    DEBIT_KINDS = LEDGER_DEBIT_KINDS
    CREDIT_KINDS = LEDGER_CREDIT_KINDS
    COST_KINDS = LEDGER_COST_KINDS

    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("sak"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("faktura"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    amount = money_field(_("beløp"))
    booked_on = models.DateField(_("bokført"))
    description = models.CharField(_("beskrivelse"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrert av"),
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("postering")
        verbose_name_plural = _("posteringer")
        ordering = ["booked_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=[k.value for k in LEDGER_DEBIT_KINDS], amount__gt=0)
                    | Q(kind__in=[k.value for k in LEDGER_CREDIT_KINDS], amount__lt=0)
                ),
                name="ledger_entry_sign_by_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {format_nok(self.amount)}"

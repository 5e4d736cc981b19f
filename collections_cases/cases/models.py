"""Invoices, collection cases and their timeline.

State changes go through :mod:`collections_cases.cases.services` (a row lock, the transition
table in :mod:`collections_cases.cases.states`, one :class:`CaseEvent`); never set ``status`` by hand.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.models.base import (
    ZERO,
    AppendOnlyModel,
    money_field,
)
from creditors.models import Creditor, Debtor
from kravia_web.money import MONEY_MAX_DIGITS, to_ore


class Invoice(models.Model):
    """A customer invoice, mirrored from PowerOffice Go (OutgoingInvoice) by the sync."""

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="invoices", verbose_name=_("kreditor")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("skyldner")
    )
    pogo_id = models.UUIDField(_("PowerOffice Go-ID"), null=True, blank=True)
    invoice_no = models.PositiveBigIntegerField(_("fakturanummer"))
    voucher_type = models.CharField(_("bilagstype"), max_length=40, blank=True)
    invoice_date = models.DateField(_("fakturadato"))
    due_date = models.DateField(_("forfallsdato"), null=True, blank=True)
    currency = models.CharField(_("valuta"), max_length=3, default="NOK")
    total_amount = money_field(_("fakturabeløp"))
    balance = money_field(_("restbeløp"), help_text=_("Udekket beløp i PowerOffice Go."))
    balance_last_changed = models.DateTimeField(_("restbeløp sist endret"), null=True, blank=True)
    cid = models.CharField(_("KID"), max_length=25, blank=True)
    case = models.ForeignKey(
        "CollectionCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("sak"),
    )

    # PowerOffice Go's own dunning (v1 DebtCollectionInvoice.lastReminder*)
    last_reminder_sent_date = models.DateField(_("siste purring sendt"), null=True, blank=True)
    last_reminder_due_date = models.DateField(_("frist i siste purring"), null=True, blank=True)
    last_reminder_voucher_type = models.CharField(
        _("type siste purring"), max_length=40, blank=True
    )

    pogo_last_changed = models.DateTimeField(
        _("sist endret i PowerOffice Go"), null=True, blank=True
    )
    # The original invoice PDF from PowerOffice Go ("Legg ved originalfaktura"), fetched once
    # (integrations.services.invoice_pdf) and attached to the case's first letter.
    original_pdf = models.FileField(
        _("originalfaktura (PDF)"), upload_to="invoices/%Y/%m/", blank=True
    )
    original_pdf_fetched_at = models.DateTimeField(
        _("originalfaktura hentet"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("endret"), auto_now=True)

    class Meta:
        verbose_name = _("faktura")
        verbose_name_plural = _("fakturaer")
        ordering = ["creditor", "invoice_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "pogo_id"],
                condition=Q(pogo_id__isnull=False),
                name="uniq_invoice_creditor_pogo_id",
            )
        ]
        indexes = [models.Index(fields=["creditor", "due_date"], name="invoice_creditor_due_idx")]

    def __str__(self):
        return _("Faktura %(number)s") % {"number": self.invoice_no}


class CaseNumberSequence(models.Model):
    """The last case number handed out per year; its row is locked while a number is taken."""

    year = models.PositiveIntegerField(_("år"), primary_key=True)
    last_number = models.PositiveIntegerField(_("siste nummer"), default=0)

    class Meta:
        verbose_name = _("saksnummerserie")
        verbose_name_plural = _("saksnummerserier")

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class InOre(models.Func):
    """Its one expression as a Decimal rounded to øre. SQLite sums decimals as floats
    (1000.01 - 0.01 may come back as 999.99999999999); PostgreSQL's numeric is exact already."""

    template = "%(expressions)s"
    output_field = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2)

    def convert_value(self, value, expression, connection):
        return None if value is None else to_ore(value)


#: Kept by the ledger's triggers, never written by Django (``CollectionCase.save``).
LEDGER_TOTAL_FIELDS = ("stored_balance", "stored_principal", "stored_paid")
#: Every field of the case a database trigger keeps (``CollectionCase.save`` leaves them out).
TRIGGER_KEPT_FIELDS = (*LEDGER_TOTAL_FIELDS, "debtor_is_person")


class CaseQuerySet(models.QuerySet):
    def with_balance(self):
        """Annotate ``balance``: the sum of the case's ledger entries (0 without entries)."""
        return self.annotate(balance=InOre(Coalesce(Sum("ledger_entries__amount"), ZERO)))


class CollectionCase(models.Model):
    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Venter godkjenning")
        ACTIVE = "active", _("Pågående")
        PAUSED = "paused", _("På vent")
        DISPUTED = "disputed", _("Omtvistet")
        LEGAL = "legal", _("Rettslig tiltak")
        MONITORING = "monitoring", _("Overvåkning")
        CLOSED = "closed", _("Avsluttet")

    class Stage(models.TextChoices):
        INKASSOVARSEL = "inkassovarsel", _("Inkassovarsel")
        BETALINGSOPPFORDRING = "betalingsoppfordring", _("Betalingsoppfordring")
        VARSEL_RETTSLIG = "varsel_rettslig", _("Varsel om rettslig inndriving")

    class ApprovalKind(models.TextChoices):
        START = "start", _("Start av saken")
        PAYMENT_DEMAND = "payment_demand", _("Betalingsoppfordring")
        LEGAL = "legal", _("Rettslige tiltak")

    class CloseReason(models.TextChoices):
        PAID = "paid", _("Betalt")
        PAID_DIRECTLY = "paid_directly", _("Betalt direkte til kreditor")
        CREDITED = "credited", _("Kreditert")
        WRITTEN_OFF = "written_off", _("Avskrevet")
        WITHDRAWN = "withdrawn", _("Trukket tilbake")
        TIME_BARRED = "time_barred", _("Foreldet")

    class NextAction(models.TextChoices):
        SEND_INKASSOVARSEL = "send_inkassovarsel", _("Sende inkassovarsel")
        SEND_BETALINGSOPPFORDRING = "send_betalingsoppfordring", _("Sende betalingsoppfordring")
        SEND_VARSEL_RETTSLIG = "send_varsel_rettslig", _("Sende varsel om rettslig inndriving")
        REQUEST_LEGAL_APPROVAL = (
            "request_legal_approval",
            _("Be kreditor godkjenne rettslige tiltak"),
        )
        AWAIT_APPROVAL = "await_approval", _("Vente på kreditors godkjenning")
        START_LEGAL = "start_legal", _("Starte rettslig inndriving")
        RESUME = "resume", _("Gjenoppta saken")
        MONITOR = "monitor", _("Kontrollere skyldners betalingsevne")

    creditor = models.ForeignKey(
        Creditor, on_delete=models.PROTECT, related_name="cases", verbose_name=_("kreditor")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="cases", verbose_name=_("skyldner")
    )
    number = models.CharField(_("saksnummer"), max_length=20, unique=True)
    kid = models.CharField(_("KID"), max_length=25, unique=True)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_APPROVAL
    )
    stage = models.CharField(
        _("steg"), max_length=30, choices=Stage.choices, default=Stage.INKASSOVARSEL
    )
    approval_kind = models.CharField(
        _("venter godkjenning av"), max_length=20, choices=ApprovalKind.choices, blank=True
    )
    # Where pause and dispute return to: the status and next action held while on hold.
    held_status = models.CharField(
        _("status før stans"), max_length=20, choices=Status.choices, blank=True
    )
    held_next_action = models.CharField(
        _("neste handling før stans"), max_length=30, choices=NextAction.choices, blank=True
    )
    held_next_action_date = models.DateField(
        _("dato for neste handling før stans"), null=True, blank=True
    )

    pause_reason = models.TextField(_("årsak til pause"), blank=True)
    paused_until = models.DateField(_("på vent til"), null=True, blank=True)
    dispute_reason = models.TextField(_("innsigelse"), blank=True)
    close_reason = models.CharField(
        _("avslutningsårsak"), max_length=20, choices=CloseReason.choices, blank=True
    )
    close_note = models.TextField(_("merknad ved avslutning"), blank=True)
    closed_at = models.DateTimeField(_("avsluttet"), null=True, blank=True)
    legal_approved_at = models.DateTimeField(_("rettslige tiltak godkjent"), null=True, blank=True)

    next_action = models.CharField(
        _("neste handling"), max_length=30, choices=NextAction.choices, blank=True
    )
    next_action_date = models.DateField(_("dato for neste handling"), null=True, blank=True)
    limitation_date = models.DateField(_("foreldelsesdato"), null=True, blank=True)
    # The latest recorded interruption of the limitation period (a part-payment, the
    # debtor's acknowledgement, forliksklage, a request for utlegg): 3 new years from it.
    limitation_interrupted_on = models.DateField(
        _("foreldelse sist avbrutt"), null=True, blank=True
    )

    pogo_case_id = models.UUIDField(_("sak i PowerOffice Go"), null=True, blank=True)
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("endret"), auto_now=True)

    # The ledger's totals, kept by database triggers on the ledger table (migration 0018), so
    # every write path — ``create``, ``bulk_create``, raw SQL — keeps them; Django never
    # writes them (``save`` leaves them out). The Saker list sorts and filters on them at
    # 100 000 cases; the ledger stays the truth (docs/performance.md).
    stored_balance = money_field(_("saldo"), default=Decimal("0"), editable=False)
    stored_principal = money_field(_("hovedstol"), default=Decimal("0"), editable=False)
    stored_paid = money_field(_("innbetalt"), default=Decimal("0"), editable=False)
    # The debtor's ``is_person``, kept by triggers on the case and the debtor (migration 0025,
    # ``cases/counts.py``) so the Saker list's debtor-type filter needs no join of the
    # debtors (116 ms at 100 000 cases, docs/performance.md). Django never writes it.
    debtor_is_person = models.BooleanField(
        _("skyldner er privatperson"), default=False, editable=False
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("inkassosak")
        verbose_name_plural = _("inkassosaker")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_action_date"], name="case_status_next_action_idx"),
            models.Index(fields=["creditor", "status"], name="case_creditor_status_idx"),
            # Saker's default order (next step, then id): a page is an index range, not a
            # sort of all the creditor's cases (docs/performance.md).
            models.Index(
                fields=["creditor", "next_action_date", "id"], name="case_creditor_next_idx"
            ),
            # With the status in the index, a balance filter (with *only open*) counts its
            # hits from the index alone (docs/performance.md).
            models.Index(
                fields=["creditor", "stored_balance", "id"],
                include=["status"],
                name="case_creditor_balance_st_idx",
            ),
            models.Index(fields=["creditor", "created_at", "id"], name="case_creditor_created_idx"),
            models.Index(
                fields=["creditor", "debtor_is_person", "next_action_date", "id"],
                name="case_creditor_kind_next_idx",
            ),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        """An update never writes the ledger totals or ``debtor_is_person``: the triggers
        keep them, and this instance's copy may be older than a write since it was read."""
        if (
            not args
            and not self._state.adding
            and self.pk is not None
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name not in TRIGGER_KEPT_FIELDS
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class CaseCount(models.Model):
    """How many cases a creditor has in each status, kept by triggers on the case table
    (migration 0025, ``cases/counts.py``): the Saker list's hits without counting the
    creditor's cases (an index scan of 100 000 rows per page, docs/performance.md).

    A creditor's counts are spread over ``slot`` rows (the writing database session's
    process id modulo 16 on PostgreSQL, 0 on SQLite), so two transactions writing cases of
    one creditor side by side (two dunning runs) seldom wait for each other's row lock; the
    count of a status is the sum over its slots. ``changes`` goes up by one every time a row
    is written, so the sum of a creditor's ``changes`` is a version that grows with every
    committed change of its counts (``case_counts``)."""

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="+", verbose_name=_("kreditor")
    )
    slot = models.PositiveSmallIntegerField(_("del"))
    status = models.CharField(_("status"), max_length=20, choices=CollectionCase.Status.choices)
    cases = models.IntegerField(_("saker"), default=0)
    changes = models.BigIntegerField(_("endringer"), default=0)

    class Meta:
        verbose_name = _("antall saker")
        verbose_name_plural = _("antall saker")
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "slot", "status"], name="uniq_case_count_slot"
            )
        ]

    def __str__(self):
        return f"{self.creditor_id} {self.status}: {self.cases}"


class CaseEvent(AppendOnlyModel):
    """The case's timeline and audit trail: who did what, when, with which amounts."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opprettet")
        APPROVED = "approved", _("Godkjent")
        PAUSED = "paused", _("Satt på vent")
        RESUMED = "resumed", _("Gjenopptatt")
        DISPUTED = "disputed", _("Omtvistet")
        DISPUTE_RESOLVED = "dispute_resolved", _("Innsigelse avklart")
        LEGAL_APPROVAL_REQUESTED = (
            "legal_approval_requested",
            _("Godkjenning av rettslige tiltak bedt om"),
        )
        LEGAL_APPROVED = "legal_approved", _("Rettslige tiltak godkjent")
        MONITORING = "monitoring", _("Til overvåkning")
        CLOSED = "closed", _("Avsluttet")
        NOTE = "note", _("Notat")
        DIRECT_PAYMENT = "direct_payment", _("Direkte betaling registrert")
        INVOICES_ADDED = "invoices_added", _("Fakturaer lagt til")
        COST_ADDED = "cost_added", _("Kostnad lagt til")
        # Written by the dunning run (collections_cases.dunning.services)
        LETTER = "letter", _("Brev sendt")
        DEMAND_APPROVAL_REQUESTED = (
            "demand_approval_requested",
            _("Betalingsoppfordring venter godkjenning"),
        )
        DUNNING_STEP = "dunning_step", _("Inkassosteg")
        # Written by letter delivery (collections_cases.letters.services)
        LETTER_DELIVERY = "letter_delivery", _("Utsending av brev")
        # Written by payment allocation (collections_cases.payments)
        PAYMENT = "payment", _("Innbetaling fordelt")
        # Written by the settlement run (collections_cases.settlements)
        SETTLEMENT = "settlement", _("Oppgjort til kreditor")
        # Limitation (foreldelse): an interruption recorded, a claim held as time-barred
        LIMITATION = "limitation", _("Foreldelse")
        # A dunning step held back (a rate the tables do not know, a time-barred claim)
        STEP_HELD = "step_held", _("Steg holdt tilbake")
        # A payment the bank reversed (collections_cases.payments)
        PAYMENT_REVERSED = "payment_reversed", _("Innbetaling tilbakeført")
        # A case closed as paid whose payment the bank reversed (services.cases.case_reopen)
        REOPENED = "reopened", _("Gjenåpnet")
        # Min side access codes revoked or issued by a case handler (collections_cases.portal)
        PORTAL_ACCESS = "portal_access", _("Min side-tilgang")

    case = models.ForeignKey(
        CollectionCase, on_delete=models.PROTECT, related_name="events", verbose_name=_("sak")
    )
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utført av"),
    )
    actor_label = models.CharField(_("utført av (tekst)"), max_length=100, blank=True)
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    message = models.TextField(_("melding"))
    data = models.JSONField(_("data"), default=dict, blank=True)
    status_from = models.CharField(
        _("status før"), max_length=20, choices=CollectionCase.Status.choices, blank=True
    )
    status_to = models.CharField(
        _("status etter"), max_length=20, choices=CollectionCase.Status.choices, blank=True
    )

    class Meta:
        verbose_name = _("hendelse")
        verbose_name_plural = _("hendelser")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at_idx")]

    def __str__(self):
        # Shown above each row of the admin's timeline: the Oslo time, written the Norwegian way.
        return f"{timezone.localtime(self.at):%d.%m.%Y %H:%M} {self.get_kind_display()}"

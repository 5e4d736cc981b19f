"""Invoices, collection cases, their ledger and their timeline.

State changes go through :mod:`collections_cases.cases.services` (a row lock, the transition
table in :mod:`collections_cases.cases.states`, one :class:`CaseEvent`); never set ``status`` by hand.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor, Debtor
from kravia_web.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, format_nok, to_ore

ZERO = Value(0, output_field=models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2))


def money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        **kwargs,
    )


class AppendOnlyError(Exception):
    """A row of an append-only table was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be changed")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AppendOnlyModel(models.Model):
    """Rows are written once: ``save()`` of an existing row and ``delete()`` refuse.

    Corrections are new rows (a reversing ledger entry, a new event), so the history stays
    complete — the audit trail the inkasso rules expect.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


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
            models.Index(
                fields=["creditor", "stored_balance", "id"], name="case_creditor_balance_idx"
            ),
            models.Index(fields=["creditor", "created_at", "id"], name="case_creditor_created_idx"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        """An update never writes the ledger totals: the triggers keep them, and this
        instance's copy may be older than an entry written since it was read."""
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
                and field.name not in LEDGER_TOTAL_FIELDS
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


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


class PortalAccessQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(revoked_at__isnull=True)


class PortalAccess(models.Model):
    """One way into Min side for one case (:mod:`collections_cases.portal.access`): the access
    code printed on a letter (or read out by a case handler) and the personal link, a signed
    token over this row's id. Only an HMAC of the code is stored, never the code.

    Valid until revoked: by a case handler, by a re-send of its letter (the new copy gets a
    new code) or when the case gets a newer code and this one is no longer among the newest
    :data:`~collections_cases.portal.access.KEEP_VALID` (a debtor holding one of the last few
    letters can still log in).
    """

    class Source(models.TextChoices):
        LETTER = "letter", _("Brev")
        HANDLER = "handler", _("Saksbehandler")

    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="portal_accesses",
        verbose_name=_("sak"),
    )
    letter = models.ForeignKey(
        Letter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_accesses",
        verbose_name=_("brev"),
    )
    delivery = models.ForeignKey(
        LetterDelivery,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_accesses",
        verbose_name=_("utsending"),
    )
    source = models.CharField(
        _("kilde"), max_length=10, choices=Source.choices, default=Source.LETTER
    )
    salt = models.CharField(_("salt"), max_length=32)
    code_hash = models.CharField(_("kode (HMAC)"), max_length=64)
    created_at = models.DateTimeField(_("laget"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("laget av"),
    )
    last_used_at = models.DateTimeField(_("sist brukt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("stengt"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stengt av"),
    )
    revoke_reason = models.CharField(_("hvorfor stengt"), max_length=300, blank=True)

    objects = PortalAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("Min side-tilgang")
        verbose_name_plural = _("Min side-tilganger")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "revoked_at"], name="portal_access_case_idx"),
        ]

    def __str__(self):
        return f"{self.case} · {self.get_source_display()} {self.created_at:%d.%m.%Y}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


class PrintQueueItem(LetterDelivery):
    """The post deliveries, as the admin's print queue (*utskriftskø*)."""

    class Meta:
        proxy = True
        verbose_name = _("brev i utskriftskø")
        verbose_name_plural = _("utskriftskø")


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

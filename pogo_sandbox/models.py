"""The PowerOffice Go emulator's own data: another company's system, sharing nothing with ours.

Nothing outside ``pogo_sandbox`` may import these models: our code reaches the sandbox over
HTTP only, exactly as it reaches the real PowerOffice Go.
"""

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def _key() -> str:
    return str(uuid.uuid4())


def _access_token() -> str:
    return secrets.token_urlsafe(48)


class GoUser(models.Model):
    """A person who logs in to (sandbox) PowerOffice Go."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    password = models.CharField(max_length=200)  # Django password hash

    def __str__(self):
        return self.email


class Company(models.Model):
    """A PowerOffice Go client (a company with its own books)."""

    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    org_number = models.CharField(max_length=9, unique=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=2, default="NO")
    # Onboarding refuses a company whose integration is blocked (status IntegrationBlocked).
    integration_blocked = models.BooleanField(default=False)

    # Meny → Innstillinger → Purring & inkasso (no API exposes these in the real Go).
    payment_reminder_enabled = models.BooleanField(default=True)
    payment_reminder_days_after_due = models.PositiveSmallIntegerField(default=5)
    payment_reminder_repeat_days = models.PositiveSmallIntegerField(default=5)
    purring_enabled = models.BooleanField(default=False)
    inkassovarsel_enabled = models.BooleanField(default=False)
    reminder_deadline_days = models.PositiveSmallIntegerField(default=14)
    attach_original_invoice = models.BooleanField(default=True)
    auto_transfer_to_agency = models.BooleanField(default=False)

    users = models.ManyToManyField(GoUser, through="CompanyAccess", related_name="companies")

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self):
        return f"{self.name} ({self.org_number})"


class CompanyAccess(models.Model):
    user = models.ForeignKey(GoUser, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    # Only administrators (or holders of Settings → Organization) may onboard integrations.
    is_admin = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="pogo_uniq_company_access")
        ]

    def __str__(self):
        return f"{self.user} → {self.company}"


class Application(models.Model):
    """An integration registered with PowerOffice (our agency is one)."""

    name = models.CharField(max_length=200)
    application_key = models.CharField(max_length=64, unique=True, default=_key)
    subscription_key = models.CharField(max_length=64, unique=True, default=_key)
    # Whitelisted redirect prefix (scheme://host[:port]/path); extra query params are allowed.
    redirect_uri_prefix = models.CharField(max_length=500, blank=True)
    is_debt_collection_agency = models.BooleanField(default=True)

    def __str__(self):
        return self.name


DEFAULT_PRIVILEGES = [
    "Customer_Full",
    "OutgoingInvoice_Read",
    "CustomerLedger_Read",
    "GeneralLedgerAccount_Read",
    "VatCode_Read",
    "JournalEntryVoucher_Full",
    "Voucher_Full",
    "VoucherDocumentation_Read",
    "OrganizationSettings_Read",
    "DebtCollection_Full",
]


class ClientSubscription(models.Model):
    """A company's activation of an application: the client key lives here."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="clients")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="subscriptions")
    client_key = models.CharField(max_length=64, unique=True, default=_key)
    privileges = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # "Inkassobyrå kan opprette nye saker": one agency at a time per company.
    can_create_cases = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "company"], name="pogo_uniq_client_subscription"
            )
        ]

    def __str__(self):
        return f"{self.application} @ {self.company}"


class OnboardingSession(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        SUCCESS = "Success"
        CANCELED = "Canceled"
        CLIENT_NOT_FOUND = "ClientNotFound"
        NO_CLIENT_ACCESS = "NoClientAccess"
        INTEGRATION_BLOCKED = "IntegrationBlocked"

    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    temporary_token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    client_org_no = models.CharField(max_length=9, blank=True)
    redirect_uri = models.URLField(max_length=1000)
    valid_until = models.DateTimeField()
    state = models.CharField(max_length=30, choices=State.choices, default=State.PENDING)
    user = models.ForeignKey(GoUser, null=True, blank=True, on_delete=models.SET_NULL)
    companies = models.ManyToManyField(Company, blank=True)
    onboarding_token = models.CharField(max_length=64, blank=True, db_index=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Onboarding {self.client_org_no or '(alle)'} {self.state}"


class AccessToken(models.Model):
    """A bearer token; v1 tokens come with a single-use refresh token (rotated on use)."""

    class Api(models.TextChoices):
        V1 = "v1"
        V2 = "v2"

    token = models.CharField(max_length=128, unique=True, default=_access_token)
    subscription = models.ForeignKey(ClientSubscription, on_delete=models.CASCADE)
    api = models.CharField(max_length=2, choices=Api.choices)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set in the admin (or by a test) to make PoGo refuse the token before it expires.
    revoked_at = models.DateTimeField(null=True, blank=True)
    refresh_token = models.CharField(max_length=128, unique=True, null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.api} token for {self.subscription}"


class Customer(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="customers")
    number = models.PositiveIntegerField()
    subledger_account_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    is_person = models.BooleanField(default=False)
    organization_number = models.CharField(max_length=20, blank=True)
    email_address = models.EmailField(blank=True)
    invoice_email_address = models.EmailField(blank=True)
    payment_reminder_email_address = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=2, default="NO")
    is_active = models.BooleanField(default=True)
    # Customer card → Purringer
    transfer_to_debt_collection_agency = models.BooleanField(default=True)
    send_payment_reminders = models.BooleanField(default=True)
    do_not_add_late_payment_fees = models.BooleanField(default=False)
    do_not_add_late_payment_interest = models.BooleanField(default=False)
    reminder_delivery_type = models.CharField(max_length=40, default="PdfByEmail")
    notice_of_debt_collection_delivery_type = models.CharField(max_length=40, default="PdfByEmail")
    created_at = models.DateTimeField(default=timezone.now)
    last_changed = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="pogo_uniq_customer_number")
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class OutgoingInvoice(models.Model):
    class DebtCollectionStatus(models.IntegerChoices):
        NONE = 0, "None"
        DRAFT = 1, "Utkast"
        ON_HOLD = 2, "På vent"
        APPROVED = 3, "Godkjent"
        EXPORTED = 4, "Åpne"
        REJECTED = 10, "Avvist"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    invoice_no = models.PositiveIntegerField()
    voucher_no = models.PositiveIntegerField(null=True, blank=True)
    voucher_type = models.CharField(max_length=40, default="OutgoingInvoice")
    voucher_date = models.DateField()
    due_date = models.DateField()
    currency_code = models.CharField(max_length=3, default="NOK")
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    balance_last_changed = models.DateTimeField(default=timezone.now, db_index=True)
    cid = models.CharField(max_length=25, blank=True)
    match_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_changed = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    # The Inkasso menu (v1 InvoiceDebtCollectionStatus)
    debt_collection_status = models.PositiveSmallIntegerField(
        choices=DebtCollectionStatus.choices, default=DebtCollectionStatus.NONE
    )
    debt_collection_status_changed = models.DateTimeField(null=True, blank=True)
    debt_case = models.ForeignKey(
        "DebtCollectionCase",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    # Reminders Go itself sent (v1 DebtCollectionInvoice.lastReminder*)
    last_reminder_sent_date = models.DateField(null=True, blank=True)
    last_reminder_due_date = models.DateField(null=True, blank=True)
    last_reminder_voucher_type = models.CharField(max_length=60, blank=True)
    last_reminder_email_address = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "invoice_no"], name="pogo_uniq_invoice_no")
        ]
        indexes = [models.Index(fields=["company", "debt_collection_status"])]

    def __str__(self):
        return f"Faktura {self.invoice_no}"


class LedgerEntry(models.Model):
    """A customer-ledger entry: the invoice itself, payments, credit notes, write-offs."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ledger_entries")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ledger_entries")
    invoice = models.ForeignKey(
        OutgoingInvoice,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ledger_entries",
    )
    voucher_type = models.CharField(max_length=60)
    voucher_no = models.PositiveIntegerField()
    voucher_date = models.DateField()
    invoice_no = models.PositiveIntegerField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)  # signed: invoice +, payment −
    currency_code = models.CharField(max_length=3, default="NOK")
    match_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    cid = models.CharField(max_length=25, blank=True)
    is_write_off = models.BooleanField(default=False)
    due_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_changed = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.voucher_type} {self.voucher_no} {self.amount}"


class GeneralLedgerAccount(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="accounts")
    account_no = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    vat_code = models.CharField(max_length=10, blank=True)
    last_changed = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "account_no"], name="pogo_uniq_account_no")
        ]

    def __str__(self):
        return f"{self.account_no} {self.name}"


class VatCode(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="vat_codes")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=200, blank=True)
    rate = models.DecimalField(max_digits=5, decimal_places=4)

    def __str__(self):
        return f"{self.code} {self.name}"


class DebtCollectionCase(models.Model):
    """A case as Go's Inkasso → Åpne shows it, created and updated by the agency (v1)."""

    class Status(models.IntegerChoices):
        ACTIVE = 0, "Active"
        CLOSED = 10, "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="debt_cases")
    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    code = models.CharField(max_length=50)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE)
    external_case_url = models.URLField(max_length=1000, blank=True)
    status_text = models.TextField(blank=True)
    balance_agency = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_changed = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"Sak {self.code}"


class JournalVoucher(models.Model):
    """A voucher received from an integration: a proposal (inbox) or a posted voucher."""

    class Kind(models.TextChoices):
        BANK = "BankJournal"
        MANUAL = "ManualJournal"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="vouchers")
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_posted = models.BooleanField(default=False)
    voucher_no = models.PositiveIntegerField(null=True, blank=True)
    voucher_date = models.DateField()
    currency_code = models.CharField(max_length=3, default="NOK")
    description = models.CharField(max_length=500, blank=True)
    comment = models.TextField(blank=True)
    external_import_reference = models.CharField(max_length=200, blank=True)
    lines = models.JSONField(default=list)  # as received, PascalCase
    created_at = models.DateTimeField(default=timezone.now)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_import_reference"],
                condition=~models.Q(external_import_reference=""),
                name="pogo_uniq_external_import_reference",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.voucher_no or '(ikke bokført)'}"


class JournalVoucherPage(models.Model):
    """A file attached to a voucher (``POST /JournalEntryVouchers/{id}/VoucherPages``)."""

    voucher = models.ForeignKey(JournalVoucher, on_delete=models.CASCADE, related_name="pages")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["voucher_id", "pk"]

    def __str__(self):
        return self.filename


class FaultRule(models.Model):
    """Fault injection for tests and demos: make an endpoint fail or slow down on purpose."""

    class Fault(models.TextChoices):
        HTTP_500 = "500"
        HTTP_503 = "503"
        HTTP_429 = "429"
        TIMEOUT = "timeout"
        DROP = "drop"

    path_prefix = models.CharField(
        max_length=200, blank=True, help_text="e.g. /pogo/v2/Customers; blank = every API path"
    )
    error_rate = models.DecimalField(max_digits=4, decimal_places=3, default=0)
    faults = models.JSONField(default=list, help_text='any of "500","503","429","timeout","drop"')
    latency_ms = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return f"{self.path_prefix or '*'}: {self.faults} @ {self.error_rate}"

    def clean(self):
        if not isinstance(self.faults, list) or set(map(str, self.faults)) - set(self.Fault.values):
            raise ValidationError({"faults": f"A list of: {', '.join(self.Fault.values)}"})
        if self.error_rate is not None and not 0 <= self.error_rate <= 1:
            raise ValidationError({"error_rate": "Between 0 and 1."})


class RequestCount(models.Model):
    """Requests per subscription key per second: the 10/s limit and what tests read back."""

    subscription_key = models.CharField(max_length=64)
    second = models.BigIntegerField()  # unix time, whole seconds
    count = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription_key", "second"], name="pogo_uniq_request_count"
            )
        ]

    def __str__(self):
        return f"{self.subscription_key} {self.second}: {self.count}"

"""The PowerOffice Go connection of a creditor and the onboarding attempts that lead to it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kravia_web.crypto import EncryptedTextField


class PowerOfficeConnection(models.Model):
    """One per creditor. Disconnecting removes the client key and keeps the row as history."""

    creditor = models.OneToOneField(
        "creditors.Creditor",
        on_delete=models.CASCADE,
        related_name="poweroffice_connection",
        verbose_name=_("kreditor"),
    )
    # The secret PoGo issued for this company: encrypted at rest, never shown or logged.
    client_key = EncryptedTextField(_("klientnøkkel"), blank=True, default="", editable=False)
    client_name = models.CharField(_("navn i PowerOffice Go"), max_length=200, blank=True)
    client_org_number = models.CharField(_("organisasjonsnummer i PowerOffice Go"), max_length=20)
    onboarded_by_email = models.EmailField(_("aktivert av (Go-bruker)"), blank=True)

    connected_at = models.DateTimeField(_("tilkoblet"), null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tilkoblet av"),
    )
    disconnected_at = models.DateTimeField(_("frakoblet"), null=True, blank=True)
    disconnected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frakoblet av"),
    )

    valid_privileges = models.JSONField(_("gyldige rettigheter"), default=list, blank=True)
    invalid_privileges = models.JSONField(_("manglende rettigheter"), default=list, blank=True)
    # OrganizationSettings as PoGo returned it (snake_case keys; see services.connections).
    company_info = models.JSONField(_("selskapsinformasjon"), default=dict, blank=True)
    # {"1920": {"name": "Bankinnskudd", "is_active": true}, ...}
    chart_of_accounts = models.JSONField(_("kontoplan"), default=dict, blank=True)
    company_info_fetched_at = models.DateTimeField(
        _("selskapsinformasjon hentet"), null=True, blank=True
    )

    # v1 ``IsActiveDebtCollection`` ("Inkassobyrå kan opprette nye saker"): false while another
    # agency holds the company in Go; None until first asked. Read at connect and by each sync.
    debt_collection_active = models.BooleanField(
        _("kan opprette inkassosaker i Go"), null=True, blank=True
    )
    debt_collection_checked_at = models.DateTimeField(
        _("inkassotilgang sjekket"), null=True, blank=True
    )

    last_sync_at = models.DateTimeField(_("siste synkronisering"), null=True, blank=True)
    last_error = models.TextField(_("siste feil"), blank=True)
    last_error_at = models.DateTimeField(_("tidspunkt for siste feil"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("PowerOffice Go-tilkobling")
        verbose_name_plural = _("PowerOffice Go-tilkoblinger")

    def __str__(self):
        return f"PowerOffice Go – {self.creditor_id} ({self.client_org_number})"

    @property
    def is_connected(self) -> bool:
        return bool(self.client_key) and self.disconnected_at is None

    @property
    def other_agency_active(self) -> bool:
        """Go said another agency holds the company: no new cases until that changes."""
        return self.debt_collection_active is False

    def account_check(self, creditor=None) -> list[dict]:
        """Each mapped account of the creditor against PoGo's chart of accounts.

        Returns one row per account field: ``field``, ``label``, ``account_no``, ``status``
        (``ok`` / ``missing`` / ``inactive`` / ``unknown`` when no chart has been fetched) and
        the account's ``pogo_name``.
        """
        from creditors.models import ACCOUNT_FIELDS

        creditor = creditor or self.creditor
        have_chart = bool(self.chart_of_accounts)
        rows = []
        for name in ACCOUNT_FIELDS:
            account_no = getattr(creditor, name)
            entry = self.chart_of_accounts.get(str(account_no))
            if not have_chart:
                status = "unknown"
            elif entry is None:
                status = "missing"
            elif not entry.get("is_active", True):
                status = "inactive"
            else:
                status = "ok"
            rows.append(
                {
                    "field": name,
                    "label": creditor._meta.get_field(name).verbose_name,
                    "account_no": account_no,
                    "status": status,
                    "pogo_name": (entry or {}).get("name", ""),
                }
            )
        return rows

    @property
    def flagged_accounts(self) -> list[dict]:
        return [row for row in self.account_check() if row["status"] in ("missing", "inactive")]

    @property
    def blocked_settlements(self):
        """Settlements whose voucher is stopped until the creditor fixes an account or
        customer (their ``voucher_error`` says what to do)."""
        from collections_cases.models import Settlement

        return Settlement.objects.filter(
            creditor_id=self.creditor_id, voucher_status=Settlement.VoucherStatus.BLOCKED
        ).order_by("-settled_on", "-pk")


class PowerOfficeConnectionEvent(models.Model):
    """What happened to a connection and who did it: the history kept after disconnecting."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", _("Tilkoblet")
        REFRESHED = "refreshed", _("Oppdatert fra PowerOffice Go")
        REFRESH_FAILED = "refresh_failed", _("Oppdatering feilet")
        DISCONNECTED = "disconnected", _("Frakoblet")
        AGENCY_INACTIVE = "agency_inactive", _("Et annet inkassobyrå ble aktivt i Go")
        AGENCY_ACTIVE = "agency_active", _("Vi kan igjen opprette saker i Go")

    connection = models.ForeignKey(
        PowerOfficeConnection, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("hendelse"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(_("detaljer"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tilkoblingshendelse")
        verbose_name_plural = _("tilkoblingshendelser")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class OnboardingAttempt(models.Model):
    """One "Gi tilgang" round trip to PowerOffice Go.

    The ``state`` carried in the redirect URI is stored only as a hash; the attempt is bound to
    the browser session that started it (a hash of a random secret kept in that session), may
    be used once, and expires.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Venter")
        CONNECTED = "connected", _("Tilkoblet")
        CANCELED = "canceled", _("Avbrutt i PowerOffice Go")
        CLIENT_NOT_FOUND = "client_not_found", _("Fant ikke selskapet")
        NO_CLIENT_ACCESS = "no_client_access", _("Mangler tilgang til selskapet")
        INTEGRATION_BLOCKED = "integration_blocked", _("Integrasjonen er sperret")
        UNKNOWN_STATUS = "unknown_status", _("Ukjent svar fra PowerOffice Go")
        INITIATE_FAILED = "initiate_failed", _("Kunne ikke starte")
        FINALIZE_FAILED = "finalize_failed", _("Kunne ikke fullføre")
        ORG_NUMBER_MISMATCH = "org_number_mismatch", _("Feil organisasjonsnummer")
        NOTHING_CONNECTED = "nothing_connected", _("Ingenting ble koblet til")

    state_hash = models.CharField(max_length=64, unique=True, editable=False)
    session_binding_hash = models.CharField(max_length=64, editable=False)
    creditor = models.ForeignKey(
        "creditors.Creditor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="poweroffice_onboarding_attempts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_org_number = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(
        max_length=30, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )
    # What PoGo said (status, error type); never a token or key.
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tilkoblingsforsøk")
        verbose_name_plural = pgettext_lazy("flertall", "tilkoblingsforsøk")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_outcome_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


# --- Sync with PowerOffice Go: runs, cursors, outbox, matched items -------------------------


class SyncRun(models.Model):
    """One run of :func:`integrations.services.sync.sync_connection`: what it did and what it
    skipped (``errors``: one ``{"resource", "record", "reason"}`` per skipped record)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Kjører")
        OK = "ok", _("OK")
        PARTIAL = "partial", _("Delvis (noe ble hoppet over)")
        FAILED = "failed", _("Feilet")

    connection = models.ForeignKey(
        PowerOfficeConnection,
        on_delete=models.CASCADE,
        related_name="sync_runs",
        verbose_name=_("tilkobling"),
    )
    started_at = models.DateTimeField(_("startet"), default=timezone.now)
    finished_at = models.DateTimeField(_("ferdig"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    # {"customers": {"fetched": 3, "created": 1, "updated": 1, "skipped": 1}, ...}
    counts = models.JSONField(_("antall"), default=dict, blank=True)
    errors = models.JSONField(_("feil og overhoppede poster"), default=list, blank=True)
    request_count = models.PositiveIntegerField(_("forespørsler til PowerOffice Go"), default=0)
    duration = models.DurationField(_("varighet"), null=True, blank=True)

    class Meta:
        verbose_name = _("synkronisering")
        verbose_name_plural = _("synkroniseringer")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # The database's lock against two syncs of one connection at a time (any worker,
            # any process, SQLite too); a run left *running* by a dead worker goes stale.
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status="running"),
                name="uniq_sync_run_running_per_connection",
            )
        ]

    def __str__(self):
        return f"{self.connection.creditor_id} {self.started_at:%Y-%m-%d %H:%M:%S}"


class SyncCursor(models.Model):
    """How far a resource of one connection has been read: the next read asks PoGo for what
    changed after ``value`` (see :func:`integrations.services.cursors.read_started`)."""

    class Resource(models.TextChoices):
        CUSTOMERS = "customers", _("Kunder")
        INVOICES = "invoices", _("Fakturaer")
        MATCHED_ITEMS = "matched_items", _("Avstemte poster")
        # Not a change cursor: when the whole chart was last read (see sync_accounts).
        CHART_OF_ACCOUNTS = "accounts", _("Kontoplan")

    connection = models.ForeignKey(
        PowerOfficeConnection,
        on_delete=models.CASCADE,
        related_name="sync_cursors",
        verbose_name=_("tilkobling"),
    )
    resource = models.CharField(_("ressurs"), max_length=20, choices=Resource.choices)
    value = models.DateTimeField(_("lest til"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("synkroniseringsmarkør")
        verbose_name_plural = _("synkroniseringsmarkører")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "resource"], name="uniq_sync_cursor_connection_resource"
            )
        ]

    def __str__(self):
        return f"{self.resource}: {self.value:%Y-%m-%d %H:%M:%S}"


class OutboxMessage(models.Model):
    """A call we owe PowerOffice Go (create a case, add invoices, push a status, send a
    settlement's voucher).

    Written in the same transaction as the change it reports; delivered later by
    :func:`integrations.services.outbox.deliver_outbox`, retried with backoff, and never sent
    twice for the same ``dedupe_key``.
    """

    class Kind(models.TextChoices):
        CREATE_CASE = "create_case", _("Opprett sak")
        ADD_INVOICES = "add_invoices", _("Legg til fakturaer")
        UPDATE_STATUS = "update_status", _("Oppdater status")
        SETTLEMENT_VOUCHER = "settlement_voucher", _("Bilag for oppgjør")

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Feilet")
        SUPERSEDED = "superseded", _("Erstattet av nyere")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    creditor = models.ForeignKey(
        "creditors.Creditor",
        on_delete=models.CASCADE,
        related_name="poweroffice_outbox",
        verbose_name=_("kreditor"),
    )
    case = models.ForeignKey(
        "collections_cases.CollectionCase",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="poweroffice_outbox",
        verbose_name=_("sak"),
    )
    settlement = models.ForeignKey(
        "collections_cases.Settlement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="poweroffice_outbox",
        verbose_name=_("oppgjør"),
    )
    payload = models.JSONField(_("innhold"), default=dict, blank=True)
    dedupe_key = models.CharField(_("nøkkel"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("forsøk"), default=0)
    next_attempt_at = models.DateTimeField(_("neste forsøk"), default=timezone.now)
    last_error = models.TextField(_("siste feil"), blank=True)
    created_at = models.DateTimeField(_("opprettet"), default=timezone.now)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)

    class Meta:
        verbose_name = _("utgående melding")
        verbose_name_plural = _("utgående meldinger")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_next_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class PogoInvoiceState(models.Model):
    """What the sync knows about an invoice beyond the mirror itself: PoGo's ``MatchId`` (ties
    payments, credit notes and write-offs to the invoice) and when the creditor released it
    for collection in Go (Inkasso → Godkjent)."""

    invoice = models.OneToOneField(
        "collections_cases.Invoice",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pogo_state",
        verbose_name=_("faktura"),
    )
    creditor = models.ForeignKey(
        "creditors.Creditor", on_delete=models.CASCADE, related_name="+", verbose_name=_("kreditor")
    )
    match_id = models.BigIntegerField(_("avstemmings-ID i PowerOffice Go"), null=True, blank=True)
    released_at = models.DateTimeField(_("overført til inkasso i Go"), null=True, blank=True)

    class Meta:
        verbose_name = _("fakturastatus i PowerOffice Go")
        verbose_name_plural = _("fakturastatuser i PowerOffice Go")
        indexes = [models.Index(fields=["creditor", "match_id"], name="pogo_invoice_match_idx")]

    def __str__(self):
        return f"{self.invoice_id} ({self.match_id})"


class MatchedItem(models.Model):
    """A payment, credit note or write-off PoGo matched to one of our case invoices, recorded
    once (unique per creditor and PoGo id) so running the sync again changes nothing."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Ført på saken")
        IGNORED = "ignored", _("Ingenting å redusere")
        UNMATCHED = "unmatched", _("Fant ingen sak")
        # Our settlement voucher, posted in Go: the money was already booked as the agency's
        # payment, so nothing is booked again.
        OWN_SETTLEMENT = "own_settlement", _("Vårt oppgjørsbilag")

    creditor = models.ForeignKey(
        "creditors.Creditor", on_delete=models.CASCADE, related_name="+", verbose_name=_("kreditor")
    )
    pogo_id = models.BigIntegerField(_("PowerOffice Go-ID"))
    match_id = models.BigIntegerField(_("avstemmings-ID"), null=True, blank=True)
    voucher_type = models.CharField(_("bilagstype"), max_length=60, blank=True)
    voucher_no = models.BigIntegerField(_("bilagsnummer"), null=True, blank=True)
    voucher_date = models.DateField(_("bilagsdato"), null=True, blank=True)
    amount = models.DecimalField(_("beløp"), max_digits=14, decimal_places=2)
    is_write_off = models.BooleanField(_("avskrevet"), default=False)
    invoice = models.ForeignKey(
        "collections_cases.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("faktura"),
    )
    case = models.ForeignKey(
        "collections_cases.CollectionCase",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sak"),
    )
    outcome = models.CharField(_("resultat"), max_length=20, choices=Outcome.choices)
    settlement_part = models.OneToOneField(
        "collections_cases.SettlementInvoicePart",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pogo_matched_item",
        verbose_name=_("oppgjort hovedstol"),
        help_text=_("Oppgjøret hvis bilag PowerOffice Go meldte tilbake med denne posten."),
    )
    applied_amount = models.DecimalField(
        _("ført beløp"), max_digits=14, decimal_places=2, default=0
    )
    created_at = models.DateTimeField(_("registrert"), default=timezone.now)

    class Meta:
        verbose_name = _("avstemt post")
        verbose_name_plural = _("avstemte poster")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "pogo_id"], name="uniq_matched_item_creditor_pogo_id"
            )
        ]

    def __str__(self):
        return f"{self.voucher_type} {self.amount}"

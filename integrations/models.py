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


class PowerOfficeConnectionEvent(models.Model):
    """What happened to a connection and who did it: the history kept after disconnecting."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", _("Tilkoblet")
        REFRESHED = "refreshed", _("Oppdatert fra PowerOffice Go")
        REFRESH_FAILED = "refresh_failed", _("Oppdatering feilet")
        DISCONNECTED = "disconnected", _("Frakoblet")

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

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from creditors.validators import validate_bank_account, validate_org_number


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("E-mail is required")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        """The login: ``Ola@Example.no`` finds ``ola@example.no`` (unique on the lower-cased
        address, so at most one)."""
        return self.alias(email_lower=Lower("email")).get(email_lower=(username or "").lower())


class User(AbstractUser):
    """A Kundeweb user (creditor, accountant) or agency staff; logs in with e-mail."""

    username = None
    email = models.EmailField(_("e-post"), unique=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("bruker")
        verbose_name_plural = _("brukere")
        constraints = [
            # One user per address whatever its case: "Ola@Example.no" is "ola@example.no".
            models.UniqueConstraint(
                Lower("email"),
                name="creditors_user_email_lower_unique",
                violation_error_message=_(
                    "Det finnes allerede en bruker med denne e-postadressen."
                ),
            )
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = (self.email or "").lower()


def _account_field(verbose_name, default, help_text):
    return models.PositiveIntegerField(
        verbose_name,
        default=default,
        validators=[MinValueValidator(1000), MaxValueValidator(9999)],
        help_text=help_text,
    )


class Creditor(models.Model):
    """The company that owns the claims: a PowerOffice Go client of the agency."""

    class BookkeepingMode(models.TextChoices):
        UNPOSTED = "unposted", _("Ikke-bokførte bilag (bilagsforslag i bilagsmottaket)")
        POSTED = "posted", _("Bokførte bilag")
        NONE = "none", _("Ingen bokføring")

    class SettlementFrequency(models.TextChoices):
        DAILY = "daily", _("Daglig (hver virkedag)")
        WEEKLY = "weekly", _("Ukentlig")

    class InterestTo(models.TextChoices):
        AGENCY = "agency", _("Byrået (inngår i vårt vederlag)")
        CREDITOR = "creditor", _("Meg (utbetales sammen med hovedstolen)")

    class EntryStep(models.TextChoices):
        INKASSOVARSEL = "inkassovarsel", _("Inkassovarsel")
        BETALINGSOPPFORDRING = "betalingsoppfordring", _("Betalingsoppfordring")

    # Company information
    class VerificationMethod(models.TextChoices):
        POWEROFFICE = "poweroffice", _("PowerOffice Go-tilkobling (samme organisasjonsnummer)")
        CASE_HANDLER = "case_handler", _("Godkjent av saksbehandler")

    # Unique only among *verified* creditors (``uniq_creditor_verified_org_number``): anyone
    # may apply for an organisation number; the PowerOffice Go connection or a case handler
    # decides which applicant is the company (``creditors.services.creditor_verify``).
    org_number = models.CharField(
        _("organisasjonsnummer"), max_length=9, db_index=True, validators=[validate_org_number]
    )
    name = models.CharField(_("navn"), max_length=200)
    address_line = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("postnummer"), max_length=10, blank=True)
    postal_city = models.CharField(_("poststed"), max_length=100, blank=True)
    email = models.EmailField(
        _("primær e-post"),
        blank=True,
        help_text=_("Den vi kontakter underveis i inkassoprosessen."),
    )
    bank_account = models.CharField(
        _("kontonummer for utbetaling"),
        max_length=11,
        blank=True,
        validators=[validate_bank_account],
        help_text=_("Oppgjør utbetales hit. 11 siffer."),
    )
    vat_registered = models.BooleanField(
        _("registrert i Merverdiavgiftsregisteret"),
        default=True,
        help_text=_(
            "Avgjør hvilken salærsats som gjelder (tabell A eller B) og om mva. på vårt honorar "
            "trekkes fra utbetalingen."
        ),
    )

    # Bookkeeping
    bookkeeping_mode = models.CharField(
        _("bokføring"),
        max_length=20,
        choices=BookkeepingMode.choices,
        default=BookkeepingMode.UNPOSTED,
        help_text=_(
            "Vi anbefaler ikke-bokførte bilag: du får et bilagsforslag i PowerOffice Go som er "
            "lett å kontrollere og postere i bilagsmottaket."
        ),
    )

    # Settlement (oppgjør)
    settlement_frequency = models.CharField(
        _("oppgjørsfrekvens"),
        max_length=10,
        choices=SettlementFrequency.choices,
        default=SettlementFrequency.WEEKLY,
        help_text=_(
            "Hvor ofte innkrevde beløp betales ut til deg. Ukentlige oppgjør lages på "
            "ukedagen byrået har valgt."
        ),
    )
    interest_to = models.CharField(
        _("forsinkelsesrenter går til"),
        max_length=10,
        choices=InterestTo.choices,
        default=InterestTo.AGENCY,
        help_text=_(
            "Som hos de fleste byråer med gratis inkasso beholder byrået rentene. Velger du "
            "selv å få rentene, føres de som renteinntekt i oppgjøret."
        ),
    )
    success_commission_percent = models.DecimalField(
        _("suksessprovisjon (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text=_(
            "Prosent av innkrevd hovedstol for fakturaer som var mer enn et visst antall dager "
            "forfalt da saken ble registrert. 0 = ingen provisjon."
        ),
    )
    success_commission_min_days_overdue = models.PositiveIntegerField(
        _("provisjon når fakturaen er forfalt mer enn (dager)"),
        default=90,
        validators=[MaxValueValidator(3650)],
    )

    # Accounts (Norwegian standard chart of accounts, NS 4102)
    account_bank = _account_field(_("bankkonto"), 1920, _("Bankinnskudd – utbetalingen føres her."))
    account_receivables = _account_field(
        _("kundefordringer"), 1500, _("Kundefordringer – lukker kundens åpne post.")
    )
    account_collection_cost = _account_field(
        _("inkassokostnad"), 7770, _("Kostnad for inkassobyråets provisjon og gebyrer.")
    )
    account_input_vat = _account_field(
        _("inngående mva."), 2710, _("Inngående merverdiavgift på byråets honorar.")
    )
    account_interest_income = _account_field(
        _("renteinntekter"), 8050, _("Forsinkelsesrenter som utbetales til deg.")
    )
    account_loss = _account_field(
        _("tap på fordringer"), 7830, _("Konstaterte tap når en sak avskrives.")
    )

    # Manual approval
    approve_cases_before_start = models.BooleanField(
        _("Jeg ønsker å godkjenne alle inkassosaker før start"),
        default=False,
        help_text=_(
            "Bør være av med PowerOffice Go: du godkjenner allerede fakturaene i Inkasso-menyen "
            "i Go, og den godkjenningen overstyrer denne."
        ),
    )
    approve_payment_demands = models.BooleanField(
        _("Jeg ønsker å godkjenne alle betalingsoppfordringer før utsendelse"),
        default=False,
        help_text=_(
            "Bør være av med PowerOffice Go: ellers stopper saken opp til du godkjenner hver "
            "betalingsoppfordring, og skyldner får mer tid uten at noe skjer."
        ),
    )

    # Automation
    auto_start_released_invoices = models.BooleanField(
        _("Start saker automatisk for fakturaer som er overført fra PowerOffice Go"),
        default=True,
        help_text=_(
            "Fakturaer du har godkjent for inkasso i Go blir saker ved neste synkronisering. "
            "Slå av for å starte hver sak selv fra «Klar for inkasso»."
        ),
    )
    entry_step = models.CharField(
        _("første steg"),
        max_length=30,
        choices=EntryStep.choices,
        default=EntryStep.INKASSOVARSEL,
        help_text=_(
            "Inkassovarsel er lovens første steg (14 dagers frist). Velg betalingsoppfordring "
            "bare når skyldner allerede har fått et inkassovarsel fra deg."
        ),
    )

    # Letters
    attach_original_invoice = models.BooleanField(
        _("Legg ved originalfaktura"),
        default=True,
        help_text=_(
            "Fakturaen fra PowerOffice Go legges ved det første brevet til skyldner. Vi "
            "anbefaler det: skyldner ser straks hva kravet gjelder."
        ),
    )

    # Notifications to the primary e-mail
    class NotificationFrequency(models.TextChoices):
        IMMEDIATE = "immediate", _("Straks, én e-post per hendelse")
        DAILY = "daily", _("Én samlet e-post per dag")
        OFF = "off", _("Ingen e-post (se «Trenger deg» på Oversikt)")

    notification_frequency = models.CharField(
        _("Varsler på e-post"),
        max_length=10,
        choices=NotificationFrequency.choices,
        default=NotificationFrequency.DAILY,
        help_text=_(
            "Saker som venter på deg samles i én e-post om morgenen, med lenke til «Trenger "
            "deg». Gjelder varslene under; den ukentlige oppsummeringen har sin egen bryter."
        ),
    )
    notify_awaiting_approval = models.BooleanField(
        _("Varsle meg om saker som venter på godkjenning"), default=True
    )
    notify_disputes = models.BooleanField(
        _("Varsle meg når en skyldner bestrider et krav"), default=True
    )
    notify_legal_requests = models.BooleanField(
        _("Varsle meg når en sak trenger godkjenning av rettslige tiltak"), default=True
    )
    notify_weekly_summary = models.BooleanField(
        _("Send meg en ukentlig oppsummering"),
        default=True,
        help_text=_("Antall saker og beløp: nye, innbetalt og utbetalt siste uke."),
    )

    # Verification: until ``verified_at`` is set no letter, e-mail or cost reaches a debtor of
    # this creditor and no payout is made (docs/kundeweb.md, "Verifisering").
    verified_at = models.DateTimeField(_("verifisert"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("verifisert av"),
    )
    verification_method = models.CharField(
        _("verifisert ved"),
        max_length=20,
        choices=VerificationMethod.choices,
        blank=True,
        editable=False,
    )

    # The last change of ``bank_account``: every owner is e-mailed, and the payouts wait until
    # ``payout_hold_until`` (inclusive) unless another owner confirms the new account.
    payout_account_changed_at = models.DateTimeField(
        _("kontonummer endret"), null=True, blank=True, editable=False
    )
    payout_account_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("kontonummer endret av"),
    )
    payout_hold_until = models.DateField(
        _("utbetalinger holdes tilbake til og med"), null=True, blank=True, editable=False
    )
    payout_change_confirmed_at = models.DateTimeField(
        _("nytt kontonummer bekreftet"), null=True, blank=True, editable=False
    )
    payout_change_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("nytt kontonummer bekreftet av"),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="creditors"
    )

    class Meta:
        verbose_name = _("kreditor")
        verbose_name_plural = _("kreditorer")
        ordering = ["name"]
        constraints = [
            # Many applicants may claim an organisation number; only one can be verified.
            models.UniqueConstraint(
                fields=["org_number"],
                condition=models.Q(verified_at__isnull=False),
                name="uniq_creditor_verified_org_number",
                violation_error_message=_(
                    "Organisasjonsnummeret er allerede verifisert for en annen kreditor."
                ),
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.org_number})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def payout_hold_active(self, on=None) -> bool:
        """Whether payouts wait on ``on`` (default today) for a changed payout account."""
        if self.payout_hold_until is None or self.payout_change_confirmed_at is not None:
            return False
        if on is None:
            from django.utils import timezone

            on = timezone.localdate()
        return on <= self.payout_hold_until

    @property
    def account_mapping(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ACCOUNT_FIELDS}


ACCOUNT_FIELDS = (
    "account_bank",
    "account_receivables",
    "account_collection_cost",
    "account_input_vat",
    "account_interest_income",
    "account_loss",
)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Eier")
        MEMBER = "member", _("Medlem")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    creditor = models.ForeignKey(Creditor, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rolle"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "creditor"], name="uniq_membership_user_creditor"
            )
        ]

    def __str__(self):
        return f"{self.user} – {self.creditor} ({self.get_role_display()})"


class Debtor(models.Model):
    """The creditor's customer: a mirror of PowerOffice Go's Customer, filled by the sync.

    A debtor created by hand (not from PowerOffice Go) has no ``pogo_id``.

    Its services, pages, form and API live with the cases (``collections_cases/debtors/``);
    the model stays here (issue 18 point 3): moving it to the case app by a state-only
    migration would also move its app label, so the admin URLs, the permissions
    (``creditors.*_debtor``) and the content type would change, and the migrations of two
    apps would have to land together. ``creditors`` itself does not import the case app.
    """

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="debtors", verbose_name=_("kreditor")
    )
    pogo_id = models.BigIntegerField(_("PowerOffice Go-ID"), null=True, blank=True)
    customer_number = models.PositiveBigIntegerField(_("kundenummer"), null=True, blank=True)
    name = models.CharField(_("navn"), max_length=200)
    is_person = models.BooleanField(
        _("privatperson"),
        default=False,
        help_text=_("Forbruker. Ellers er skyldneren en næringsdrivende."),
    )
    org_number = models.CharField(_("organisasjonsnummer"), max_length=20, blank=True)

    # Contact
    email = models.EmailField(_("e-post"), blank=True)
    reminder_email = models.EmailField(_("e-post for purringer"), blank=True)
    phone = models.CharField(_("telefon"), max_length=50, blank=True)
    address_line = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("postnummer"), max_length=10, blank=True)
    postal_city = models.CharField(_("poststed"), max_length=100, blank=True)
    country_code = models.CharField(_("land"), max_length=2, blank=True, default="NO")

    # Flags from the customer card in PowerOffice Go
    transfer_to_debt_collection_agency = models.BooleanField(
        _("overføres til inkasso"), default=False
    )
    send_payment_reminders = models.BooleanField(_("sender purringer"), default=True)
    do_not_add_late_payment_fees = models.BooleanField(_("ikke legg til purregebyr"), default=False)
    do_not_add_late_payment_interest = models.BooleanField(
        _("ikke legg til forsinkelsesrente"), default=False
    )

    # Per-debtor collection profile (overrides the creditor's defaults)
    entry_step = models.CharField(
        _("første steg"),
        max_length=30,
        choices=Creditor.EntryStep.choices,
        blank=True,
        default="",
        help_text=_("Tom: kreditorens standard."),
    )
    collection_opt_out = models.BooleanField(
        _("unntatt fra inkasso"),
        default=False,
        help_text=_("Det startes aldri inkassosaker mot denne skyldneren."),
    )

    pogo_last_changed = models.DateTimeField(
        _("sist endret i PowerOffice Go"), null=True, blank=True
    )
    pogo_subledger_account_id = models.BigIntegerField(
        _("reskontrokonto-ID i PowerOffice Go"),
        null=True,
        blank=True,
        help_text=_("Kundens reskontro: bilagsforslaget krediterer den for å lukke fakturaen."),
    )
    created_at = models.DateTimeField(_("opprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("endret"), auto_now=True)

    class Meta:
        verbose_name = _("skyldner")
        verbose_name_plural = _("skyldnere")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "pogo_id"],
                condition=models.Q(pogo_id__isnull=False),
                name="uniq_debtor_creditor_pogo_id",
            )
        ]
        indexes = [models.Index(fields=["creditor", "name"], name="debtor_creditor_name_idx")]

    def __str__(self):
        return self.name

    @property
    def is_business(self) -> bool:
        return not self.is_person

    @property
    def effective_entry_step(self) -> str:
        """The first collection step for this debtor: its own override or the creditor's."""
        return self.entry_step or self.creditor.entry_step


class Invitation(models.Model):
    """An owner's invitation for an e-mail address to join a creditor with a role.

    The link's token is stored only as its SHA-256 hash; the invitation may be used once and
    only until ``expires_at`` (seven days).
    """

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("kreditor")
    )
    email = models.EmailField(_("e-post"))
    role = models.CharField(
        _("rolle"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invitert av"),
    )
    created_at = models.DateTimeField(_("sendt"), auto_now_add=True)
    expires_at = models.DateTimeField(_("gyldig til"))
    accepted_at = models.DateTimeField(_("godtatt"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("godtatt av"),
    )
    revoked_at = models.DateTimeField(_("trukket tilbake"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitasjon")
        verbose_name_plural = _("invitasjoner")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.email} → {self.creditor.name}"

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired


class AuditEntry(models.Model):
    """Who did what for a creditor (the *Logg* page): written by the services that change
    its team, settings or integration. Append-only: a row is never changed or deleted."""

    class Action(models.TextChoices):
        INVITATION_SENT = "invitation_sent", _("Invitasjon sendt")
        INVITATION_REVOKED = "invitation_revoked", _("Invitasjon trukket tilbake")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitasjon godtatt")
        ROLE_CHANGED = "role_changed", _("Rolle endret")
        MEMBER_REMOVED = "member_removed", _("Tilgang fjernet")
        SETTINGS_CHANGED = "settings_changed", _("Innstillinger endret")
        POWEROFFICE_CONNECTED = "poweroffice_connected", _("Koblet til PowerOffice Go")
        POWEROFFICE_DISCONNECTED = "poweroffice_disconnected", _("Koblet fra PowerOffice Go")
        SYNC_REQUESTED = "sync_requested", _("Synkronisering startet")
        CREDITOR_VERIFIED = "creditor_verified", _("Kreditor verifisert")
        PAYOUT_ACCOUNT_CHANGED = "payout_account_changed", _("Kontonummer for utbetaling endret")
        PAYOUT_ACCOUNT_CONFIRMED = "payout_account_confirmed", _("Nytt kontonummer bekreftet")

    creditor = models.ForeignKey(
        Creditor, on_delete=models.CASCADE, related_name="audit_entries", verbose_name=_("kreditor")
    )
    at = models.DateTimeField(_("tidspunkt"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utført av"),
    )
    action = models.CharField(_("handling"), max_length=30, choices=Action.choices)
    summary = models.TextField(_("hva"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("loggføring")
        verbose_name_plural = _("logg")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["creditor", "-at"], name="audit_creditor_at_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("AuditEntry rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("AuditEntry rows cannot be deleted")

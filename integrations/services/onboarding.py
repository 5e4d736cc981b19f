"""The "Gi tilgang" round trip to PowerOffice Go.

1. ``onboarding_start`` records an attempt with a random ``state`` (stored hashed, bound to the
   browser session, single use, 30 minutes) and asks PoGo for a ``TemporaryUrl``.
2. PoGo sends the browser back with ``status`` and ``token``; ``onboarding_complete_for_creditor``
   (from a creditor's settings) or ``onboarding_complete_without_user`` (the public "Koble til
   PowerOffice Go" page) claims the attempt, calls ``Onboarding/Finalize``, reads the company
   and only then records anything.

Every refusal raises ``OnboardingFailed`` (an ``ApplicationError`` with a title and advice) before
a connection, creditor or user has been written. PoGo calls never run inside a transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from creditors.models import Creditor, Membership
from creditors.permissions import is_owner
from creditors.services import creditor_verify
from creditors.validators import normalize_org_number, validate_org_number
from integrations.clients import poweroffice_client
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from integrations.poweroffice import errors as pogo_errors
from integrations.services.connections import (
    CompanySnapshot,
    company_snapshot_fetch,
    connection_record,
)
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=30)
SESSION_BINDING_KEY = "integrations_pogo_onboarding_binding"

Outcome = OnboardingAttempt.Outcome

# The statuses PoGo sends back besides Success, and what we tell the user about each.
STATUS_OUTCOMES = {
    "Canceled": Outcome.CANCELED,
    "ClientNotFound": Outcome.CLIENT_NOT_FOUND,
    "NoClientAccess": Outcome.NO_CLIENT_ACCESS,
    "IntegrationBlocked": Outcome.INTEGRATION_BLOCKED,
}


class OnboardingFailed(ApplicationError):
    """The round trip ended without a connection. ``title``, ``message`` and ``advice`` are
    shown as they are; ``http_status`` is what the page answers with."""

    def __init__(self, *, code: str, title: str, message: str, advice: str, http_status: int = 200):
        super().__init__(message)
        self.code = code
        self.title = title
        self.advice = advice
        self.http_status = http_status
        # The creditor the attempt belonged to, once known: the page links back to it.
        self.creditor_id: int | None = None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _session_binding(session, *, create: bool) -> str | None:
    binding = session.get(SESSION_BINDING_KEY)
    if binding is None and create:
        binding = secrets.token_urlsafe(32)
        session[SESSION_BINDING_KEY] = binding
    return binding


def _unavailable() -> OnboardingFailed:
    return OnboardingFailed(
        code="unavailable",
        title=_("PowerOffice Go svarer ikke"),
        message=_("Vi fikk ikke kontakt med PowerOffice Go, så ingenting er koblet til."),
        advice=_("Prøv igjen om noen minutter. Varer det lenge, kontakt oss."),
        http_status=503,
    )


def _record_outcome(attempt: OnboardingAttempt, outcome: str, detail: str = "") -> None:
    OnboardingAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome, detail=detail[:2000], finished_at=timezone.now()
    )


# --- Start -------------------------------------------------------------------------------------


def onboarding_start(*, session, callback_url_name: str, creditor=None, user=None) -> str:
    """Record an attempt and ask PoGo where to send the browser; returns the ``TemporaryUrl``.

    ``creditor`` given: PoGo is asked for exactly that organisation number. ``creditor`` None:
    the public flow, where the user may pick any company they administer.
    """
    if creditor is not None:
        connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
        if connection is not None and connection.is_connected:
            raise ApplicationError(
                _("%(name)s er allerede koblet til PowerOffice Go. Koble fra først.")
                % {"name": creditor.name}
            )
    state = secrets.token_urlsafe(32)
    now = timezone.now()
    attempt = OnboardingAttempt.objects.create(
        state_hash=_sha256(state),
        session_binding_hash=_sha256(_session_binding(session, create=True)),
        creditor=creditor,
        user=user if user is not None and user.is_authenticated else None,
        requested_org_number=creditor.org_number if creditor is not None else "",
        created_at=now,
        expires_at=now + STATE_TTL,
    )
    redirect_uri = f"{settings.SITE_URL}{reverse(callback_url_name)}?{urlencode({'state': state})}"
    try:
        result = poweroffice_client().onboarding_initiate(
            redirect_uri=redirect_uri,
            client_org_no=creditor.org_number if creditor is not None else None,
        )
    except pogo_errors.PowerOfficeError as exc:
        _record_outcome(attempt, Outcome.INITIATE_FAILED, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, pogo_errors.Unavailable | pogo_errors.RateLimited):
            raise _unavailable() from None
        raise OnboardingFailed(
            code="initiate_failed",
            title=_("Vi kunne ikke starte tilkoblingen"),
            message=_("PowerOffice Go avviste forespørselen om å starte tilkoblingen."),
            advice=_("Prøv igjen. Skjer det igjen, kontakt oss så ser vi på det."),
            http_status=502,
        ) from None
    temporary_url = result.temporary_url
    if urlsplit(temporary_url).scheme not in ("http", "https"):
        _record_outcome(attempt, Outcome.INITIATE_FAILED, "TemporaryUrl is not an http(s) URL")
        raise _unavailable()
    return temporary_url


# --- Callback: claim the attempt ---------------------------------------------------------------


def _state_failure(code: str) -> OnboardingFailed:
    restart = _("Start tilkoblingen på nytt.")
    texts = {
        "invalid_state": (
            _("Lenken er ugyldig"),
            _("Svaret fra PowerOffice Go hører ikke til en tilkobling vi har startet."),
            restart,
        ),
        "other_session": (
            _("Tilkoblingen ble startet et annet sted"),
            _(
                "Av sikkerhetshensyn må tilkoblingen fullføres i den samme nettleseren og med den "
                "samme innloggingen som startet den."
            ),
            _("Start tilkoblingen på nytt her."),
        ),
        "reused": (
            _("Lenken er allerede brukt"),
            _(
                "Denne tilkoblingen er allerede behandlet. Et svar fra PowerOffice Go kan bare brukes én gang."
            ),
            _("Se status for integrasjonen, eller start tilkoblingen på nytt."),
        ),
        "expired": (
            _("Tilkoblingen tok for lang tid"),
            _("Du har 30 minutter på deg fra du trykker «Gi tilgang» til du er tilbake her."),
            restart,
        ),
    }
    title, message, advice = texts[code]
    return OnboardingFailed(code=code, title=title, message=message, advice=advice, http_status=400)


def _claim(*, session, state: str, user, for_creditor: bool) -> OnboardingAttempt:
    """The attempt ``state`` belongs to, marked used. Raises ``OnboardingFailed`` otherwise."""
    if not state:
        raise _state_failure("invalid_state")
    attempt = OnboardingAttempt.objects.filter(state_hash=_sha256(state)).first()
    if attempt is None or (attempt.creditor_id is not None) != for_creditor:
        raise _state_failure("invalid_state")
    binding = _session_binding(session, create=False)
    if binding is None or not secrets.compare_digest(
        _sha256(binding), attempt.session_binding_hash
    ):
        raise _state_failure("other_session")
    if for_creditor and (user is None or attempt.user_id != user.pk):
        raise _state_failure("other_session")
    if attempt.used_at is not None:
        raise _state_failure("reused")
    if attempt.is_expired:
        _record_outcome(attempt, Outcome.FINALIZE_FAILED, "state expired")
        raise _state_failure("expired")
    claimed = OnboardingAttempt.objects.filter(pk=attempt.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not claimed:  # another request with the same state won the race
        raise _state_failure("reused")
    return attempt


def _check_status(attempt: OnboardingAttempt, status: str) -> None:
    if status == "Success":
        return
    outcome = STATUS_OUTCOMES.get(status, Outcome.UNKNOWN_STATUS)
    _record_outcome(attempt, outcome, f"status={status[:100]}")
    org = attempt.requested_org_number
    restart = _("Når det er ordnet, trykker du «Gi tilgang» på nytt.")
    if outcome == Outcome.CANCELED:
        raise OnboardingFailed(
            code="canceled",
            title=_("Tilkoblingen ble avbrutt"),
            message=_("Du avbrøt i PowerOffice Go, så ingenting er koblet til."),
            advice=_("Trykk «Gi tilgang» igjen når du er klar."),
        )
    if outcome == Outcome.CLIENT_NOT_FOUND:
        message = (
            _("PowerOffice Go fant ingen klient med organisasjonsnummer %(org)s.") % {"org": org}
            if org
            else _("PowerOffice Go fant ikke selskapet.")
        )
        raise OnboardingFailed(
            code="client_not_found",
            title=_("Fant ikke selskapet i PowerOffice Go"),
            message=message,
            advice=_(
                "Sjekk at organisasjonsnummeret er det samme som på klienten i PowerOffice Go, og "
                "at du logget inn med riktig Go-bruker."
            ),
        )
    if outcome == Outcome.NO_CLIENT_ACCESS:
        raise OnboardingFailed(
            code="no_client_access",
            title=_("Du mangler tilgang i PowerOffice Go"),
            message=_(
                "Go-brukeren du logget inn med er ikke administrator for selskapet, og har heller "
                "ikke rettigheten Innstillinger → Organisasjon."
            ),
            advice=_(
                "Be en administrator i Go om å gi deg rettigheten, eller om å gi tilgang selv."
            )
            + " "
            + restart,
        )
    if outcome == Outcome.INTEGRATION_BLOCKED:
        raise OnboardingFailed(
            code="integration_blocked",
            title=_("Integrasjonen er sperret i PowerOffice Go"),
            message=_("Selskapet har sperret for nye integrasjoner i PowerOffice Go."),
            advice=_("Be administratoren i Go, eller PowerOffice, om å oppheve sperren.")
            + " "
            + restart,
        )
    raise OnboardingFailed(
        code="unknown_status",
        title=_("Ukjent svar fra PowerOffice Go"),
        message=_("PowerOffice Go sendte et svar vi ikke kjenner, så ingenting er koblet til."),
        advice=_("Trykk «Gi tilgang» igjen. Skjer det igjen, kontakt oss."),
    )


def _finalize(attempt: OnboardingAttempt, token: str):
    finalize_failed = OnboardingFailed(
        code="finalize_failed",
        title=_("Vi kunne ikke fullføre tilkoblingen"),
        message=_(
            "PowerOffice Go godtok ikke fullføringen, trolig fordi tilkoblingen har utløpt eller "
            "allerede er fullført. Ingenting er koblet til."
        ),
        advice=_("Start tilkoblingen på nytt."),
    )
    if not token:
        _record_outcome(attempt, Outcome.FINALIZE_FAILED, "no token")
        raise finalize_failed
    try:
        result = poweroffice_client().onboarding_finalize(onboarding_token=token)
    except pogo_errors.PowerOfficeError as exc:
        _record_outcome(attempt, Outcome.FINALIZE_FAILED, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, pogo_errors.Unavailable | pogo_errors.RateLimited):
            raise _unavailable() from None
        raise finalize_failed from None
    if not result.clients:
        _record_outcome(attempt, Outcome.NOTHING_CONNECTED, "Finalize returned no clients")
        raise OnboardingFailed(
            code="no_clients",
            title=_("Ingen selskaper ble koblet til"),
            message=_("PowerOffice Go sendte ingen selskaper tilbake."),
            advice=_("Start tilkoblingen på nytt og velg selskapet i PowerOffice Go."),
        )
    return result


# --- Callback: from a creditor's settings -----------------------------------------------------


def onboarding_complete_for_creditor(
    *, session, user, state: str, status: str, token: str
) -> PowerOfficeConnection:
    """Finish "Gi tilgang" for the creditor the attempt was started for."""
    attempt = _claim(session=session, state=state, user=user, for_creditor=True)
    creditor = attempt.creditor
    if not is_owner(user=user, creditor=creditor):
        # Only an owner connects PowerOffice Go (issue 15); one who lost the role since the
        # start cannot finish.
        _record_outcome(attempt, Outcome.FINALIZE_FAILED, "user is no longer an owner")
        raise _state_failure("other_session")
    try:
        return _complete_for_creditor(
            attempt, creditor=creditor, user=user, status=status, token=token
        )
    except OnboardingFailed as exc:
        exc.creditor_id = creditor.pk
        raise


def _verified_elsewhere(creditor: Creditor) -> OnboardingFailed | None:
    """The refusal when another creditor is already verified for ``creditor``'s number."""
    other = (
        Creditor.objects.filter(org_number=creditor.org_number, verified_at__isnull=False)
        .exclude(pk=creditor.pk)
        .exists()
    )
    if not other:
        return None
    return OnboardingFailed(
        code="verified_elsewhere",
        title=_("Selskapet er allerede kreditor hos oss"),
        message=_(
            "Organisasjonsnummer %(org)s er allerede registrert og verifisert som kreditor hos "
            "oss av noen andre. Vi har ikke koblet til noe."
        )
        % {"org": creditor.org_number},
        advice=_("Be eieren av kreditoren invitere deg, eller kontakt oss hvis dette er feil."),
    )


def _complete_for_creditor(attempt, *, creditor, user, status: str, token: str):
    _check_status(attempt, status)
    refusal = _verified_elsewhere(creditor)
    if refusal is not None:  # before Finalize: nothing is connected
        _record_outcome(attempt, Outcome.FINALIZE_FAILED, "org number verified elsewhere")
        raise refusal
    result = _finalize(attempt, token)

    client = next(
        (
            c
            for c in result.clients
            if normalize_org_number(c.client_organization_number or "") == creditor.org_number
        ),
        None,
    )
    if client is None:
        no_org_number = _("uten organisasjonsnummer")
        got = ", ".join(
            f"{c.client_name} ({c.client_organization_number or no_org_number})"
            for c in result.clients
        )
        _record_outcome(attempt, Outcome.ORG_NUMBER_MISMATCH, f"got {got}")
        raise OnboardingFailed(
            code="org_number_mismatch",
            title=_("Feil selskap i PowerOffice Go"),
            message=_(
                "Du ga tilgang til %(got)s, men %(name)s har organisasjonsnummer %(org)s. "
                "Organisasjonsnumrene er ulike, så vi har ikke koblet til noe."
            )
            % {"got": got, "name": creditor.name, "org": creditor.org_number},
            advice=_(
                "Trykk «Gi tilgang» på nytt og velg selskapet med organisasjonsnummer %(org)s i "
                "PowerOffice Go. Integrasjonen som ble aktivert for det andre selskapet kan du "
                "deaktivere i Go under Innstillinger → Integrasjoner."
            )
            % {"org": creditor.org_number},
        )

    snapshot = company_snapshot_fetch(client_key=client.client_key)
    connection = connection_record(
        creditor=creditor,
        actor=user,
        client_key=client.client_key,
        client_name=client.client_name or "",
        client_org_number=creditor.org_number,
        onboarded_by_email=result.user_email or "",
        snapshot=snapshot,
    )
    _record_outcome(attempt, Outcome.CONNECTED, snapshot.error)
    # PowerOffice Go answered for exactly the creditor's organisation number: that proves it.
    _verify_by_connection(creditor, actor=user)
    return connection


def _verify_by_connection(creditor: Creditor, *, actor) -> None:
    """``creditor_verify(method="poweroffice")`` after a connection whose org number matched.
    Refused only when another creditor was verified for the number in the meantime: the
    connection stays, the creditor stays unverified (logged; the case handler decides)."""
    try:
        creditor_verify(
            creditor=creditor, actor=actor, method=Creditor.VerificationMethod.POWEROFFICE
        )
    except ApplicationError as exc:
        logger.warning("Creditor %s connected but not verified: %s", creditor.pk, exc.message)


# --- Callback: the public "Koble til PowerOffice Go" -----------------------------------------


@dataclass
class PublicOnboardingResult:
    email: str
    user_created: bool = False
    created: list[Creditor] = field(default_factory=list)
    connected: list[Creditor] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    client: object
    org_number: str
    existing: Creditor | None
    snapshot: CompanySnapshot | None = None


class _SetPasswordForm(PasswordResetForm):
    """Django's reset e-mail, for a user who has no password yet (the stock form skips them)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user

    def get_users(self, email):
        return [self._user] if self._user.is_active else []


def _site():
    parts = urlsplit(settings.SITE_URL)
    return parts.netloc, parts.scheme == "https"


def _send_welcome(*, user, set_password: bool, creditors: list[Creditor]) -> None:
    domain, use_https = _site()
    names = ", ".join(c.name for c in creditors)
    if set_password:
        form = _SetPasswordForm({"email": user.email}, user=user)
        form.is_valid()
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="integrations/email/set_password_subject.txt",
            email_template_name="integrations/email/set_password_email.txt",
            extra_email_context={"creditor_names": names},
        )
        return
    context = {
        "user": user,
        "creditor_names": names,
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
        "reset_url": f"{settings.SITE_URL}{reverse('password_reset')}",
    }
    subject = render_to_string("integrations/email/connected_subject.txt", context)
    body = render_to_string("integrations/email/connected_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


def _plan_clients(result, *, user=None) -> tuple[list[_Plan], list[str]]:
    """What to do per onboarded company. ``user``: the logged-in Kundeweb user, if any.

    An existing creditor is connected only when ``user`` owns it (issue 15: never someone
    else's creditor, which may be a squatter's claim on the number). A number another creditor
    is verified for is left alone. Otherwise a new creditor is made (unverified applicants for
    the same number are left as they are: this one is verified by the connection)."""
    plans, notes = [], []
    seen = set()
    for client in result.clients:
        org = normalize_org_number(client.client_organization_number or "")
        name = client.client_name or org
        try:
            validate_org_number(org)
        except DjangoValidationError:
            notes.append(
                _("%(name)s har ikke et gyldig organisasjonsnummer (%(org)s) og ble ikke lagt til.")
                % {"name": name, "org": client.client_organization_number or "–"}
            )
            continue
        if org in seen:
            continue
        seen.add(org)
        owned = None
        if user is not None and getattr(user, "is_authenticated", False):
            owned = (
                Creditor.objects.filter(
                    org_number=org,
                    memberships__user=user,
                    memberships__role=Membership.Role.OWNER,
                )
                .order_by(F("verified_at").desc(nulls_last=True), "pk")
                .first()
            )
        verified = Creditor.objects.filter(org_number=org, verified_at__isnull=False).first()
        existing = owned
        if existing is None and verified is not None:
            existing = verified
        if existing is not None:
            connection = PowerOfficeConnection.objects.filter(creditor=existing).first()
            if connection is not None and connection.is_connected:
                notes.append(
                    _(
                        "%(name)s (org.nr. %(org)s) er allerede kreditor hos oss og koblet til "
                        "PowerOffice Go. Vi har ikke endret noe der. Logg inn, eller be eieren av "
                        "kreditoren invitere deg."
                    )
                    % {"name": existing.name, "org": org}
                )
                continue
            if existing != owned or (verified is not None and verified != owned):
                notes.append(
                    _(
                        "%(name)s (org.nr. %(org)s) er allerede kreditor hos oss. Vi har ikke "
                        "koblet den til: logg inn som eier og trykk «Gi tilgang» der, eller be "
                        "eieren av kreditoren invitere deg."
                    )
                    % {"name": existing.name, "org": org}
                )
                continue
        plans.append(_Plan(client=client, org_number=org, existing=existing))
    return plans, notes


def onboarding_complete_without_user(
    *, session, state: str, status: str, token: str, user=None
) -> PublicOnboardingResult:
    """Finish the public flow: creditors for the onboarded companies, a user for the Go e-mail.
    ``user``: the logged-in Kundeweb user, if any — only creditors they own are connected.
    Every creditor connected here is verified by the connection (its org number is Go's)."""
    logged_in = user if user is not None and getattr(user, "is_authenticated", False) else None
    attempt = _claim(session=session, state=state, user=None, for_creditor=False)
    _check_status(attempt, status)
    result = _finalize(attempt, token)

    User = get_user_model()
    email = User.objects.normalize_email(result.user_email or "").lower()
    try:
        User._meta.get_field("email").run_validators(email)
        valid_email = bool(email)
    except DjangoValidationError:
        valid_email = False
    if not valid_email:
        _record_outcome(attempt, Outcome.NOTHING_CONNECTED, "no usable UserEmail")
        raise OnboardingFailed(
            code="no_email",
            title=_("Mangler e-postadresse"),
            message=_(
                "PowerOffice Go oppga ingen gyldig e-postadresse for brukeren, så vi kan ikke "
                "opprette en bruker til deg. Ingenting er lagret."
            ),
            advice=_(
                "Opprett en bruker i Kundeweb og legg til selskapet som kreditor, og trykk så "
                "«Gi tilgang» under Integrasjon."
            ),
        )

    plans, notes = _plan_clients(result, user=logged_in)
    existing_user = User.objects.filter(email__iexact=email).first()
    new_creditors = [p for p in plans if p.existing is None]
    if not plans:
        _record_outcome(attempt, Outcome.NOTHING_CONNECTED, " | ".join(notes))
        raise OnboardingFailed(
            code="nothing_connected",
            title=_("Ingen selskaper ble koblet til"),
            message=" ".join(notes) or _("Ingen av selskapene kunne kobles til."),
            advice=_("Logg inn i Kundeweb hvis du allerede har en bruker, eller kontakt oss."),
        )

    for plan in plans:
        plan.snapshot = company_snapshot_fetch(client_key=plan.client.client_key)

    outcome = PublicOnboardingResult(email=email, notes=notes)
    try:
        with transaction.atomic():
            user = existing_user
            # A user only when they will own something: for already-registered creditors we
            # connect the company but grant nobody new access to it.
            if user is None and new_creditors:
                user = User.objects.create_user(email=email, password=None)
                outcome.user_created = True
            for plan in plans:
                creditor = _creditor_for_plan(plan, user=user, outcome=outcome)
                if creditor is None:
                    continue
                connection_record(
                    creditor=creditor,
                    actor=user,
                    client_key=plan.client.client_key,
                    client_name=plan.client.client_name or "",
                    client_org_number=plan.org_number,
                    onboarded_by_email=email,
                    snapshot=plan.snapshot,
                )
                # Go answered for this org number: the connection verifies the creditor (a
                # clash with a creditor verified meanwhile rolls everything back, below).
                creditor_verify(
                    creditor=creditor,
                    actor=logged_in or user,
                    method=Creditor.VerificationMethod.POWEROFFICE,
                )
            if user is not None and (outcome.created or outcome.connected):
                set_password = outcome.user_created or not user.has_usable_password()
                creditors = outcome.created + outcome.connected
                transaction.on_commit(
                    lambda: _send_welcome(user=user, set_password=set_password, creditors=creditors)
                )
    except (IntegrityError, ApplicationError):
        # Someone registered (or got verified for) one of the companies at the same moment:
        # nothing was kept.
        _record_outcome(attempt, Outcome.NOTHING_CONNECTED, "integrity error")
        raise OnboardingFailed(
            code="conflict",
            title=_("Selskapet ble registrert samtidig"),
            message=_(
                "Et av selskapene ble registrert hos oss i samme øyeblikk. Ingenting er lagret."
            ),
            advice=_("Start tilkoblingen på nytt."),
        ) from None
    if not (outcome.created or outcome.connected):
        _record_outcome(attempt, Outcome.NOTHING_CONNECTED, " | ".join(outcome.notes))
        raise OnboardingFailed(
            code="nothing_connected",
            title=_("Ingen selskaper ble koblet til"),
            message=" ".join(outcome.notes),
            advice=_("Logg inn i Kundeweb hvis du allerede har en bruker, eller kontakt oss."),
        )
    _record_outcome(attempt, Outcome.CONNECTED)
    return outcome


def _creditor_for_plan(plan: _Plan, *, user, outcome: PublicOnboardingResult) -> Creditor | None:
    info = plan.snapshot.company_info if plan.snapshot else {}
    if plan.existing is not None:
        creditor = Creditor.objects.select_for_update().get(pk=plan.existing.pk)
        connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
        if connection is not None and connection.is_connected:
            outcome.notes.append(
                _("%(name)s ble koblet til PowerOffice Go av noen andre i mellomtiden.")
                % {"name": creditor.name}
            )
            return None
        # Only a creditor the logged-in user owns is planned as existing (``_plan_clients``).
        outcome.connected.append(creditor)
        return creditor
    creditor = Creditor(
        org_number=plan.org_number,
        name=(info.get("name") or plan.client.client_name or plan.org_number)[:200],
        email=info.get("email_address") or user.email,
        address_line=(info.get("address_line") or "")[:200],
        postal_code=(info.get("zip_code") or "")[:10],
        postal_city=(info.get("city") or "")[:100],
    )
    try:
        creditor.full_clean(exclude=["org_number", "bank_account"], validate_unique=False)
    except DjangoValidationError:
        creditor.email = user.email
    creditor.save()
    Membership.objects.create(user=user, creditor=creditor, role=Membership.Role.OWNER)
    outcome.created.append(creditor)
    return creditor

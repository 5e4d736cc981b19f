"""Writes for users, creditors and memberships."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from creditors.models import AuditEntry, Creditor, Membership
from creditors.permissions import owner_fields_changed, require_owner
from creditors.team.services import audit_record
from creditors.validators import normalize_org_number
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

User = get_user_model()


def user_signup(*, email: str, password: str, first_name: str = "", last_name: str = ""):
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(_("Det finnes allerede en bruker med denne e-postadressen."))
    try:
        return User.objects.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
    except IntegrityError:
        raise ApplicationError(
            _("Det finnes allerede en bruker med denne e-postadressen.")
        ) from None


def creditor_create(*, user, org_number: str, name: str, email: str = "") -> Creditor:
    """Register a company as creditor; ``user`` becomes its owner. The creditor starts
    **unverified** (:func:`creditor_verify` decides).

    Claiming an organisation number proves nothing, so the first to claim one cannot lock the
    company out: several users may wait as applicants for the same number. Refused are an
    organisation number this user has already added, and one already verified for another
    creditor (whoever owns it there must invite this user instead).
    """
    org_number = normalize_org_number(org_number)
    if (
        Membership.objects.filter(user=user, creditor__org_number=org_number).exists()
        or Creditor.objects.filter(org_number=org_number, verified_at__isnull=False).exists()
    ):
        raise ApplicationError(_duplicate_message(user=user, org_number=org_number))
    try:
        with transaction.atomic():
            creditor = Creditor.objects.create(
                org_number=org_number, name=name.strip(), email=email or user.email
            )
            Membership.objects.create(user=user, creditor=creditor, role=Membership.Role.OWNER)
    except IntegrityError:
        # Lost a race with another sign-up of the same company.
        raise ApplicationError(_duplicate_message(user=user, org_number=org_number)) from None
    return creditor


def _duplicate_message(*, user, org_number: str) -> str:
    if Membership.objects.filter(user=user, creditor__org_number=org_number).exists():
        return _("Du har allerede lagt til organisasjonsnummer %(org)s som kreditor.") % {
            "org": org_number
        }
    return _(
        "Organisasjonsnummer %(org)s er allerede registrert og verifisert som kreditor hos oss "
        "av en annen bruker. Be eieren av kreditoren invitere deg, eller kontakt oss hvis du "
        "mener dette er feil."
    ) % {"org": org_number}


def creditor_update_settings(*, creditor: Creditor, actor, cleaned_data: dict) -> Creditor:
    """Save the settings form in one transaction: all fields or none.

    Compares against the stored row (not ``creditor``, which a bound ModelForm has already
    changed in memory) so only real changes are written. The money settings
    (``creditors.permissions.OWNER_FIELDS``) are for owners only (``PermissionDenied``). A new
    payout account is e-mailed to every owner and holds the payouts
    (:func:`_payout_account_changed`).
    """
    with transaction.atomic():
        locked = Creditor.objects.select_for_update().get(pk=creditor.pk)
        if owner_fields_changed(creditor=locked, data=cleaned_data):
            require_owner(user=actor, creditor=locked)
        old_account = locked.bank_account
        changed = [name for name, value in cleaned_data.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, cleaned_data[name])
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
        labels = [str(Creditor._meta.get_field(name).verbose_name) for name in changed]
        audit_record(
            creditor=locked,
            actor=actor,
            action=AuditEntry.Action.SETTINGS_CHANGED,
            summary=_("Endret: %(fields)s.") % {"fields": ", ".join(labels)},
            data={"fields": changed},
        )
        if "bank_account" in changed:
            _payout_account_changed(locked, actor=actor, old_account=old_account)
    return locked


# --------------------------------------------------------------------------------------------
# Payout account changes: every owner is told, the payouts wait
# --------------------------------------------------------------------------------------------


def payout_hold_days() -> int:
    """Days the payouts wait after the payout account changed (``PAYOUT_ACCOUNT_HOLD_DAYS``)."""
    return int(getattr(settings, "PAYOUT_ACCOUNT_HOLD_DAYS", 3))


def _mask(account: str) -> str:
    """``86011117947`` → ``•••• •• 17947`` (the e-mail names the account without all of it)."""
    return f"•••• •• {account[-5:]}" if account else _("(ingen)")


def _payout_account_changed(creditor: Creditor, *, actor, old_account: str) -> None:
    """In the change's transaction: hold the payouts (when an account was replaced — a first
    account holds nothing, no payout could be made before it), log it, and e-mail every owner
    after commit."""
    now = timezone.now()
    creditor.payout_account_changed_at = now
    creditor.payout_account_changed_by = actor if getattr(actor, "pk", None) else None
    creditor.payout_change_confirmed_at = None
    creditor.payout_change_confirmed_by = None
    days = payout_hold_days()
    creditor.payout_hold_until = (
        timezone.localdate(now) + dt.timedelta(days=days) if old_account and days > 0 else None
    )
    creditor.save(
        update_fields=[
            "payout_account_changed_at",
            "payout_account_changed_by",
            "payout_change_confirmed_at",
            "payout_change_confirmed_by",
            "payout_hold_until",
        ]
    )
    audit_record(
        creditor=creditor,
        actor=actor,
        action=AuditEntry.Action.PAYOUT_ACCOUNT_CHANGED,
        summary=_("Kontonummer for utbetaling endret fra %(old)s til %(new)s.")
        % {"old": _mask(old_account), "new": _mask(creditor.bank_account)}
        + (
            " "
            + _("Utbetalinger holdes tilbake til og med %(date)s.")
            % {"date": creditor.payout_hold_until.strftime("%d.%m.%Y")}
            if creditor.payout_hold_until
            else ""
        ),
        data={
            "old_last5": old_account[-5:],
            "new_last5": creditor.bank_account[-5:],
            "hold_until": creditor.payout_hold_until.isoformat()
            if creditor.payout_hold_until
            else None,
        },
    )
    owners = list(
        Membership.objects.filter(creditor=creditor, role=Membership.Role.OWNER).values_list(
            "user__email", flat=True
        )
    )
    context = {
        "creditor": creditor,
        "actor": str(actor) if actor is not None else _("ukjent"),
        "old_account": _mask(old_account),
        "new_account": _mask(creditor.bank_account),
        "hold_until": creditor.payout_hold_until,
        "settlements_url": f"{settings.SITE_URL}{reverse('settlement_list')}",
    }
    subject = " ".join(
        render_to_string("emails/payout_account_changed_subject.txt", context).split()
    )
    body = render_to_string("emails/payout_account_changed.txt", context)
    for email in owners:
        # One message per owner (no owner sees the others' addresses); robust: a mail server
        # that is down must not undo the change — the Logg has it.
        transaction.on_commit(
            lambda email=email: send_mail(subject, body, None, [email]), robust=True
        )


def payout_account_confirm(*, creditor: Creditor, actor) -> Creditor:
    """A second owner confirms the new payout account: the hold ends at once. The owner who
    changed it cannot confirm it (the point is a second pair of eyes)."""
    with transaction.atomic():
        locked = Creditor.objects.select_for_update().get(pk=creditor.pk)
        require_owner(user=actor, creditor=locked)
        if not locked.payout_hold_active():
            raise ApplicationError(_("Det er ingen endring av kontonummer som venter."))
        if locked.payout_account_changed_by_id == actor.pk:
            raise ApplicationError(
                _("En annen eier enn den som endret kontonummeret må bekrefte det.")
            )
        locked.payout_change_confirmed_at = timezone.now()
        locked.payout_change_confirmed_by = actor
        locked.save(update_fields=["payout_change_confirmed_at", "payout_change_confirmed_by"])
        audit_record(
            creditor=locked,
            actor=actor,
            action=AuditEntry.Action.PAYOUT_ACCOUNT_CONFIRMED,
            summary=_("Nytt kontonummer for utbetaling %(account)s bekreftet.")
            % {"account": _mask(locked.bank_account)},
        )
    return locked


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def creditor_verify(*, creditor: Creditor, actor, method: str, reason: str = "") -> Creditor:
    """The one entry point that makes a creditor verified: its cases reach debtors and it gets
    payouts from now on (the next dunning run takes the steps that waited).

    ``method``: ``poweroffice`` (the PowerOffice Go connection's org number is the creditor's;
    called by «Gi tilgang») or ``case_handler`` (an agency case handler in the admin; a
    ``reason`` is required). Who, when, how and why go to the creditor's *Logg*. Verifying a
    verified creditor changes nothing. Refused (``ApplicationError``, logged) when another
    creditor is already verified for the organisation number: the other applicants stay
    unverified.
    """
    method = Creditor.VerificationMethod(method)
    reason = (reason or "").strip()
    if method == Creditor.VerificationMethod.CASE_HANDLER and not reason:
        raise ApplicationError(_("Skriv hvorfor kreditoren er verifisert."))
    user = actor if getattr(actor, "is_authenticated", False) and actor.pk else None
    try:
        with transaction.atomic():
            locked = Creditor.objects.select_for_update().get(pk=creditor.pk)
            if locked.is_verified:
                return locked
            other = (
                Creditor.objects.filter(org_number=locked.org_number, verified_at__isnull=False)
                .exclude(pk=locked.pk)
                .first()
            )
            if other is not None:
                raise ApplicationError(
                    _(
                        "Organisasjonsnummer %(org)s er allerede verifisert for en annen "
                        "kreditor (%(name)s, nr. %(id)s). Bare én kreditor kan verifiseres per "
                        "organisasjonsnummer."
                    )
                    % {"org": locked.org_number, "name": other.name, "id": other.pk}
                )
            summary = (
                _("Verifisert ved PowerOffice Go-tilkoblingen (samme organisasjonsnummer).")
                if method == Creditor.VerificationMethod.POWEROFFICE
                else _("Verifisert av saksbehandler: %(reason)s") % {"reason": reason}
            )
            entry = audit_record(
                creditor=locked,
                actor=user,
                action=AuditEntry.Action.CREDITOR_VERIFIED,
                summary=summary,
                data={
                    "method": method.value,
                    "reason": reason,
                    "by": user.email if user is not None else "",
                },
            )
            locked.verified_at = entry.at  # the log's "when" is the creditor's
            locked.verified_by = user
            locked.verification_method = method
            locked.save(update_fields=["verified_at", "verified_by", "verification_method"])
    except IntegrityError:
        # Another applicant for the number was verified at the same moment.
        raise ApplicationError(
            _("Organisasjonsnummeret ble nettopp verifisert for en annen kreditor.")
        ) from None
    creditor.verified_at = locked.verified_at
    creditor.verified_by = locked.verified_by
    creditor.verification_method = locked.verification_method
    return locked

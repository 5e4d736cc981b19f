"""Writes for users, creditors and memberships."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from creditors.models import AuditEntry, Creditor, Membership
from creditors.team_services import audit_record
from creditors.validators import normalize_org_number
from kravia_web.errors import ApplicationError

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
    """Register a company as creditor; ``user`` becomes its owner.

    An organisation number that is already registered is refused: the company exists, and
    whoever owns it there must invite this user instead.
    """
    org_number = normalize_org_number(org_number)
    if Creditor.objects.filter(org_number=org_number).exists():
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
        "Organisasjonsnummer %(org)s er allerede registrert som kreditor hos oss av en annen "
        "bruker. Be eieren av kreditoren invitere deg, eller kontakt oss hvis du mener dette er "
        "feil."
    ) % {"org": org_number}


def creditor_update_settings(*, creditor: Creditor, actor, cleaned_data: dict) -> Creditor:
    """Save the settings form in one transaction: all fields or none.

    Compares against the stored row (not ``creditor``, which a bound ModelForm has already
    changed in memory) so only real changes are written.
    """
    with transaction.atomic():
        locked = Creditor.objects.select_for_update().get(pk=creditor.pk)
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
    return locked

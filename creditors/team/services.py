"""Writes for a creditor's team: invitations, roles, removal, and the audit trail (*Logg*).

Only owners manage the team (``PermissionDenied`` otherwise); a creditor always keeps at
least one owner — the owner memberships are locked while that is checked, so two owners
removing each other at the same moment cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from creditors.models import AuditEntry, Creditor, Invitation, Membership
from creditors.permissions import is_owner, require_owner  # noqa: F401  (is_owner re-exported)
from kravia_web.errors import ApplicationError

User = get_user_model()
Role = Membership.Role
Action = AuditEntry.Action

INVITATION_TTL = dt.timedelta(days=7)


def audit_record(*, creditor: Creditor, actor, action: str, summary: str, data=None) -> AuditEntry:
    """Append one line to the creditor's *Logg*. Call it inside the change's transaction."""
    return AuditEntry.objects.create(
        creditor=creditor,
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        summary=summary,
        data=data or {},
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_owner(actor, creditor: Creditor) -> None:
    require_owner(
        user=actor, creditor=creditor, message=_("Bare eiere kan endre hvem som har tilgang.")
    )


def _role_label(role: str) -> str:
    return str(Role(role).label).lower()


# --------------------------------------------------------------------------------------------
# Invitations
# --------------------------------------------------------------------------------------------


def invitation_create(*, creditor: Creditor, actor, email: str, role: str) -> Invitation:
    """Invite ``email`` to ``creditor`` with ``role`` and e-mail them the link (after commit).

    An earlier open invitation for the same address is withdrawn: only the newest link works.
    """
    _require_owner(actor, creditor)
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ApplicationError(_("Ukjent rolle."))
    if Membership.objects.filter(creditor=creditor, user__email__iexact=email).exists():
        raise ApplicationError(
            _("%(email)s har allerede tilgang til %(name)s.")
            % {"email": email, "name": creditor.name}
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            creditor=creditor, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            creditor=creditor,
            email=email,
            role=role,
            token_hash=token_hash(token),
            invited_by=actor,
            expires_at=now + INVITATION_TTL,
        )
        audit_record(
            creditor=creditor,
            actor=actor,
            action=Action.INVITATION_SENT,
            summary=_("%(email)s ble invitert som %(role)s.")
            % {"email": email, "role": _role_label(role)},
            data={"email": email, "role": role},
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token, actor))
    return invitation


def _send_invitation(invitation: Invitation, token: str, actor) -> None:
    context = {
        "creditor_name": invitation.creditor.name,
        "inviter": actor.get_full_name() or actor.email,
        "role": _role_label(invitation.role),
        "accept_url": f"{settings.SITE_URL}{reverse('invitation_accept', args=[token])}",
        "expires_at": invitation.expires_at,
    }
    subject = render_to_string("emails/invitation_subject.txt", context)
    body = render_to_string("emails/invitation.txt", context)
    send_mail(" ".join(subject.split()), body, None, [invitation.email])


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation behind a link (pending or not), or None for a link we never issued."""
    return (
        Invitation.objects.select_related("creditor")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )


def invitation_revoke(*, invitation: Invitation, actor) -> None:
    _require_owner(actor, invitation.creditor)
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if updated:
            audit_record(
                creditor=invitation.creditor,
                actor=actor,
                action=Action.INVITATION_REVOKED,
                summary=_("Invitasjonen til %(email)s ble trukket tilbake.")
                % {"email": invitation.email},
                data={"email": invitation.email},
            )


def invitation_accept(*, token: str, user) -> Membership:
    """Use the invitation once: ``user`` (whose e-mail it was sent to) joins the creditor.

    Refused when the link is unknown, expired, withdrawn or already used, or when ``user``
    is someone else than the invited address.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("creditor")
            .filter(token_hash=token_hash(token or ""))
            .first()
        )
        if invitation is None or invitation.revoked_at is not None:
            raise ApplicationError(_("Invitasjonen finnes ikke eller er trukket tilbake."))
        if invitation.accepted_at is not None:
            raise ApplicationError(_("Invitasjonen er allerede brukt."))
        if invitation.is_expired:
            raise ApplicationError(
                _("Invitasjonen er utløpt. Be den som inviterte deg om å sende en ny.")
            )
        if user.email.lower() != invitation.email.lower():
            raise ApplicationError(
                _(
                    "Invitasjonen ble sendt til %(email)s. Logg inn med den e-postadressen, "
                    "eller be om en ny invitasjon til din."
                )
                % {"email": invitation.email}
            )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        membership, created = Membership.objects.get_or_create(
            user=user, creditor=invitation.creditor, defaults={"role": invitation.role}
        )
        audit_record(
            creditor=invitation.creditor,
            actor=user,
            action=Action.INVITATION_ACCEPTED,
            summary=_("%(email)s godtok invitasjonen og fikk tilgang som %(role)s.")
            % {"email": user.email, "role": _role_label(membership.role)},
            data={"email": user.email, "role": membership.role, "new_member": created},
        )
    return membership


def invitation_accept_new_user(
    *, token: str, password: str, first_name: str = "", last_name: str = ""
) -> Membership:
    """Create the invited address's user with ``password`` and accept, in one transaction."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise ApplicationError(_("Invitasjonen finnes ikke eller er trukket tilbake."))
    with transaction.atomic():
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ApplicationError(
                _("Det finnes allerede en bruker med %(email)s. Logg inn for å godta.")
                % {"email": invitation.email}
            )
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            first_name=first_name,
            last_name=last_name,
        )
        return invitation_accept(token=token, user=user)


# --------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------


def _lock_owners(creditor: Creditor) -> list[int]:
    return list(
        Membership.objects.select_for_update()
        .filter(creditor=creditor, role=Role.OWNER)
        .values_list("pk", flat=True)
    )


def membership_change_role(*, membership: Membership, actor, role: str) -> Membership:
    creditor = membership.creditor
    _require_owner(actor, creditor)
    if role not in Role.values:
        raise ApplicationError(_("Ukjent rolle."))
    with transaction.atomic():
        owners = _lock_owners(creditor)
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == role:
            return locked
        if locked.role == Role.OWNER and owners == [locked.pk]:
            raise ApplicationError(
                _("%(name)s må ha minst én eier. Gjør en annen til eier først.")
                % {"name": creditor.name}
            )
        old = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit_record(
            creditor=creditor,
            actor=actor,
            action=Action.ROLE_CHANGED,
            summary=_("%(email)s er nå %(role)s (var %(old)s).")
            % {"email": locked.user.email, "role": _role_label(role), "old": _role_label(old)},
            data={"email": locked.user.email, "role": role, "old_role": old},
        )
    return locked


def membership_remove(*, membership: Membership, actor) -> None:
    """Take away a user's access to the creditor (never the last owner's)."""
    creditor = membership.creditor
    _require_owner(actor, creditor)
    with transaction.atomic():
        owners = _lock_owners(creditor)
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if locked.role == Role.OWNER and owners == [locked.pk]:
            raise ApplicationError(
                _("Den siste eieren kan ikke fjernes. Gjør en annen til eier først.")
            )
        email = locked.user.email
        locked.delete()
        audit_record(
            creditor=creditor,
            actor=actor,
            action=Action.MEMBER_REMOVED,
            summary=_("Tilgangen til %(email)s ble fjernet.") % {"email": email},
            data={"email": email},
        )

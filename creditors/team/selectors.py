"""Reads for the team page; ``creditor`` always comes from
``creditors.selectors.creditor_get_for_user`` (a creditor the user is a member of)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from creditors.models import Creditor, Invitation, Membership


def team_members(*, creditor: Creditor) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(creditor=creditor)
        .select_related("user")
        .order_by("role", "user__email")
    )


def team_invitations_pending(*, creditor: Creditor) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        creditor=creditor,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def membership_get(*, creditor: Creditor, membership_id) -> Membership:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Membership.objects.select_related("user", "creditor"), creditor=creditor, pk=membership_id
    )


def invitation_get(*, creditor: Creditor, invitation_id) -> Invitation:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Invitation.objects.select_related("creditor"), creditor=creditor, pk=invitation_id
    )

"""Reads, always scoped to the user's creditors."""

from django.db.models import QuerySet
from django.http import Http404

from creditors.models import Creditor, Membership

ACTIVE_CREDITOR_SESSION_KEY = "active_creditor_id"


def creditor_list_for_user(*, user) -> QuerySet[Creditor]:
    if not user.is_authenticated:
        return Creditor.objects.none()
    return Creditor.objects.filter(memberships__user=user).order_by("name")


def creditor_get_for_user(*, user, creditor_id) -> Creditor:
    """The creditor if ``user`` is a member; 404 otherwise (never reveals that it exists)."""
    try:
        return creditor_list_for_user(user=user).get(pk=int(creditor_id))
    except (Creditor.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def membership_role(*, user, creditor) -> str | None:
    return (
        Membership.objects.filter(user=user, creditor=creditor)
        .values_list("role", flat=True)
        .first()
    )


def creditor_active_for_request(request) -> Creditor | None:
    """The creditor picked in the header, or the user's first one."""
    creditors = creditor_list_for_user(user=request.user)
    active_id = request.session.get(ACTIVE_CREDITOR_SESSION_KEY)
    if active_id is not None:
        creditor = creditors.filter(pk=active_id).first()
        if creditor is not None:
            return creditor
    return creditors.first()

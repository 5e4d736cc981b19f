"""Which creditor a request acts for, and who the actor is in the case timeline."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied

from api_access.api.authentication import actor_label
from api_access.models import ApiKey
from creditors.models import Creditor
from creditors.selectors import creditor_active_for_request


def api_creditor(request) -> Creditor:
    """The key's creditor; for a session, the user's active creditor (one they are a member
    of). Every object the API reads or changes is looked up within this creditor, so another
    creditor's object is a 404."""
    if isinstance(request.auth, ApiKey):
        return request.auth.creditor
    creditor = creditor_active_for_request(request)
    if creditor is None:
        raise PermissionDenied(_("Brukeren er ikke medlem av noen kreditor."))
    return creditor


def api_actor(request):
    """The user, or a label naming the API key (services accept both)."""
    if isinstance(request.auth, ApiKey):
        return actor_label(request.auth)
    return request.user


def api_owner(request) -> str:
    """Whose idempotency keys and rate limit this request counts against."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"

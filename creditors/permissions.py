"""Who may do what for a creditor: the one place roles are checked.

Owners (``Membership.Role.OWNER``) alone may change the money settings (payout account,
bookkeeping, settlement terms, the account mapping), connect, disconnect and synchronise
PowerOffice Go, manage the team, API keys and webhooks. Members work cases. Pages call
:func:`require_owner` (Django answers ``PermissionDenied`` with ``templates/403.html``), the
API uses :class:`IsCreditorOwner` (DRF answers 403 ``permission_denied`` in the API's error
shape), services call :func:`require_owner` again so no caller can skip it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from creditors.models import Creditor, Membership

#: Creditor fields only owners may change (the settings page shows them disabled, with
#: :data:`OWNER_ONLY_REASON`, to members; posting one as a member is a 403).
OWNER_FIELDS = frozenset(
    {
        "bank_account",
        "vat_registered",
        "bookkeeping_mode",
        "settlement_frequency",
        "interest_to",
        "account_bank",
        "account_receivables",
        "account_collection_cost",
        "account_input_vat",
        "account_interest_income",
        "account_loss",
    }
)

OWNER_ONLY_REASON = gettext_lazy("Bare eiere av kreditoren kan endre dette.")


def is_owner(*, user, creditor: Creditor) -> bool:
    """Whether ``user`` (a logged-in user; never an API key) owns ``creditor``."""
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    return Membership.objects.filter(
        user_id=user.pk, creditor=creditor, role=Membership.Role.OWNER
    ).exists()


def require_owner(*, user, creditor: Creditor, message: str | None = None) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` owns ``creditor``."""
    if not is_owner(user=user, creditor=creditor):
        raise PermissionDenied(message or str(OWNER_ONLY_REASON))


def owner_fields_changed(*, creditor: Creditor, data: dict) -> list[str]:
    """The owner-only fields in ``data`` whose value differs from ``creditor``'s."""
    return [
        name for name in sorted(OWNER_FIELDS & set(data)) if getattr(creditor, name) != data[name]
    ]


def can_confirm_payout_account(*, user, creditor: Creditor) -> bool:
    """A held payout-account change may be confirmed by an owner other than who made it."""
    return (
        creditor.payout_hold_active()
        and creditor.payout_account_changed_by_id != getattr(user, "pk", None)
        and is_owner(user=user, creditor=creditor)
    )


class IsCreditorOwner(BasePermission):
    """DRF: the request acts for a creditor its user owns. An API key is created by an owner
    and acts for its creditor; a browser session must belong to an owner of the active
    creditor (a member's session gets 403)."""

    message = gettext_lazy("Bare eiere av kreditoren kan gjøre dette.")

    def has_permission(self, request, view) -> bool:
        from api_access.models import ApiKey

        if isinstance(request.auth, ApiKey):
            return True
        creditor = getattr(view, "creditor", None)
        return creditor is not None and is_owner(user=request.user, creditor=creditor)


__all__ = [
    "OWNER_FIELDS",
    "OWNER_ONLY_REASON",
    "IsCreditorOwner",
    "can_confirm_payout_account",
    "is_owner",
    "owner_fields_changed",
    "require_owner",
]

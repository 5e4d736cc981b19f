"""Who is calling: an API key (``Authorization: Bearer kv_…``) acting for exactly its
creditor, or a logged-in browser session (DRF's SessionAuthentication, CSRF enforced on writes) acting for the user's
active creditor."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api_access.models import ApiKey
from api_access.services import api_key_authenticate


class ApiKeyPrincipal:
    """``request.user`` for a request made with an API key: authenticated, but no user —
    nothing may look up memberships through it; the key's creditor is all it can reach."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    def __str__(self):
        return actor_label(self.api_key)


def actor_label(api_key: ApiKey) -> str:
    """How an action through the key shows in a case's timeline."""
    return f"API ({api_key.name}, {api_key.prefix})"[:100]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Ugyldig Authorization-header: bruk «Bearer <API-nøkkel>».")
            )
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Ugyldig API-nøkkel.")) from None
        api_key = api_key_authenticate(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Ugyldig eller tilbaketrukket API-nøkkel."))
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'

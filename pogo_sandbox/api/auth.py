"""Keys and tokens: subscription keys (v2 gateway), OAuth client credentials, bearer tokens."""

import base64
import binascii
import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from pogo_sandbox.models import AccessToken, Application, ClientSubscription

#: v2: client credentials only, 20 minutes (the developer portal).
V2_TOKEN_LIFETIME = dt.timedelta(seconds=1200)
#: v1: 10 minutes, with a refresh token (PowerOffice's v1 documentation shows
#: ``"expires_in": 599`` and a ``refresh_token``).
V1_TOKEN_LIFETIME = dt.timedelta(seconds=600)
#: How long an unused v1 refresh token stays valid (unverified: PowerOffice documents none).
REFRESH_TOKEN_LIFETIME = dt.timedelta(hours=24)
TOKEN_LIFETIMES = {"v1": V1_TOKEN_LIFETIME, "v2": V2_TOKEN_LIFETIME}
#: Kept for callers that predate v1's own lifetime.
TOKEN_LIFETIME = V2_TOKEN_LIFETIME
SUBSCRIPTION_HEADER = "HTTP_OCP_APIM_SUBSCRIPTION_KEY"


class TokenError(Exception):
    """An RFC 6749 §5.2 error: ``error`` code, description and HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def application_for_subscription_key(request) -> Application | None:
    key = request.META.get(SUBSCRIPTION_HEADER, "").strip()
    if not key:
        return None
    return Application.objects.filter(subscription_key=key).first()


def _basic_credentials(request) -> tuple[str, str]:
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise TokenError("invalid_client", "Client authentication required (HTTP Basic).", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise TokenError("invalid_client", "Malformed Basic credentials.", 401) from exc
    application_key, sep, client_key = decoded.partition(":")
    if not sep:
        raise TokenError("invalid_client", "Malformed Basic credentials.", 401)
    return application_key, client_key


def client_for_basic_auth(request) -> ClientSubscription:
    """The client subscription named by ``Basic base64(applicationKey:clientKey)``."""
    application_key, client_key = _basic_credentials(request)
    subscription = (
        ClientSubscription.objects.select_related("application", "company")
        .filter(application__application_key=application_key, client_key=client_key)
        .first()
    )
    if subscription is None:
        raise TokenError("invalid_client", "Unknown application key or client key.", 401)
    if not subscription.is_active:
        raise TokenError("invalid_client", "The client has deactivated this integration.", 401)
    return subscription


def check_grant_type(request, allowed=("client_credentials",)) -> str:
    """The request's ``grant_type`` if this endpoint supports it (RFC 6749 §5.2 otherwise)."""
    grant_type = request.POST.get("grant_type", "")
    if grant_type not in allowed:
        names = " or ".join(f"grant_type={name}" for name in allowed)
        raise TokenError("unsupported_grant_type", f"Only {names} is supported.", 400)
    return grant_type


def issue_token(subscription: ClientSubscription, api: str) -> AccessToken:
    """A new bearer token; a v1 token also gets a refresh token."""
    now = timezone.now()
    refresh = {}
    if api == "v1":
        refresh = {
            "refresh_token": secrets.token_urlsafe(48),
            "refresh_expires_at": now + REFRESH_TOKEN_LIFETIME,
        }
    return AccessToken.objects.create(
        subscription=subscription,
        api=api,
        created_at=now,
        expires_at=now + TOKEN_LIFETIMES[api],
        **refresh,
    )


def refresh_token(subscription: ClientSubscription, presented: str) -> AccessToken:
    """Trade a v1 refresh token for a new access token and a new refresh token.

    Single use: the presented token is spent whether or not its access token is still alive; an
    unknown, spent, expired or revoked one (or one of another client) is ``invalid_grant``.
    """
    presented = presented.strip()
    if not presented:
        raise TokenError("invalid_request", "refresh_token is required.", 400)
    now = timezone.now()
    with transaction.atomic():
        spent = AccessToken.objects.filter(
            subscription=subscription,
            api="v1",
            refresh_token=presented,
            refresh_used_at__isnull=True,
            refresh_expires_at__gt=now,
            revoked_at__isnull=True,
        ).update(refresh_used_at=now)
        if spent != 1:
            raise TokenError(
                "invalid_grant", "The refresh token is invalid, expired or already used.", 400
            )
        return issue_token(subscription, "v1")


def token_lifetime(token: AccessToken) -> int:
    return int(TOKEN_LIFETIMES[token.api].total_seconds())


def subscription_for_bearer(request, api: str) -> ClientSubscription | None:
    """The client behind a valid, unexpired bearer token of this API, else None."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    access = (
        AccessToken.objects.select_related(
            "subscription", "subscription__company", "subscription__application"
        )
        .filter(
            token=token.strip(), api=api, expires_at__gt=timezone.now(), revoked_at__isnull=True
        )
        .first()
    )
    if access is None or not access.subscription.is_active:
        return None
    return access.subscription


def has_privilege(subscription: ClientSubscription, privilege: str) -> bool:
    """``X_Read`` is satisfied by ``X_Read`` or ``X_Full``."""
    held = set(subscription.privileges or [])
    base = privilege.rsplit("_", 1)[0]
    return privilege in held or f"{base}_Full" in held

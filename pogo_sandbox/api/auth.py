"""Keys and tokens: subscription keys (v2 gateway), OAuth client credentials, bearer tokens."""

import base64
import binascii
import datetime as dt

from django.utils import timezone

from pogo_sandbox.models import AccessToken, Application, ClientSubscription

TOKEN_LIFETIME = dt.timedelta(seconds=1200)
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


def check_grant_type(request) -> None:
    grant_type = request.POST.get("grant_type", "")
    if grant_type != "client_credentials":
        raise TokenError(
            "unsupported_grant_type", "Only grant_type=client_credentials is supported.", 400
        )


def issue_token(subscription: ClientSubscription, api: str) -> AccessToken:
    now = timezone.now()
    return AccessToken.objects.create(
        subscription=subscription, api=api, created_at=now, expires_at=now + TOKEN_LIFETIME
    )


def subscription_for_bearer(request, api: str) -> ClientSubscription | None:
    """The client behind a valid, unexpired bearer token of this API, else None."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    access = (
        AccessToken.objects.select_related(
            "subscription", "subscription__company", "subscription__application"
        )
        .filter(token=token.strip(), api=api, expires_at__gt=timezone.now())
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

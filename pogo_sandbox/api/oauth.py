"""OAuth 2.0 client credentials: ``/OAuth/Token`` (v2, behind the gateway) and ``/v1/OAuth/Token``."""

from . import auth
from .endpoints import sandbox_view, v2_gateway
from .faults import apply_faults
from .http import json_response
from .ratelimit import rate_limited


def _token_error(exc: auth.TokenError):
    response = json_response(
        {"error": exc.error, "error_description": exc.description}, status=exc.status
    )
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="PowerOffice Go"'
    return response


def _token_response(token):
    response = json_response(
        {
            "access_token": token.token,
            "token_type": "bearer",
            "expires_in": int(auth.TOKEN_LIFETIME.total_seconds()),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _method_check(request):
    if request.method != "POST":
        return _token_error(auth.TokenError("invalid_request", "Use POST.", 405))
    return None


@sandbox_view
def token_v2(request):
    application, refused = v2_gateway(request)
    if refused is not None:
        return refused
    refused = _method_check(request)
    if refused is not None:
        return refused
    try:
        auth.check_grant_type(request)
        subscription = auth.client_for_basic_auth(request)
        if subscription.application_id != application.pk:
            raise auth.TokenError(
                "invalid_client", "The subscription key does not belong to this application.", 401
            )
    except auth.TokenError as exc:
        return _token_error(exc)
    return _token_response(auth.issue_token(subscription, "v2"))


@sandbox_view
def token_v1(request):
    fault = apply_faults(request)
    if fault is not None:
        return fault
    refused = _method_check(request)
    if refused is not None:
        return refused
    try:
        auth.check_grant_type(request)
        subscription = auth.client_for_basic_auth(request)
    except auth.TokenError as exc:
        return _token_error(exc)
    limited = rate_limited(subscription.application.subscription_key)
    if limited is not None:
        return limited
    return _token_response(auth.issue_token(subscription, "v1"))

"""OAuth 2.0 token endpoints: ``/OAuth/Token`` (v2, behind the gateway: client credentials,
20 minutes) and ``/v1/OAuth/Token`` (client credentials or a refresh token, 10 minutes, with a
single-use refresh token that is rotated on every use)."""

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
    body = {
        "access_token": token.token,
        "token_type": "bearer",
        "expires_in": auth.token_lifetime(token),
    }
    if token.refresh_token:
        body["refresh_token"] = token.refresh_token
    response = json_response(body)
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
        grant_type = auth.check_grant_type(request, ("client_credentials", "refresh_token"))
        subscription = auth.client_for_basic_auth(request)
    except auth.TokenError as exc:
        return _token_error(exc)
    limited = rate_limited(subscription.application.subscription_key)
    if limited is not None:
        return limited
    if grant_type == "refresh_token":
        try:
            token = auth.refresh_token(subscription, request.POST.get("refresh_token", ""))
        except auth.TokenError as exc:
            return _token_error(exc)
        return _token_response(token)
    return _token_response(auth.issue_token(subscription, "v1"))

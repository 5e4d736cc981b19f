"""``Onboarding/Initiate`` and ``Onboarding/Finalize``: subscription key only, no bearer token."""

import datetime as dt
import re
from urllib.parse import urlsplit

from django.utils import timezone

from pogo_sandbox import domain
from pogo_sandbox.models import ClientSubscription, OnboardingSession

from .endpoints import v2_endpoint
from .http import ApiError
from .params import json_body, require

TEMPORARY_URL_LIFETIME = dt.timedelta(hours=1)


def redirect_allowed(redirect_uri: str, prefix: str) -> bool:
    """Go whitelists scheme, host and path; query parameters (e.g. ``state``) are free."""
    if not prefix:
        return False
    uri, allowed = urlsplit(redirect_uri), urlsplit(prefix)
    return (
        uri.scheme.lower() == allowed.scheme.lower()
        and uri.netloc.lower() == allowed.netloc.lower()
        and uri.path.startswith(allowed.path)
    )


def _sandbox_root(request) -> str:
    """``/pogo/`` (or wherever the sandbox is mounted), from this request's path."""
    return request.path[: request.path.lower().index("v2/")]


@v2_endpoint(methods=("POST",), bearer=False)
def initiate(request):
    body = json_body(request)
    application_key = require(body, "ApplicationKey")
    redirect_uri = require(body, "RedirectUri")
    org_no = str(body.get("ClientOrganizationNo") or "").replace(" ", "")
    if application_key != request.application.application_key:
        raise ApiError(400, "Bad Request", "ApplicationKey does not match the subscription key.")
    if org_no and not re.fullmatch(r"\d{9}", org_no):
        raise ApiError(400, "Bad Request", "ClientOrganizationNo must be nine digits.")
    if not redirect_allowed(redirect_uri, request.application.redirect_uri_prefix):
        raise ApiError(400, "Bad Request", "RedirectUri is not whitelisted for this application.")
    session = OnboardingSession.objects.create(
        application=request.application,
        client_org_no=org_no,
        redirect_uri=redirect_uri,
        valid_until=timezone.now() + TEMPORARY_URL_LIFETIME,
    )
    path = f"{_sandbox_root(request)}onboarding/{session.temporary_token}/"
    return {
        "TemporaryUrl": request.build_absolute_uri(path),
        "ValidUntilDateTimeOffset": session.valid_until,
    }


@v2_endpoint(methods=("POST",), bearer=False)
def finalize(request):
    token = require(json_body(request), "OnboardingToken")
    try:
        session = domain.onboarding_finalize(request.application, token=str(token))
    except LookupError as exc:
        raise ApiError(404, "Not Found", "Unknown onboarding token.") from exc
    clients = ClientSubscription.objects.filter(
        application=request.application, company__in=session.companies.all()
    ).select_related("company")
    return {
        "OnboardedClientsInformation": [
            {
                "ClientKey": client.client_key,
                "ClientName": client.company.name,
                "ClientOrganizationNumber": client.company.org_number,
            }
            for client in clients
        ],
        "UserEmail": session.user.email if session.user else None,
    }

"""The checks every API request passes, in the order the real gateway applies them:

fault injection → (v2) subscription key → rate limit → bearer token → privilege → method →
contract check of the request (``conformance``) → view; and every response, whichever step
answered, is checked against the contract when ``POGO_SANDBOX_VALIDATE_RESPONSES`` is on.

Views receive ``request.application`` and, when a bearer token is required,
``request.subscription`` and ``request.company``; they raise ``ApiError`` (or the domain's
``SandboxError``) and return data, which the wrapper renders.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from pogo_sandbox.domain import SandboxError

from . import auth, conformance
from .faults import apply_faults
from .http import ApiError, gateway_error, problem, v1_error, v1_response, v2_response
from .ratelimit import rate_limited

MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)


def _sandbox_view(view):
    return wraps(view)(login_not_required(csrf_exempt(view)))


def _method_not_allowed(request, methods):
    response = problem(405, "Method Not Allowed", instance=request.path)
    response["Allow"] = ", ".join(methods)
    return response


def v2_gateway(request):
    """Fault, subscription key and rate limit: ``(application, None)`` or ``(None, response)``."""
    fault = apply_faults(request)
    if fault is not None:
        return None, fault
    if not request.META.get(auth.SUBSCRIPTION_HEADER, "").strip():
        return None, gateway_error(401, MISSING_KEY)
    application = auth.application_for_subscription_key(request)
    if application is None:
        return None, gateway_error(401, INVALID_KEY)
    limited = rate_limited(application.subscription_key)
    if limited is not None:
        return None, limited
    return application, None


def v2_endpoint(*, methods=("GET",), privilege=None, bearer=True):
    """A v2 view: returns data (rendered PascalCase, 204 when an empty list) or a response."""

    def decorate(view):
        def wrapped(request, *args, **kwargs):
            return conformance.check_response("v2", request, answer(request, *args, **kwargs))

        def answer(request, *args, **kwargs):
            application, refused = v2_gateway(request)
            if refused is not None:
                return refused
            request.application = application
            if bearer:
                subscription = auth.subscription_for_bearer(request, "v2")
                if subscription is None or subscription.application_id != application.pk:
                    response = problem(
                        401,
                        "Unauthorized",
                        "Access token is missing, invalid or expired.",
                        instance=request.path,
                    )
                    response["WWW-Authenticate"] = "Bearer"
                    return response
                if privilege and not auth.has_privilege(subscription, privilege):
                    return problem(
                        403,
                        "Forbidden",
                        f"The integration lacks the privilege {privilege} for this client.",
                        instance=request.path,
                    )
                request.subscription = subscription
                request.company = subscription.company
            if request.method not in methods:
                return _method_not_allowed(request, methods)
            problems = conformance.check_request("v2", request)
            if problems:
                return conformance.request_refused("v2", request, problems)
            try:
                result = view(request, *args, **kwargs)
            except ApiError as exc:
                return problem(exc.status, exc.title, exc.detail, instance=request.path)
            except SandboxError as exc:
                return problem(400, "Bad Request", str(exc), instance=request.path)
            if isinstance(result, HttpResponse):
                return result
            return v2_response(result)

        return _sandbox_view(wrapped)

    return decorate


def v1_endpoint(*, methods=("GET",), privilege="DebtCollection_Full"):
    """A v1 view: returns ``data`` or ``(data, count)``, rendered as the wrapped v1 shape."""

    def decorate(view):
        def wrapped(request, *args, **kwargs):
            return conformance.check_response("v1", request, answer(request, *args, **kwargs))

        def answer(request, *args, **kwargs):
            fault = apply_faults(request)
            if fault is not None:
                return fault
            subscription = auth.subscription_for_bearer(request, "v1")
            if subscription is None:
                response = v1_error("Authorization has been denied for this request.", status=401)
                response["WWW-Authenticate"] = "Bearer"
                return response
            limited = rate_limited(subscription.application.subscription_key)
            if limited is not None:
                return limited
            if privilege and not auth.has_privilege(subscription, privilege):
                return v1_error(f"The integration lacks the privilege {privilege}.")
            if request.method not in methods:
                return v1_error(f"The requested resource does not support {request.method}.")
            request.application = subscription.application
            request.subscription = subscription
            request.company = subscription.company
            problems = conformance.check_request("v1", request)
            if problems:
                return conformance.request_refused("v1", request, problems)
            try:
                result = view(request, *args, **kwargs)
            except (ApiError, SandboxError) as exc:
                return v1_error(str(exc))
            if isinstance(result, HttpResponse):
                return result
            if isinstance(result, tuple):
                data, count = result
                return v1_response(data, count=count)
            return v1_response(result)

        return _sandbox_view(wrapped)

    return decorate


def sandbox_view(view):
    """For views that do their own checks (the OAuth token endpoints)."""
    return _sandbox_view(view)

"""Every API failure has one shape: ``{"type": ..., "message": ..., "errors": {field: [...]}}``.

``errors`` lists field errors (nested fields joined with dots, errors not tied to one field
under ``non_field_errors``) and is ``{}`` otherwise. A business rule's refusal
(:class:`~kravia_web.errors.ApplicationError`) is a 409, or a 400 when it names fields.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

#: DRF exception → error type (its status code comes with the exception).
TYPES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "The Idempotency-Key was used with another request."


class IdempotencyKeyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_progress"
    default_detail = "A request with this Idempotency-Key is still running."


def error_body(type_: str, message: str, errors: dict | None = None) -> dict:
    return {"type": type_, "message": str(message), "errors": errors or {}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → ``{"field.sub": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in _flatten(item, name).items():
                    out.setdefault(field, []).extend(messages)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _type_for(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in TYPES:
            return TYPES[cls]
    return getattr(exc, "default_code", None) or "error"


def api_exception_handler(exc, context):
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: turns every exception into the error shape."""
    if isinstance(exc, ApplicationError):
        fields = exc.extra.get("fields")
        if fields:
            return Response(
                error_body("validation_error", exc.message, _flatten(fields)),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(error_body("conflict", exc.message), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", _("Forespørselen er for stor.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in the API", exc_info=exc)
        return Response(
            error_body("server_error", _("Noe gikk galt hos oss. Prøv igjen senere.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "validation_error", _("Forespørselen har ugyldige felt."), _flatten(exc.detail)
        )
    else:
        detail = exc.detail
        message = detail if isinstance(detail, str) else _("Forespørselen ble avvist.")
        response.data = error_body(_type_for(exc), message)
    return response


def not_found_view(request, *args, **kwargs):
    """Unknown paths under ``/api/v1/``: a 404 in the error shape, not the HTML page."""
    return JsonResponse(
        error_body("not_found", _("Ikke funnet.")), status=status.HTTP_404_NOT_FOUND
    )


not_found_view.login_required = False

"""The sandbox holds itself and its callers to PowerOffice's published contract.

Every API request is checked against the vendored spec (``pogo_sandbox.contract``) after the
gateway, token and privilege checks and before the view: a v2 violation is answered with
ASP.NET Core's validation ProblemDetails (400, ``Errors`` keyed by field), a v1 violation with
v1's validation envelope (``fields``). With ``POGO_SANDBOX_VALIDATE_RESPONSES`` every response
the API wrappers send is checked too; a violation is recorded in ``response_violations`` and
answered as a 500 ProblemDetails naming it, so nothing non-conforming reaches a client silently.

``validated_operations`` lists every (api, method, spec path) checked in this process, so a test
can assert which operations it covered (``tests/support/pogo_http.py`` resets both lists per
test).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse

from pogo_sandbox import contract

from .http import PROBLEM_TYPES, json_response, problem, v1_error

logger = logging.getLogger(__name__)

VALIDATION_TITLE = "One or more validation errors occurred."


@dataclass(frozen=True)
class ResponseViolation:
    api: str
    method: str
    path: str
    status: int
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.api} {self.method} {self.path} → {self.status}: " + "; ".join(self.problems)


response_violations: list[ResponseViolation] = []
validated_operations: list[contract.Operation] = []


def reset() -> None:
    response_violations.clear()
    validated_operations.clear()


def _record(api: str, method: str, path: str) -> None:
    operation = contract.find_operation(api, method, path)
    if operation is not None:
        validated_operations.append(operation)


def check_request(api: str, request) -> list[str]:
    """The request's violations of the contract (empty: it conforms)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method not in ("POST", "PUT", "PATCH"):
        body = None
    elif content_type.lower().startswith("multipart/"):
        # Left for the view to stream (a page may be larger than DATA_UPLOAD_MAX_MEMORY_SIZE);
        # the contract checks a multipart body's media type only (pogo_sandbox.contract).
        body = b"multipart"
    else:
        body = request.body
    problems = contract.validate_request(
        api, request.method, request.path, request.GET, body, content_type
    )
    _record(api, request.method, request.path)
    return problems


def _errors(problems: list[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in problems:
        field, _, message = item.partition(": ")
        errors.setdefault(field, []).append(message or item)
    return errors


def request_refused(api: str, request, problems: list[str]) -> HttpResponse:
    """PowerOffice's answer to a request that breaks the contract."""
    logger.warning(
        "PoGo sandbox refused a request that breaks the contract: %s %s %s: %s",
        api,
        request.method,
        request.path,
        "; ".join(problems),
    )
    if api == "v1":
        fields = {name: "; ".join(messages) for name, messages in _errors(problems).items()}
        return v1_error("The request is invalid. " + "; ".join(problems), fields=fields)
    if any(item.startswith("(content type)") for item in problems):
        # ASP.NET refuses a body it has no input formatter for before model validation.
        return problem(415, "Unsupported Media Type", "; ".join(problems), instance=request.path)
    body = {
        "Type": PROBLEM_TYPES[400],
        "Title": VALIDATION_TITLE,
        "Status": 400,
        "Detail": "; ".join(problems),
        "Instance": request.path,
        "Errors": _errors(problems),
    }
    return json_response(body, status=400, content_type="application/problem+json")


def check_response(api: str, request, response: HttpResponse) -> HttpResponse:
    """``response``, or a 500 naming its violations of the contract (recorded)."""
    if not getattr(settings, "POGO_SANDBOX_VALIDATE_RESPONSES", False):
        return response
    if getattr(response, "streaming", False):
        return response
    problems = contract.validate_response(
        api,
        request.method,
        request.path,
        response.status_code,
        response.content,
        response.get("Content-Type", ""),
    )
    _record(api, request.method, request.path)
    if not problems:
        return response
    violation = ResponseViolation(
        api, request.method, request.path, response.status_code, tuple(problems)
    )
    response_violations.append(violation)
    logger.error("PoGo sandbox response breaks the contract: %s", violation)
    return problem(
        500,
        "Sandbox response violates the PowerOffice contract",
        str(violation),
        instance=request.path,
    )

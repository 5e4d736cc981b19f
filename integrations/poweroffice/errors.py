"""Typed errors: every transport failure and every PoGo error response becomes one of these.

Callers (services, Celery tasks) decide what to retry by type: ``RateLimited`` and
``Unavailable`` are transient, the rest are not. Messages are short and never contain keys or
tokens (``redact`` strips any secret the server might echo back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_MAX_MESSAGE = 300


class PowerOfficeError(Exception):
    """Base class. ``status_code`` is the HTTP status, or ``None`` when no response came back;
    ``problem`` is the error body PoGo sent (ProblemDetails), when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message[:_MAX_MESSAGE]
        self.status_code = status_code
        self.problem = dict(problem) if problem is not None else None
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.message} (HTTP {self.status_code})"


class Unauthorized(PowerOfficeError):
    """Bad or revoked keys, a rejected token, or a 401 that survived one re-authentication."""


class Forbidden(PowerOfficeError):
    """The integration lacks a privilege or Go module; ``ClientIntegrationInformation`` explains."""


class NotFound(PowerOfficeError):
    pass


class Conflict(PowerOfficeError):
    """E.g. a duplicate ``ExternalImportReference``: the voucher was already posted."""


class ValidationError(PowerOfficeError):
    """PoGo rejected the request (ProblemDetails / v1 ``validation``), or a response lacked a
    field we require (``field`` names it)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        problem: Mapping[str, Any] | None = None,
        validation: Any = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, problem=problem)
        self.validation = validation
        self.field = field


class RateLimited(PowerOfficeError):
    """Still throttled (429) after the bounded retries."""

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Unavailable(PowerOfficeError):
    """5xx, timeouts or dropped connections after the bounded retries.

    ``maybe_processed`` is true when a non-idempotent request may have reached PoGo before the
    failure (so it was not retried blindly): the caller must check before sending it again.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, maybe_processed: bool = False
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.maybe_processed = maybe_processed


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every known secret in ``text``; used on anything the server sends back to us."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text

"""One-time tokens never reach a log.

Three links carry a secret in their URL: the password-reset link
(``/passord/nytt/<uid>/<token>/``), an invitation (``/invitasjon/<token>/``) and PowerOffice
Go's return from «Gi tilgang» (``?state=…&token=…``). The views move the secret out of the
address bar at once (Django's reset view and our callback keep it in the session and redirect
to a URL without it), but the first request is still logged by whatever serves it. So:

- :class:`GunicornLogger` (``--logger-class`` in the Dockerfile and docker-compose.yml)
  redacts every access-log atom — request line, path, query string, Referer — before
  formatting;
- :class:`RedactTokensFilter` (on the console handler in ``LOGGING``) does the same for every
  message Django, runserver (``django.server``) or our code logs.

The value is replaced by ``[redacted]``; the path and the other parameters stay readable.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as _GunicornBaseLogger

REDACTED = "[redacted]"
#: Query parameters whose value is a secret (plain, or percent-encoded inside ``next=``).
SECRET_PARAMS = ("token", "state", "code", "password", "key", "api_key")
_PARAM = "|".join(SECRET_PARAMS)
_PATTERNS = [
    # Password reset: /passord/nytt/<uidb64>/<token>/ (not Django's token-free set-password/).
    (re.compile(r"(/passord/nytt/[^/\s?#\"]+/)(?!set-password/)[^/\s?#\"]+"), rf"\1{REDACTED}"),
    # Invitation links: /invitasjon/<token>/.
    (re.compile(r"(/invitasjon/)[^/\s?#\"]+"), rf"\1{REDACTED}"),
    # ?token=…&state=… in a query string.
    (re.compile(rf"([?&;](?:{_PARAM})=)[^&;#\s\"]*", re.IGNORECASE), rf"\1{REDACTED}"),
    # The same percent-encoded once (a ``next=`` that holds a callback URL) or twice.
    (
        re.compile(rf"((?:%3F|%26|%253F|%2526)(?:{_PARAM})(?:%3D|%253D))[^%&\s\"]*", re.I),
        rf"\1{REDACTED}",
    ),
    # Password reset path percent-encoded inside next=.
    (
        re.compile(r"(%2Fpassord%2Fnytt%2F[^%\s\"&]+%2F)(?!set-password)[^%\s\"&]+", re.I),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(%2Finvitasjon%2F)[^%\s\"&]+", re.I), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokensFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with every access-log atom redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }

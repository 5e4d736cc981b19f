"""Password spraying: many accounts tried from one address.

django-axes locks one e-mail from one address after ``AXES_FAILURE_LIMIT`` failures; someone
trying one or two passwords against many accounts never reaches it. This adds a second,
higher limit per address alone: ``LOGIN_FAILURES_PER_ADDRESS`` failed logins (any accounts)
within ``LOGIN_ADDRESS_WINDOW_SECONDS`` lock that address out of every login form (Kundeweb and
the admin) until the window ends. Counted in Django's cache (``add`` then ``incr``: atomic on
Redis, which production requires, so every worker shares the count).

Why not axes' own ``"ip_address"`` lockout parameter: axes applies one ``AXES_FAILURE_LIMIT``
to every parameter set, so locking by address would lock a whole office (one NAT address)
after five typos; the address limit must be much higher than the per-account one.

The refusal is axes' lockout page (429, ``registration/locked_out.html``): the backend below
flags the request the way axes' own backend does, and ``AxesMiddleware`` renders it.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from kravia_web.client_address import client_ip


def _key(address: str) -> str:
    digest = hashlib.sha256((address or "unknown").encode()).hexdigest()[:32]
    return f"login:failures:address:{digest}"


def address_failures(address: str) -> int:
    return int(cache.get(_key(address)) or 0)


def address_locked(address: str) -> bool:
    return address_failures(address) >= settings.LOGIN_FAILURES_PER_ADDRESS


def _count_failure(address: str) -> None:
    key = _key(address)
    window = settings.LOGIN_ADDRESS_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)


@receiver(user_login_failed, dispatch_uid="kravia_web.login_throttle.count_failure")
def count_failure(sender, credentials, request=None, **kwargs):
    if request is not None:
        _count_failure(client_ip(request))


class AddressThrottleBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses every login from a locked address before a
    password is checked (``authenticate`` stops at ``PermissionDenied``)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not address_locked(client_ip(request)):
            return None
        request.axes_locked_out = True  # AxesMiddleware answers with the lockout page
        request.axes_credentials = {settings.AXES_USERNAME_FORM_FIELD: username}
        raise PermissionDenied("Too many failed logins from this address.")

    # No get_user(): like axes' backend it never logs anyone in, so Django's test client's
    # force_login() and the session's backend path skip it.


def axes_username(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the e-mail as the login compares it (lower-cased), so
    ``Ola@Example.no`` and ``ola@example.no`` count against the same lockout."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get(field)
    return username.strip().lower() if isinstance(username, str) else username

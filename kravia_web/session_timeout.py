"""Sessions end after ``SESSION_IDLE_TIMEOUT`` seconds without a request, and after
``SESSION_COOKIE_AGE`` seconds whatever happens (an absolute lifetime from the login).

Django alone renews a session's expiry each time the session is saved, so a session in use
never ends and one left open lasts the whole ``SESSION_COOKIE_AGE``. This middleware keeps two
times in the session — when it started (reset at login) and when it was last used — and flushes
it when either limit has passed: the user is logged out (the next page sends them to the login
with a message), and whatever else the session held (Min side's case, a PowerOffice onboarding
in progress) is gone too. Last use is written at most once a minute, so not every request
writes the session.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

STARTED = "_session_started"
LAST_SEEN = "_session_last_seen"
#: Last use is rewritten only when it is older than this (seconds).
RESOLUTION = 60


def _start(session, now: float) -> None:
    session[STARTED] = now
    session[LAST_SEEN] = now


@receiver(user_logged_in, dispatch_uid="kravia_web.session_timeout.start_at_login")
def start_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        _start(request.session, time.time())


def session_expired(session, now: float) -> bool:
    started, seen = session.get(STARTED), session.get(LAST_SEEN)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return False
    return now - seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_COOKIE_AGE


class SessionTimeoutMiddleware:
    """After SessionMiddleware, AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = time.time()
            if session_expired(session, now):
                was_logged_in = "_auth_user_id" in session
                session.flush()
                request.user = AnonymousUser()
                if was_logged_in:
                    messages.info(
                        request, _("Du ble logget ut fordi du ikke har vært aktiv på en stund.")
                    )
            elif STARTED in session and now - session.get(LAST_SEEN, 0) > RESOLUTION:
                session[LAST_SEEN] = now
        response = self.get_response(request)
        # A session that got its first data during this request (a Min side lookup, «Gi
        # tilgang» without a user, a session from before this middleware) starts its clocks;
        # SessionMiddleware, outside this one, saves it after.
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and STARTED not in session:
            if list(session.keys()):  # not for a cookie whose session is gone
                _start(session, time.time())
        return response

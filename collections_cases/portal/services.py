"""Min side access: the case lookup with its rate limit, and the portal session.

The lookup never tells which half of a wrong pair was wrong (no enumeration): an unknown case
number and a wrong KID give the same answer, and the KID is compared with
:func:`hmac.compare_digest` against a stand-in when the number is unknown, so both take about
the same time. Every try counts against the visitor's address and against the case number
typed, in Django's cache (``add`` then ``incr``: atomic on Redis and in local memory), so
neither many numbers from one address nor many addresses on one number get through.

The portal session holds one case id and an expiry time, separate from any Kundeweb login;
every portal view reads the case from it, so a URL never selects a case.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

from collections_cases.models import CollectionCase

SESSION_KEY = "portal_case"
SESSION_SECONDS = 30 * 60
MAX_TRIES = 10
WINDOW_SECONDS = 15 * 60
#: Compared against when no case has the number typed, so a miss costs what a hit costs.
_STAND_IN_KID = "0" * 25


@dataclass(frozen=True)
class LookupResult:
    case: CollectionCase | None = None
    locked_out: bool = False


def normalise_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def normalise_kid(value: str) -> str:
    return re.sub(r"[\s.-]+", "", value or "")


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"portal:tries:{kind}:{digest}"


def _tries(key: str) -> int:
    return int(cache.get(key) or 0)


def _count_try(key: str) -> None:
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS)


def portal_lookup(*, number: str, kid: str, ip: str) -> LookupResult:
    """The case with this number and KID, or nothing; ``locked_out`` after too many tries
    from ``ip`` or on ``number`` within the window (then the pair is not even checked)."""
    number, kid = normalise_number(number), normalise_kid(kid)
    keys = (_key("ip", ip or "unknown"), _key("number", number))
    if any(_tries(key) >= MAX_TRIES for key in keys):
        return LookupResult(locked_out=True)
    for key in keys:
        _count_try(key)
    case = CollectionCase.objects.filter(number=number).only("pk", "kid").first()
    expected = case.kid if case is not None else _STAND_IN_KID
    matches = hmac.compare_digest(expected.encode(), kid.encode())
    if case is None or not matches:
        return LookupResult()
    return LookupResult(case=case)


def portal_login(request, case: CollectionCase) -> None:
    """Bind the session to ``case`` (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"case_id": case.pk, "expires": time.time() + SESSION_SECONDS}


def portal_logout(request) -> None:
    request.session.pop(SESSION_KEY, None)


def portal_case_id(request) -> int | None:
    """The case this portal session may see, or None (never bound, or expired); a visit
    extends the expiry."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("expires", 0) < time.time():
        request.session.pop(SESSION_KEY, None)
        return None
    data["expires"] = time.time() + SESSION_SECONDS
    request.session[SESSION_KEY] = data
    return data.get("case_id")

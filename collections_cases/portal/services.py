"""Min side: the login with the letter's access code or link, its limits, and the portal
session.

The codes and links themselves are in :mod:`collections_cases.portal.access`; the KID opens
nothing. The code form never tells which half of a wrong pair was wrong (no enumeration): an
unknown case number and a wrong code give the same answer and cost the same (one HMAC).

Limits (Django's cache, Redis in production; ``add`` then ``incr`` is atomic), counted on
**failures** within :data:`WINDOW_SECONDS`, by the visitor's address from
:func:`kravia_web.client_address.client_ip` (the real address behind the proxy):

* an address with :data:`ADDRESS_FAILURES` failures is refused (429) — on every case;
* a case number with :data:`CASE_FAILURES` failures (from any addresses) is *under guessing*:
  then an address that has failed on that case already is refused for it, while an address
  that has not gets its try. So guessing is slowed to one try per address per case and
  window, but the debtor whose code is right still gets in from their own address, however
  many wrong guesses others made — a wrong guess never locks the real debtor out.
* a genuine link always opens (it cannot be guessed: it is signed); a forged or mangled one
  counts as a failure of the address.

The ≈ 50 bits of the code are the actual defence; the limits stop cheap guessing.

The portal session holds one case id, the access it was opened with and an expiry time,
separate from any Kundeweb login; every portal view reads the case from it (no URL selects a
case) and checks that the access is still valid, so a revoked code ends open sessions too.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

from collections_cases.models import CollectionCase, PortalAccess
from collections_cases.portal import access as access_services

SESSION_KEY = "portal_case"
SESSION_SECONDS = 30 * 60
#: Failed code or link tries from one address within the window before it is refused.
ADDRESS_FAILURES = 10
#: Failed code tries on one case number within the window before it counts as under guessing.
CASE_FAILURES = 5
WINDOW_SECONDS = 15 * 60
#: Kept for callers that spoke of the old single limit (the per-address one).
MAX_TRIES = ADDRESS_FAILURES


@dataclass(frozen=True)
class LoginResult:
    access: PortalAccess | None = None
    locked_out: bool = False
    #: A genuine link whose code is no longer valid (revoked or expired).
    stale_link: bool = False

    @property
    def case(self) -> CollectionCase | None:
        return self.access.case if self.access is not None else None


def normalise_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def _key(kind: str, *values: str) -> str:
    digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]
    return f"portal:fail:{kind}:{digest}"


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def _count_failure(key: str) -> None:
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS)


def _keys(number: str, ip: str) -> tuple[str, str, str]:
    ip = ip or "unknown"
    return _key("ip", ip), _key("case", number), _key("case-ip", number, ip)


def _refused(number: str, ip: str) -> bool:
    ip_key, case_key, case_ip_key = _keys(number, ip)
    if _count(ip_key) >= ADDRESS_FAILURES:
        return True
    return _count(case_key) >= CASE_FAILURES and _count(case_ip_key) >= 1


def portal_login_with_code(*, number: str, code: str, ip: str) -> LoginResult:
    """The access of case ``number`` whose code is ``code``, or nothing; ``locked_out`` when
    the limits refuse this address (then the pair is not even checked)."""
    number = normalise_number(number)
    if _refused(number, ip):
        return LoginResult(locked_out=True)
    access = access_services.code_access(number=number, code=code)
    if access is None:
        for key in _keys(number, ip):
            _count_failure(key)
        return LoginResult()
    access_services.access_mark_used(access)
    return LoginResult(access=access)


def portal_login_with_link(*, token: str, ip: str) -> LoginResult:
    """The access a personal link names. A genuine link opens even for an address over its
    limit; a token we did not sign counts as a failure of the address."""
    found = access_services.link_access(token)
    if found is False:
        ip_key = _keys("", ip)[0]
        locked = _count(ip_key) >= ADDRESS_FAILURES
        _count_failure(ip_key)
        return LoginResult(locked_out=locked)
    if found is None:
        return LoginResult(stale_link=True)
    access_services.access_mark_used(found)
    return LoginResult(access=found)


def portal_login(request, access: PortalAccess) -> None:
    """Bind the session to the access's case (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "case_id": access.case_id,
        "access_id": access.pk,
        "expires": time.time() + SESSION_SECONDS,
    }


def portal_logout(request) -> None:
    request.session.pop(SESSION_KEY, None)


def portal_case_id(request) -> int | None:
    """The case this portal session may see, or None (never bound, expired, or its access
    revoked since); a visit extends the expiry."""
    data = request.session.get(SESSION_KEY)
    if (
        not isinstance(data, dict)
        or data.get("expires", 0) < time.time()
        or not access_services.access_is_valid(data.get("access_id"), data.get("case_id"))
    ):
        request.session.pop(SESSION_KEY, None)
        return None
    data["expires"] = time.time() + SESSION_SECONDS
    request.session[SESSION_KEY] = data
    return data.get("case_id")

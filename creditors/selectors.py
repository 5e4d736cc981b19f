"""Reads, always scoped to the user's creditors."""

from typing import NamedTuple

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from creditors.models import Creditor, Membership

ACTIVE_CREDITOR_SESSION_KEY = "active_creditor_id"


def verified_creditor_ids() -> QuerySet:
    """The verified creditors' ids, as a subquery: ``case__creditor_id__in=…`` filters without
    joining the creditor row (so a ``SELECT … FOR UPDATE`` of cases does not lock it)."""
    return Creditor.objects.filter(verified_at__isnull=False).values("pk")


def creditor_list_for_user(*, user) -> QuerySet[Creditor]:
    if not user.is_authenticated:
        return Creditor.objects.none()
    return Creditor.objects.filter(memberships__user=user).order_by("name")


def creditor_get_for_user(*, user, creditor_id) -> Creditor:
    """The creditor if ``user`` is a member; 404 otherwise (never reveals that it exists)."""
    try:
        return creditor_list_for_user(user=user).get(pk=int(creditor_id))
    except (Creditor.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def membership_role(*, user, creditor) -> str | None:
    return (
        Membership.objects.filter(user=user, creditor=creditor)
        .values_list("role", flat=True)
        .first()
    )


def creditor_choices_for_request(request) -> tuple[list[Creditor], Creditor | None]:
    """The user's creditors (by name) and the active one among them, with one query.

    The same answer as ``creditor_list_for_user`` and ``creditor_active_for_request``, read
    once per request for the header (every page) and the page's own view: remembered on the
    request for its user and the session's active creditor, so a switch (or a case page
    of another creditor, ``make_active``) is seen at once."""
    user = request.user
    active_id = request.session.get(ACTIVE_CREDITOR_SESSION_KEY)
    key = (user.pk, active_id)
    cached = getattr(request, "_creditor_choices", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    creditors = list(creditor_list_for_user(user=user))
    choices = (creditors, _active_among(creditors, active_id))
    request._creditor_choices = (key, choices)
    return choices


def _active_among(creditors: list, active_id):
    """The one of ``creditors`` (by name) whose id the session holds, else the first."""
    try:
        wanted = int(active_id) if active_id is not None else None
    except (TypeError, ValueError):
        wanted = None
    active = next((creditor for creditor in creditors if creditor.pk == wanted), None)
    return active if active is not None or not creditors else creditors[0]


def creditor_active_for_request(request) -> Creditor | None:
    """The creditor picked in the header, or the user's first one."""
    creditors = creditor_list_for_user(user=request.user)
    active_id = request.session.get(ACTIVE_CREDITOR_SESSION_KEY)
    if active_id is not None:
        creditor = creditors.filter(pk=active_id).first()
        if creditor is not None:
            return creditor
    return creditors.first()


class CreditorName(NamedTuple):
    """What the header shows of one of the user's creditors."""

    pk: int
    name: str


#: How long the header's names stay in the cache at most: a change the signals cannot see (a
#: ``QuerySet.update`` of a creditor's name) shows within this many seconds.
HEADER_NAMES_SECONDS = 300


def _names_version_key(user_id: int) -> str:
    return f"creditors:header-names-version:{user_id}"


def creditor_header_names_changed(*, user_ids) -> None:
    """After a commit that changed who is a member of which creditor, or a creditor's name:
    the header reads those users' names from the database again. A version per user, so a
    request that read the old names before the commit cannot put them back under the key
    the next requests read."""
    for user_id in set(user_ids):
        key = _names_version_key(user_id)
        try:
            cache.incr(key)
        except ValueError:  # no version yet (or evicted): a new one, unlike any used before
            cache.set(key, _new_version(), None)


def _new_version() -> int:
    import time

    return time.time_ns()


def creditor_header_for_request(request) -> tuple[list, object | None]:
    """The header's creditor switcher: ``(creditors, active)`` with ``pk`` and ``name``.

    A view that read the user's creditors already (``creditor_choices_for_request``) lends
    them; otherwise the names come from the cache (per user and version, bumped on commit by
    ``creditors.receivers``), one query when they are not there. Only the header reads these:
    every view checks access against the database."""
    user = request.user
    active_id = request.session.get(ACTIVE_CREDITOR_SESSION_KEY)
    cached = getattr(request, "_creditor_choices", None)
    if cached is not None and cached[0] == (user.pk, active_id):
        return cached[1]
    version_key = _names_version_key(user.pk)
    version = cache.get(version_key)
    if version is None:
        version = _new_version()
        cache.add(version_key, version, None)
        version = cache.get(version_key, version)
    key = f"creditors:header-names:{user.pk}:{version}"
    names = cache.get(key)
    if names is None:
        names = [
            CreditorName(pk, name)
            for pk, name in creditor_list_for_user(user=user).values_list("pk", "name")
        ]
        cache.set(key, names, HEADER_NAMES_SECONDS)
    return names, _active_among(names, active_id)

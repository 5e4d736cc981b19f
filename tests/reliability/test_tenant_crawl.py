"""Tenant isolation, by crawling every URL pattern rather than trusting a list of them.

Creditor A owns one of everything (case, debtor, letter, settlement, payment plan, team member,
invitation, API key, webhook endpoint and delivery). A user of creditor B — and B's API key —
then asks for each of A's objects on every pattern that takes an id (filled with A's ids, and
with B's own parent id beside A's child id), by GET and by POST: the answer is 404 (or 403 /
405) everywhere and A's data does not change. Pages without ids must not show A's data. A new
URL pattern that no rule below covers fails the test until someone decides what it is.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from api_access.services import api_key_create
from collections_cases.models import CollectionCase
from collections_cases.portal.access import LINK_SALT, access_issue, link_token
from tests.reliability.conftest import SECRET_NAME

pytestmark = pytest.mark.reliability

# Reachable without a creditor's membership on purpose; each protected by something else.
PUBLIC = {
    "healthz": "health check, no data",
    "set_language": "language cookie",
    "signup": "creates a new account",
    "login": "login (throttled by django-axes)",
    "logout": "logout",
    "password_reset": "sends a mail only to the address's owner",
    "password_reset_done": "static page",
    "password_reset_confirm": "signed single-use token",
    "password_reset_complete": "static page",
    "invitation_accept": "hashed single-use token (tests/creditors/test_team.py)",
    "poweroffice_callback": "single-use state bound to the session (test_onboarding_flow.py)",
    "poweroffice_connect_public": "starts a connection for the user's own creditor",
    "poweroffice_connect_public_callback": "single-use state bound to the session",
    "poweroffice_connect_public_done": "shows the session's own result",
    "api_schema": "the public OpenAPI schema",
    "api_docs": "Swagger UI of the public schema",
    "api_redoc": "Redoc of the public schema",
    None: "the API's JSON 404 for every unknown path",
}
# The debtor portal: a session bound to one case by the letter's access code or the e-mail's
# signed link, never by case number + KID (crawled below with another case's session).
PORTAL_PREFIX = "min-side/"
# Staff only: Django admin sends every non-staff user to its login.
ADMIN_PREFIX = "admin/"
# The PowerOffice Go emulator: another company's system, never installed in production.
SANDBOX_PREFIX = "pogo/"


def walk(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def fill(route: str, ids: dict, slugs: dict) -> str:
    import re

    def value(match):
        name = match.group(2)
        if name in slugs:
            return slugs[name]
        if name not in ids:
            pytest.fail(f"{route}: no rule for <{name}> — add it to the crawl's objects")
        return str(ids[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def classify(route: str, pattern: URLPattern) -> str:
    if route.startswith(ADMIN_PREFIX):
        return "admin"
    if route.startswith(SANDBOX_PREFIX):
        return "sandbox"
    if route.startswith(PORTAL_PREFIX):
        return "portal"
    if pattern.name in PUBLIC:
        return "public"
    if "<" in route:
        return "object"
    return "list"


def a_state(case: CollectionCase):
    case.refresh_from_db()
    return (case.status, case.updated_at, case.events.count(), case.payment_plans.get().status)


def test_every_url_pattern_is_covered_by_a_rule_and_b_never_reaches_a(client, world):
    client.force_login(world["user_b"])
    api = APIClient()
    _key, raw_b = api_key_create(creditor=world["creditor_b"], actor=None, name="B")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_b}")
    before = a_state(world["case_a"])
    checked = {"object": 0, "list": 0, "requests": 0}
    leaks = []

    for route, pattern in walk():
        kind = classify(route, pattern)
        if kind != "object":
            if kind == "list" and "^" not in route:
                response = client.get("/" + route)
                checked["list"] += 1
                checked["requests"] += 1
                if response.status_code >= 500 or SECRET_NAME.encode() in response.content:
                    leaks.append(("GET", route, response.status_code))
            continue
        checked["object"] += 1
        names = [n for n in pattern.pattern.converters if n not in world["slugs"]]
        variants = [world["a"]]
        # B's own parent beside A's child: the classic id-swap.
        for name in names:
            if name in world["b"] and len(names) > 1:
                variants.append({**world["a"], name: world["b"][name]})
        for ids in variants:
            url = fill(route, ids, world["slugs"])
            user_agent = api if route.startswith("api/") else client
            for method in ("get", "post"):
                response = getattr(user_agent, method)(url)
                checked["requests"] += 1
                if response.status_code not in (403, 404, 405):
                    leaks.append((method.upper(), url, response.status_code))

    assert leaks == []
    assert a_state(world["case_a"]) == before
    assert checked["object"] >= 25
    print(f"\n[reliability] tenant crawl: {checked}")


def test_b_cannot_make_a_its_active_creditor(client, world):
    client.force_login(world["user_b"])

    client.post("/kreditor/velg/", {"creditor_id": world["a"]["creditor_id"], "next": "/saker/"})
    response = client.get("/saker/")

    assert response.status_code == 200
    assert SECRET_NAME.encode() not in response.content
    assert client.session.get("active_creditor_id") != world["a"]["creditor_id"]


def test_admin_patterns_send_a_non_staff_user_to_the_admin_login(client, world):
    client.force_login(world["user_b"])
    checked = 0
    for route, pattern in walk():
        if not route.startswith(ADMIN_PREFIX) or "<" in route or "(?P" in route:
            continue
        if pattern.name in ("login", "logout"):
            continue
        response = client.get("/" + route.replace("^", "").replace("$", ""))
        checked += 1
        assert response.status_code in (302, 404), route
        if response.status_code == 302:
            assert response.url.startswith("/admin/login/"), route
    assert checked >= 10


def test_min_side_opens_only_with_the_cases_own_code_or_link_and_never_reaches_another_case(
    client, world
):
    """A's debtor has a code and a link; B's debtor has theirs. Nothing of B's (nor A's KID)
    opens A's case, and B's session, sent to every Min side pattern (A's ids where there are
    ids), GET and POST, never shows or changes A."""
    from django.core import signing
    from django.core.cache import cache

    cache.clear()
    case_a = world["case_a"]
    case_b = CollectionCase.objects.exclude(pk=case_a.pk).get()
    issued_a = access_issue(case=case_a)
    issued_b = access_issue(case=case_b)
    before = a_state(case_a)

    # Not logged in: every way in to A that is not A's own code or link.
    token_b = link_token(issued_b.access)
    ways_in = [
        ("post", "/min-side/", {"number": case_a.number, "code": case_a.kid}),
        ("post", "/min-side/", {"number": case_a.number, "code": issued_b.code}),
        ("post", "/min-side/", {"number": case_a.number, "kid": case_a.kid}),
        (
            "get",
            "/min-side/lenke/",
            {"token": signing.dumps({"c": case_a.pk, "a": issued_b.access.pk}, salt=LINK_SALT)},
        ),
        ("get", "/min-side/lenke/", {"token": token_b[:-2] + "xx"}),
    ]
    for method, url, data in ways_in:
        outsider = type(client)()
        response = getattr(outsider, method)(url, data, follow=True)
        assert SECRET_NAME.encode() not in response.content, (method, url, data)
        assert outsider.get("/min-side/sak/").status_code == 302, (method, url, data)

    # B's debtor, logged in with B's link, crawls every Min side pattern with A's ids.
    assert client.get("/min-side/lenke/", {"token": token_b}).status_code == 302
    assert client.get("/min-side/sak/").status_code == 200
    leaks, checked = [], 0
    marks_of_a = [SECRET_NAME.encode(), case_a.number.encode(), case_a.kid.encode()]
    routes = [r for r, p in walk() if classify(r, p) == "portal"]
    routes.sort(key=lambda r: "logg-ut" in r)  # log out last
    for route in routes:
        url = fill(route, world["a"], world["slugs"])
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            checked += 1
            if response.status_code >= 500 or any(m in response.content for m in marks_of_a):
                leaks.append((method.upper(), url, response.status_code))
            if "<" in route and response.status_code not in (404, 405):
                leaks.append((method.upper(), url, response.status_code))
    assert leaks == []
    assert a_state(case_a) == before
    assert checked >= 14
    # A's own code still opens A (the crawl did not disturb it).
    own = type(client)()
    assert (
        own.post("/min-side/", {"number": case_a.number, "code": issued_a.code}).status_code == 302
    )
    assert case_a.number.encode() in own.get("/min-side/sak/").content
    print(f"\n[reliability] Min side crawl: {len(routes)} patterns, {checked} requests")

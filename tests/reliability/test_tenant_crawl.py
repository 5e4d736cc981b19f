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
# The debtor portal: a session bound to one case by case number + KID (checked below).
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


def test_the_portal_refuses_a_wrong_case_number_and_kid_pair_and_foreign_letters(client, world):
    case_a = world["case_a"]
    other = CollectionCase.objects.exclude(pk=case_a.pk).get()

    response = client.post("/min-side/", {"number": case_a.number, "kid": other.kid}, follow=True)
    assert SECRET_NAME.encode() not in response.content
    assert client.get("/min-side/sak/").status_code in (302, 404)

    # Logged in to B's case, A's letter is not there.
    client.post("/min-side/", {"number": other.number, "kid": other.kid})
    assert client.get("/min-side/sak/").status_code == 200
    letter = world["a"]["letter_id"]
    assert client.get(f"/min-side/sak/brev/{letter}.pdf").status_code == 404

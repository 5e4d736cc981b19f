"""CSRF on every state change: each URL pattern, POSTed by a logged-in owner without a token.

The owner of creditor A (filled with A's own ids, so only the missing token can refuse) posts
to every pattern of Kundeweb, the portal and the session-authenticated API: the answer is 403
(or 405 where the view takes no POST), never a change.
"""

import pytest
from django.test import Client

from tests.reliability.test_tenant_crawl import ADMIN_PREFIX, SANDBOX_PREFIX, a_state, fill, walk

pytestmark = pytest.mark.reliability

# POST without a CSRF token is fine here, and why.
NO_CSRF = {
    None: "the API's JSON 404 for unknown paths changes nothing",
    # drf-spectacular's read-only views have no POST: DRF refuses the form body (415) before
    # it gets to say 405; nothing changes (a_state below).
    "api_schema": "read-only OpenAPI schema",
    "api_docs": "read-only API docs",
    "api_redoc": "read-only API docs",
}


def test_every_post_without_a_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["user_a"])
    before = a_state(world["case_a"])
    accepted, posted = [], 0

    for route, pattern in walk():
        if route.startswith((ADMIN_PREFIX, SANDBOX_PREFIX)) or "^" in route:
            continue
        if pattern.name in NO_CSRF:
            continue
        url = fill(route, world["a"], world["slugs"])
        response = client.post(url, {"reason": "x", "note": "x", "name": "x"})
        posted += 1
        if response.status_code not in (403, 405):
            accepted.append((url, response.status_code))

    assert accepted == []
    assert a_state(world["case_a"]) == before
    assert posted >= 60


def test_the_admin_refuses_a_post_without_a_token_too(world):
    from creditors.models import User

    staff = User.objects.create_superuser(email="staff@kravia.example", password="x" * 12)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    case_id = world["a"]["case_id"]

    response = client.post(f"/admin/collections_cases/collectioncase/{case_id}/change/", {})

    assert response.status_code == 403

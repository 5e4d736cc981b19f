"""No 500 on junk: the API answers every query string and body with a 2xx or a 4xx in its one
error shape (``{type, message, errors}``).

Explicit cases first (a tampered cursor, 200- and 5000-deep JSON, non-finite and overlong
numbers), then hypothesis over each endpoint family's query strings (lists with cursors made
up, changed or decoded-and-re-encoded with junk positions; details with junk parameters) and
bodies (the write endpoints and the debtor PATCH: any JSON, deeply nested JSON, bytes that are
not UTF-8).
"""

from __future__ import annotations

import base64
import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from api_access.services import api_key_create
from creditors.models import Membership
from tests.api.conftest import assert_error, make_settlement
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.reliability

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LISTS = ["/api/v1/cases/", "/api/v1/debtors/", "/api/v1/settlements/"]


@pytest.fixture
def world(db):
    cache.clear()
    owner = MembershipFactory(role=Membership.Role.OWNER)
    _key, raw = api_key_create(creditor=owner.creditor, actor=owner.user, name="Junk")
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    case = open_case(owner.creditor)
    settlement = make_settlement(owner.creditor)
    yield api, case, settlement
    cache.clear()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_not_a_server_error(response, context):
    assert response.status_code < 500, (context, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert_error(response, response.status_code)


# --- Explicit cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        _b64("p=abc&o=0&r=0"),  # a position that is not an id: was a 500 (ValueError)
        _b64("p=%00"),  # NUL: was a 500
        _b64("p=99999999999999999999999"),  # past bigint: no id we could have handed out
        _b64("o=-1"),  # negative offset: was a 404
        _b64("r=x"),
        "//4=",  # not ASCII once decoded: was a 404
    ],
)
def test_a_tampered_cursor_is_a_400_in_the_error_shape(world, path, cursor):
    api, _case, _settlement = world

    body = assert_error(api.get(path, {"cursor": cursor}), 400, "invalid_cursor")

    assert "markør" in body["message"]


def test_a_cursor_the_api_gave_still_works(world):
    api, case, _settlement = world
    open_case(case.debtor.creditor)

    first = api.get(LISTS[0], {"page_size": 1}).json()
    second = api.get(first["next"])

    assert second.status_code == 200
    assert second.json()["results"][0]["id"] < first["results"][0]["id"]


@pytest.mark.parametrize("depth", [200, 5000])
@pytest.mark.parametrize("shape", ["list", "object"])
def test_deeply_nested_json_is_a_400(world, depth, shape):
    api, case, _settlement = world
    if shape == "list":
        body = "[" * depth + "]" * depth
    else:
        body = '{"text": ' * depth + "1" + "}" * depth

    for path in [f"/api/v1/cases/{case.pk}/notes/", "/api/v1/invoices/"]:
        response = api.post(path, body, content_type="application/json")
        body_ = assert_error(response, 400, "parse_error")
        assert "nøstet dypere" in body_["message"]


def test_brackets_inside_strings_are_not_nesting(world):
    api, case, _settlement = world

    response = api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "[{" * 100}, format="json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "body",
    [
        '{"text": 1e400}',
        '{"text": NaN}',
        '{"text": -Infinity}',
        '{"text": ' + "9" * 5000 + "}",
        b'{"text": "\xff\xfe"}',
        '{"text": "unterminated',
    ],
)
def test_numbers_json_cannot_hold_and_broken_bodies_are_a_400(world, body):
    api, case, _settlement = world

    response = api.post(f"/api/v1/cases/{case.pk}/notes/", body, content_type="application/json")

    assert_error(response, 400, "parse_error")


# --- Hypothesis over query strings --------------------------------------------------------------

junk_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "%00", "'; --", "99999999999999999999999"]),
)
cursor_fields = st.dictionaries(
    st.sampled_from(["o", "r", "p", "x"]),
    st.one_of(junk_text, st.integers(min_value=-(10**25), max_value=10**25).map(str)),
    max_size=3,
)
cursor = st.one_of(
    junk_text,
    cursor_fields.map(lambda fields: _b64("&".join(f"{k}={v}" for k, v in fields.items()))),
    st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()),
)
list_query = st.dictionaries(
    st.sampled_from(
        ["cursor", "page_size", "status", "stage", "debtor", "search", "updated_since", "x"]
    ),
    junk_text,
    max_size=4,
)


@FUZZ
@given(path=st.sampled_from(LISTS), query=list_query, cursor=cursor)
def test_list_query_strings_never_make_a_server_error(world, path, query, cursor):
    api, _case, _settlement = world
    query = {**query, "cursor": cursor}

    assert_not_a_server_error(api.get(path, query), (path, query))


@FUZZ
@given(
    path=st.sampled_from(
        ["/api/v1/cases/{case}/", "/api/v1/debtors/{debtor}/", "/api/v1/settlements/{settlement}/"]
    ),
    query=st.dictionaries(junk_text, junk_text, max_size=3),
)
def test_detail_query_strings_never_make_a_server_error(world, path, query):
    api, case, settlement = world
    url = path.format(case=case.pk, debtor=case.debtor_id, settlement=settlement.pk)

    assert_not_a_server_error(api.get(url, query), (url, query))


# --- Hypothesis over bodies ---------------------------------------------------------------------

FIELDS = [
    "reason",
    "until",
    "amount",
    "paid_on",
    "text",
    "date",
    "debtor",
    "invoice_number",
    "due_date",
    "name",
    "email",
    "lines",
]
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        junk_text,
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)


def _nest(depth: int, leaf) -> object:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


raw_body = st.one_of(
    json_value.map(json.dumps),
    st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=5).map(json.dumps),
    st.tuples(st.integers(min_value=1, max_value=400), json_value).map(
        lambda pair: json.dumps({"text": _nest(*pair)})
    ),
    st.binary(max_size=200),
    st.text(max_size=200),
)
WRITES = [
    ("post", "/api/v1/invoices/"),
    ("post", "/api/v1/cases/{case}/pause/"),
    ("post", "/api/v1/cases/{case}/resume/"),
    ("post", "/api/v1/cases/{case}/withdraw/"),
    ("post", "/api/v1/cases/{case}/approve/"),
    ("post", "/api/v1/cases/{case}/notes/"),
    ("post", "/api/v1/cases/{case}/payments/"),
    ("post", "/api/v1/cases/{case}/credit-notes/"),
    ("post", "/api/v1/settlements/{settlement}/mark-booked/"),
    ("patch", "/api/v1/debtors/{debtor}/"),
]


@FUZZ
@given(write=st.sampled_from(WRITES), body=raw_body)
def test_write_bodies_never_make_a_server_error(world, write, body):
    api, case, settlement = world
    method, path = write
    url = path.format(case=case.pk, debtor=case.debtor_id, settlement=settlement.pk)

    response = getattr(api, method)(url, body, content_type="application/json")

    assert_not_a_server_error(response, (method, url, body[:200]))

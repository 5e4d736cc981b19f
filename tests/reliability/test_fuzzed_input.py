"""Fuzzed input never makes a 500, and hostile files are refused.

Hypothesis fills every case action form in Kundeweb (pause, withdraw, dispute, direct payment,
note, …) and the API's write endpoints with arbitrary text, numbers, dates and nested JSON: the
answer is a page with the form's errors, a redirect or a 4xx in the API's error shape — never a
server error. Uploaded bank files with a DTD (entity expansion, external entities) or that are
not XML at all are refused with a message and book nothing.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from api_access.services import api_key_create
from collections_cases.cases.views import ACTIONS
from collections_cases.models import Payment
from collections_cases.payments.imports import payments_import_file
from creditors.models import Membership
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.reliability

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
scalar = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", "0", "-1", "1e309", "NaN", "99999999999999999", "2026-02-30", "31.12.1899"]
    ),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["\x00", "<script>alert(1)</script>", "' OR 1=1 --", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]),
)
FIELDS = ["reason", "until", "amount", "paid_on", "note", "text", "date", "kind", "confirm"]
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither
        st.text(max_size=50),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


@pytest.fixture
def owner(db):
    return MembershipFactory(role=Membership.Role.OWNER)


@FUZZ
@given(
    action=st.sampled_from(sorted(ACTIONS)), data=st.dictionaries(st.sampled_from(FIELDS), scalar)
)
def test_case_action_forms_never_fail_with_a_server_error(owner, action, data):
    client = Client(raise_request_exception=False)
    client.force_login(owner.user)
    case = open_case(owner.creditor)

    response = client.post(
        f"/saker/{case.pk}/{action}/", {f"{action}-{key}": value for key, value in data.items()}
    )

    assert response.status_code < 500, (action, data)


API_WRITES = [
    "/api/v1/invoices/",
    "/api/v1/cases/{case}/pause/",
    "/api/v1/cases/{case}/resume/",
    "/api/v1/cases/{case}/withdraw/",
    "/api/v1/cases/{case}/notes/",
    "/api/v1/cases/{case}/payments/",
    "/api/v1/cases/{case}/credit-notes/",
]


@FUZZ
@given(
    path=st.sampled_from(API_WRITES),
    body=st.one_of(json_value, st.dictionaries(st.sampled_from(FIELDS + ["debtor"]), json_value)),
)
def test_api_writes_never_fail_with_a_server_error(owner, path, body):
    _key, raw = api_key_create(creditor=owner.creditor, actor=owner.user, name="Fuzz")
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    case = open_case(owner.creditor)

    response = api.post(path.format(case=case.pk), body, format="json")

    assert response.status_code < 500, (path, body, response.content[:300])
    assert set(response.json()) >= {"type", "message"} or response.status_code < 300


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document><BkToCstmrDbtCdtNtfctn>&lol3;</BkToCstmrDbtCdtNtfctn></Document>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document><BkToCstmrDbtCdtNtfctn>&xxe;</BkToCstmrDbtCdtNtfctn></Document>"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("name", "content"),
    [("laughs.xml", BILLION_LAUGHS), ("xxe.xml", EXTERNAL_ENTITY), ("bilde.xml", PNG)],
)
def test_a_hostile_bank_file_is_refused_and_books_nothing(db, name, content):
    with pytest.raises(ApplicationError) as refused:
        payments_import_file(content=content, file_name=name)

    assert refused.value.message
    assert "root:" not in refused.value.message
    assert not Payment.objects.exists()

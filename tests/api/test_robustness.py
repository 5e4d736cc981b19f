"""Whatever the body, an endpoint answers in the error shape — never a 500."""

import pytest

from tests.api.conftest import assert_error, make_settlement

pytestmark = pytest.mark.django_db

POST_PATHS = [
    "/api/v1/cases/{case}/pause/",
    "/api/v1/cases/{case}/resume/",
    "/api/v1/cases/{case}/withdraw/",
    "/api/v1/cases/{case}/approve/",
    "/api/v1/cases/{case}/notes/",
    "/api/v1/cases/{case}/payments/",
    "/api/v1/cases/{case}/credit-notes/",
    "/api/v1/invoices/",
    "/api/v1/settlements/{settlement}/mark-booked/",
]
BAD_BODIES = ["[]", '"text"', "null", "1", '{"unexpected": true}', '{"amount": {"x": 1}}']


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_are_4xx_in_error_shape(api, case, creditor, path, body):
    settlement = make_settlement(creditor)
    url = path.format(case=case.pk, settlement=settlement.pk)
    response = api.post(url, body, content_type="application/json")
    assert 400 <= response.status_code < 500, (url, body, response.content)
    assert_error(response, response.status_code)


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_patch_bodies(api, case, body):
    response = api.patch(
        f"/api/v1/debtors/{case.debtor_id}/", body, content_type="application/json"
    )
    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/99999999999999999999999/",
        "/api/v1/debtors/99999999999999999999999/",
        "/api/v1/settlements/99999999999999999999999/",
        "/api/v1/cases/0/",
    ],
)
def test_out_of_range_ids_are_404(api, path):
    assert_error(api.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"page_size": "lots"},
        {"debtor": "x"},
        {"unknown": "1"},
    ],
)
def test_bad_list_queries(api, query):
    response = api.get("/api/v1/cases/", query)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_too_large_body_is_413(api, case, settings, idempotency_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"text": "' + "x" * 2000 + '"}'
    extra = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = api.post(
        f"/api/v1/cases/{case.pk}/notes/", body, content_type="application/json", **extra
    )
    assert_error(response, 413, "request_too_large")

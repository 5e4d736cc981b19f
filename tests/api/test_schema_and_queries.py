"""The OpenAPI schema and docs, and a fixed number of queries per list page."""

import datetime as dt
import re

import pytest
import yaml
from django.urls import get_resolver
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.api.conftest import make_case, make_settlement
from tests.collections_cases.factories import DebtorFactory

pytestmark = pytest.mark.django_db

EXPECTED_PATHS = {
    "/api/v1/cases/",
    "/api/v1/cases/{case_id}/",
    "/api/v1/cases/{case_id}/pause/",
    "/api/v1/cases/{case_id}/resume/",
    "/api/v1/cases/{case_id}/withdraw/",
    "/api/v1/cases/{case_id}/approve/",
    "/api/v1/cases/{case_id}/notes/",
    "/api/v1/cases/{case_id}/payments/",
    "/api/v1/cases/{case_id}/credit-notes/",
    "/api/v1/debtors/",
    "/api/v1/debtors/{debtor_id}/",
    "/api/v1/invoices/",
    "/api/v1/settlements/",
    "/api/v1/settlements/{settlement_id}/",
    "/api/v1/settlements/{settlement_id}/mark-booked/",
}


def test_schema_is_valid_openapi_with_every_path(db):
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == EXPECTED_PATHS
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    validate_schema(schema)  # raises on an invalid document
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (path, method)
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Idempotency-Key" in headers) == (method == "post"), (path, method)


def test_every_api_url_is_in_the_schema(db):
    resolver = get_resolver()
    api_names = {
        name
        for name in resolver.reverse_dict
        if isinstance(name, str)
        and name.startswith("api_")
        and name not in {"api_schema", "api_docs", "api_redoc"}
    }
    assert len(api_names) == len(EXPECTED_PATHS)


def test_docs_page_loads_with_local_assets(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet is served by us: no absolute URL to any host (a CDN, unpkg).
    # (Matching the bare word "cdn" failed at random: the page's CSRF token can contain it.)
    external = re.findall(r'(?:src|href)\s*=\s*["\'](?:https?:)?//', html, flags=re.IGNORECASE)
    assert external == []
    assert "unpkg.com" not in html.lower() and "cdn.jsdelivr" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def _fill(creditor, n):
    for i in range(n):
        make_case(creditor, debtor=DebtorFactory(creditor=creditor))
        make_settlement(creditor, settled_on=dt.date(2026, 1, 1) + dt.timedelta(days=i))


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/debtors/", "/api/v1/settlements/"])
@pytest.mark.parametrize("rows", [5, 50])
def test_list_queries_do_not_grow_with_rows(
    api, creditor, path, rows, django_assert_max_num_queries
):
    _fill(creditor, rows)
    # Key lookup, last-used update, the page (cursor pagination needs no COUNT), slack of 2.
    with django_assert_max_num_queries(5):
        response = api.get(path, {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows

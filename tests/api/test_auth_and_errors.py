"""Authentication, scoping and the one error shape."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from api_access.models import ApiKey
from api_access.services import api_key_authenticate, api_key_revoke
from tests.api.conftest import assert_error, make_case

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_and_shown_only_at_creation(key_pair):
    api_key, raw = key_pair
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw.startswith(stored.prefix + "_")
    assert raw not in (stored.key_hash, stored.prefix, stored.name)
    assert len(stored.key_hash) == 64
    assert api_key_authenticate(raw_key=raw).pk == api_key.pk
    assert api_key_authenticate(raw_key=raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None


def test_no_credentials_is_401_in_error_shape(db):
    response = APIClient().get("/api/v1/cases/")
    body = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["errors"] == {}


def test_unknown_key_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer kv_00000000_" + "a" * 43)
    assert_error(client.get("/api/v1/cases/"), 401, "authentication_failed")


def test_revoked_key_is_401(api, key_pair, user):
    assert api.get("/api/v1/cases/").status_code == 200
    api_key_revoke(api_key=key_pair[0], actor=user)
    assert_error(api.get("/api/v1/cases/"), 401, "authentication_failed")


def test_use_updates_last_used(api, key_pair):
    assert key_pair[0].last_used_at is None
    api.get("/api/v1/cases/")
    key_pair[0].refresh_from_db()
    assert key_pair[0].last_used_at is not None


def test_another_creditors_case_is_404(api, other_creditor):
    foreign = make_case(other_creditor)
    assert_error(api.get(f"/api/v1/cases/{foreign.pk}/"), 404, "not_found")
    assert_error(api.post(f"/api/v1/cases/{foreign.pk}/pause/", {"reason": "x"}), 404, "not_found")
    foreign.refresh_from_db()
    assert foreign.status == "active"


def test_unknown_api_path_is_404_json(api):
    assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_wrong_method_is_405(api, case):
    assert_error(api.delete(f"/api/v1/cases/{case.pk}/"), 405, "method_not_allowed")


def test_form_body_is_415(api, case):
    response = api.post(
        f"/api/v1/cases/{case.pk}/notes/",
        "text=hei",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(api, case):
    response = api.post(
        f"/api/v1/cases/{case.pk}/notes/", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_missing_field_is_400_with_field_errors(api, case):
    body = assert_error(api.post(f"/api/v1/cases/{case.pk}/pause/", {}), 400, "validation_error")
    assert list(body["errors"]) == ["reason"]


def test_unknown_field_is_400(api, case):
    body = assert_error(
        api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "hei", "txet": "x"}), 400
    )
    assert "txet" in body["errors"]


def test_business_rule_refusal_is_409(api, case):
    response = api.post(f"/api/v1/cases/{case.pk}/resume/", {})
    body = assert_error(response, 409, "conflict")
    assert case.number in body["message"]


class TestSession:
    def test_session_user_acts_for_active_creditor(
        self, logged_in_client, creditor, other_creditor
    ):
        own = make_case(creditor)
        foreign = make_case(other_creditor)
        response = logged_in_client.get("/api/v1/cases/")
        assert response.status_code == 200
        assert [c["id"] for c in response.json()["results"]] == [own.pk]
        assert logged_in_client.get(f"/api/v1/cases/{foreign.pk}/").status_code == 404

    def test_session_write_needs_csrf(self, user, creditor):
        case = make_case(creditor)
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "hei"})
        assert_error(response, 403, "permission_denied")

    def test_user_without_creditor_is_403(self, client, db):
        from tests.factories import UserFactory

        client.force_login(UserFactory())
        assert_error(client.get("/api/v1/cases/"), 403, "permission_denied")


@override_settings(API_RATE_LIMIT="3/min")
def test_rate_limit_per_key_is_429_with_retry_after(api, other_api):
    for _ in range(3):
        assert api.get("/api/v1/cases/").status_code == 200
    response = api.get("/api/v1/cases/")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    # Another key has its own budget.
    assert other_api.get("/api/v1/cases/").status_code == 200

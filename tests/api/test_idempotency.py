"""Idempotency-Key: replay without a second effect, conflicting body, concurrency."""

import pytest
from django.utils import timezone

from api_access.models import IdempotencyRecord
from api_access.services import idempotency_begin
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_same_key_same_body_replays_without_second_effect(api, case):
    url = f"/api/v1/cases/{case.pk}/payments/"
    payload = {"amount": "100.00", "paid_on": timezone.localdate().isoformat()}
    first = api.post(url, payload, HTTP_IDEMPOTENCY_KEY="pay-1")
    second = api.post(url, payload, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert LedgerEntry.objects.filter(case=case, kind="direct_payment").count() == 1


def test_same_key_other_body_is_422(api, case):
    url = f"/api/v1/cases/{case.pk}/notes/"
    assert api.post(url, {"text": "a"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert_error(
        api.post(url, {"text": "b"}, HTTP_IDEMPOTENCY_KEY="k"), 422, "idempotency_key_reused"
    )
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 1


def test_same_key_other_path_is_422(api, case):
    api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "a"}, HTTP_IDEMPOTENCY_KEY="k")
    assert_error(api.post("/api/v1/invoices/", {"text": "a"}, HTTP_IDEMPOTENCY_KEY="k"), 422)


def test_without_key_every_post_runs(api, case):
    url = f"/api/v1/cases/{case.pk}/notes/"
    api.post(url, {"text": "a"})
    api.post(url, {"text": "a"})
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 2


def test_error_responses_are_replayed_too(api, case):
    url = f"/api/v1/cases/{case.pk}/resume/"
    first = api.post(url, {}, HTTP_IDEMPOTENCY_KEY="r")
    second = api.post(url, {}, HTTP_IDEMPOTENCY_KEY="r")
    assert first.status_code == second.status_code == 409
    assert second.json() == first.json()
    # The second answer is the stored one, not the error computed again (a 4xx that were
    # not stored would free the key and run the request a second time).
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    record = IdempotencyRecord.objects.get(key="r")
    assert record.state == IdempotencyRecord.State.COMPLETED
    assert (record.response_status, record.response_body) == (409, first.json())


def test_keys_are_per_api_key(api, other_api, case, other_creditor):
    from tests.api.conftest import make_case

    foreign = make_case(other_creditor)
    assert (
        api.post(
            f"/api/v1/cases/{case.pk}/notes/", {"text": "a"}, HTTP_IDEMPOTENCY_KEY="same"
        ).status_code
        == 201
    )
    response = other_api.post(
        f"/api/v1/cases/{foreign.pk}/notes/", {"text": "a"}, HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_in_progress_duplicate_is_409_and_does_not_run(api, case, key_pair):
    """A concurrent duplicate: the first request's row is already there, not completed."""
    url = f"/api/v1/cases/{case.pk}/pause/"
    body = b'{"reason": "x"}'
    import hashlib

    digest = hashlib.sha256(b"POST\n" + url.encode() + b"\n" + body).hexdigest()
    record, created = idempotency_begin(
        owner=f"key:{key_pair[0].pk}", key="busy", request_hash=digest, method="POST", path=url
    )
    assert created
    response = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy")
    assert_error(response, 409, "idempotency_key_in_progress")
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE


def test_expired_key_runs_again(api, case):
    url = f"/api/v1/cases/{case.pk}/notes/"
    api.post(url, {"text": "a"}, HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timezone.timedelta(hours=25))
    response = api.post(url, {"text": "a"}, HTTP_IDEMPOTENCY_KEY="old")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 2


def test_overlong_key_is_400(api, case):
    body = assert_error(
        api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "a"}, HTTP_IDEMPOTENCY_KEY="x" * 256),
        400,
    )
    assert "Idempotency-Key" in body["errors"]


def test_register_invoice_is_idempotent(api):
    from tests.api.test_debtors_invoices_settlements import invoice_payload

    payload = invoice_payload()
    first = api.post("/api/v1/invoices/", payload, HTTP_IDEMPOTENCY_KEY="inv-77001")
    second = api.post("/api/v1/invoices/", payload, HTTP_IDEMPOTENCY_KEY="inv-77001")
    assert first.status_code == second.status_code == 201
    assert second.json()["case"]["id"] == first.json()["case"]["id"]
    assert CollectionCase.objects.count() == 1


def test_hourly_prune_forgets_records_older_than_a_day(api, case):
    from django_celery_beat.models import PeriodicTask

    from api_access.tasks import prune_idempotency_records

    url = f"/api/v1/cases/{case.pk}/notes/"
    api.post(url, {"text": "a"}, HTTP_IDEMPOTENCY_KEY="old")
    api.post(url, {"text": "b"}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timezone.timedelta(hours=25)
    )
    assert prune_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert PeriodicTask.objects.filter(task="api_access.tasks.prune_idempotency_records").exists()

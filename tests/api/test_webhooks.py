"""Signed webhooks to a receiver this test starts on 127.0.0.1: events, signature,
retries with backoff, no redirects, SSRF guard, replay."""

import datetime as dt
import hashlib
import hmac
import json
import time
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from collections_cases.cases import services as case_services
from collections_cases.models import Settlement
from collections_cases.signals import settlement_committed
from integrations.webhooks import sender
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.services import (
    MAX_ATTEMPTS,
    backoff_seconds,
    webhook_delivery_attempt,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_event_emit,
)
from kravia_web.errors import ApplicationError
from tests.api.conftest import make_settlement
from tests.api.receiver import start_receiver

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["case.created", "case.updated", "case.closed", "settlement.created"]


def verify_signature(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """The verification snippet from docs/api.md."""
    timestamp = headers["Kravia-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    received = headers["Kravia-Signature"].removeprefix("v1=")
    return hmac.compare_digest(expected.hexdigest(), received)


@pytest.fixture
def receiver():
    state, server = start_receiver()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(creditor, user, receiver):
    endpoint, secret = webhook_endpoint_create(
        creditor=creditor, actor=user, url=receiver.url, events=ALL_EVENTS
    )
    endpoint.plain_secret = secret
    return endpoint


def test_secret_is_encrypted_at_rest(endpoint):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert endpoint.plain_secret.startswith("whsec_")
    assert endpoint.plain_secret not in stored
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.plain_secret


def test_case_change_is_delivered_signed_without_personal_data(
    endpoint, receiver, case, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_add_note(case=case, actor=user, text="Ringte Ola Nordmann")

    [request] = receiver.requests
    assert request.path == "/hooks/kravia"
    assert verify_signature(endpoint.plain_secret, request.headers, request.body)
    assert not verify_signature("whsec_wrong", request.headers, request.body)
    tampered = request.body.replace(b"case", b"casf")
    assert not verify_signature(endpoint.plain_secret, request.headers, tampered)
    payload = json.loads(request.body)
    assert set(payload) == {"id", "type", "created", "creditor_id", "data"}
    assert payload["type"] == "case.updated"
    assert payload["creditor_id"] == case.creditor_id
    assert payload["data"] == {"object": "case", "id": case.pk}
    text = request.body.decode()
    assert case.debtor.name not in text and "Ola" not in text and case.debtor.email not in text
    assert request.headers["Kravia-Event-Id"] == payload["id"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert delivery.response_status == 200


def test_created_and_closed_events(endpoint, receiver, api, django_capture_on_commit_callbacks):
    from tests.api.test_debtors_invoices_settlements import invoice_payload

    with django_capture_on_commit_callbacks(execute=True):
        case_id = api.post("/api/v1/invoices/", invoice_payload()).json()["case"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/cases/{case_id}/withdraw/", {"reason": "Feil"})
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert types[0] == "case.created"
    assert types[-1] == "case.closed"
    assert all(json.loads(r.body)["data"]["id"] == case_id for r in receiver.requests)


def test_settlement_created_event(endpoint, receiver, creditor, django_capture_on_commit_callbacks):
    settlement = make_settlement(creditor)
    with django_capture_on_commit_callbacks(execute=True):
        settlement_committed.send(sender=Settlement, settlement_id=settlement.pk)
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["type"] == "settlement.created"
    assert payload["data"] == {"object": "settlement", "id": settlement.pk}


def test_only_subscribed_events_and_only_own_creditor(
    creditor, other_creditor, user, receiver, case, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(
        creditor=creditor, actor=user, url=receiver.url, events=["settlement.created"]
    )
    webhook_endpoint_create(
        creditor=other_creditor, actor=None, url=receiver.url, events=ALL_EVENTS
    )
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_add_note(case=case, actor=user, text="x")
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_failed_attempt_is_retried_with_backoff_then_delivered(endpoint, receiver, creditor):
    receiver.statuses = [500, 503]
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.retry_in == backoff_seconds(1) == 30
    assert outcome.delivery.status == "pending" and outcome.delivery.response_status == 500
    # Not due yet: nothing is sent.
    with time_machine.travel(start + dt.timedelta(seconds=10), tick=False):
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    with time_machine.travel(start + dt.timedelta(seconds=31), tick=False):
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.retry_in == backoff_seconds(2) == 60
    with time_machine.travel(start + dt.timedelta(seconds=92), tick=False):
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.retry_in is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    assert len(receiver.requests) == 3
    # Every attempt is signed afresh and carries the same event id.
    assert len({r.headers["Kravia-Event-Id"] for r in receiver.requests}) == 1


def test_task_schedules_the_retry_with_the_backoff(endpoint, receiver, creditor):
    from integrations.webhooks.tasks import deliver_webhook

    receiver.statuses = [502]
    with mock.patch.object(deliver_webhook, "delay"):
        [delivery] = webhook_event_emit(
            creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
        )
    with mock.patch.object(deliver_webhook, "apply_async") as apply_async:
        assert deliver_webhook(delivery.pk) == "pending"
    apply_async.assert_called_once_with(args=[delivery.pk], countdown=30)


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in range(1, 5)] == [30, 60, 120, 240]
    assert backoff_seconds(40) == 6 * 60 * 60


def test_gives_up_after_max_attempts(endpoint, receiver, creditor):
    receiver.statuses = [500] * MAX_ATTEMPTS
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    now = timezone.now()
    for attempt in range(MAX_ATTEMPTS):
        now += dt.timedelta(hours=7)
        with time_machine.travel(now, tick=False):
            webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    with time_machine.travel(now + dt.timedelta(hours=7), tick=False):
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None


def test_client_error_is_not_retried(endpoint, receiver, creditor):
    receiver.statuses = [410]
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.retry_in is None and outcome.delivery.status == "failed"
    assert outcome.delivery.error == "HTTP 410"


def test_redirect_is_not_followed(endpoint, receiver, creditor):
    receiver.statuses = [302]
    receiver.redirect_to = "http://127.0.0.1:9/elsewhere"
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.delivery.status == "failed"
    assert outcome.delivery.error == "Redirect not followed"
    assert len(receiver.requests) == 1


@override_settings(WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_timeout_is_an_error_to_retry(endpoint, receiver, creditor):
    receiver.delay = 1.0
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome.delivery.status == "pending" and outcome.retry_in == 30
    assert outcome.delivery.response_status is None
    assert "timed out" in outcome.delivery.error.lower()


def test_replay_sends_the_same_event_again(endpoint, receiver, creditor, user):
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    webhook_delivery_attempt(delivery_id=delivery.pk)
    replay = webhook_delivery_replay(delivery=delivery, actor=user)
    webhook_delivery_attempt(delivery_id=replay.pk)
    replay.refresh_from_db()
    assert replay.status == "succeeded" and replay.replay_of == delivery
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert first == second


class TestProductionRules:
    @pytest.fixture(autouse=True)
    def _production_rules(self, settings):
        settings.WEBHOOK_ALLOW_HTTP = False
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    @pytest.mark.parametrize(
        "url",
        [
            "http://example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/hook",
            "https://user:pw@example.com/hook",
            "ftp://example.com/hook",
        ],
    )
    def test_refused_urls(self, creditor, user, url):
        with pytest.raises(ApplicationError):
            webhook_endpoint_create(creditor=creditor, actor=user, url=url, events=ALL_EVENTS)

    def test_public_https_is_accepted(self, creditor, user):
        endpoint, _secret = webhook_endpoint_create(
            creditor=creditor, actor=user, url="https://hooks.example.com/k", events=ALL_EVENTS
        )
        assert endpoint.pk

    def test_name_resolving_to_loopback_is_not_called(self, receiver):
        with mock.patch("socket.getaddrinfo", return_value=[(2, 1, 6, "", ("127.0.0.1", 443))]):
            result = sender.post("https://innocent.example.com/h", b"{}", {})
        assert result.status is None and "non-public" in result.error
        assert receiver.requests == []


def test_beat_sweep_sends_due_deliveries_whose_task_was_lost(endpoint, receiver, creditor):
    from integrations.webhooks.tasks import deliver_due_webhooks, deliver_webhook

    with mock.patch.object(deliver_webhook, "delay"):  # the queued task is "lost"
        [due] = webhook_event_emit(
            creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
        )
        [busy] = webhook_event_emit(
            creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=2
        )
    WebhookDelivery.objects.filter(pk=busy.pk).update(
        claimed_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert deliver_due_webhooks() == 1
    due.refresh_from_db()
    busy.refresh_from_db()
    assert due.status == "succeeded" and busy.status == "pending" and busy.attempts == 0
    assert [json.loads(r.body)["data"]["id"] for r in receiver.requests] == [1]

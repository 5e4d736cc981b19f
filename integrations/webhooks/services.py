"""Webhook writes: endpoints (created with a secret shown once), events turned into one
delivery per subscribed endpoint, delivery attempts (claim → POST → record, no HTTP inside a
transaction) with exponential backoff, and replays.

The payload carries no personal data — event id and type, when, the creditor's id and the
object's id — like the agency's public webhooks; the receiver fetches the object from the
API. Each request is signed: ``Kravia-Signature: v1=<hex HMAC-SHA256 of "timestamp.body">``
with ``Kravia-Timestamp`` (docs/api.md shows how to verify it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.models import CaseEvent, CollectionCase, Settlement
from creditors.models import Creditor
from integrations.webhooks import sender
from integrations.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from kravia_web.enqueue import enqueue
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public prefix, not a secret
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 60 * 60
#: How long one attempt holds its claim (longer than the request timeout).
CLAIM_SECONDS = 120
CLOCK_SKEW = timedelta(seconds=5)
#: Answers that will not change by asking again: no retry (a 408, 425 or 429 is retried).
RETRYABLE_4XX = {408, 425, 429}
MAX_ENDPOINTS_PER_CREDITOR = 10
USER_AGENT = "Kravia-Webhooks/1.0"


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, …): 30 s doubling, at
    most six hours."""
    return min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS)


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def _body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _clean_events(events) -> list[str]:
    events = sorted(set(events or []))
    unknown = [e for e in events if e not in EventType.values]
    if unknown or not events:
        raise ApplicationError(_("Velg minst én hendelse."))
    return events


def webhook_endpoint_create(
    *, creditor: Creditor, actor, url: str, events, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (to show the user once, now)."""
    url = (url or "").strip()
    problem = sender.url_problem(url)
    if problem:
        raise ApplicationError(problem, extra={"fields": {"url": [problem]}})
    events = _clean_events(events)
    if (
        WebhookEndpoint.objects.filter(creditor=creditor, is_active=True).count()
        >= MAX_ENDPOINTS_PER_CREDITOR
    ):
        raise ApplicationError(
            _("En kreditor kan ha høyst %(max)d aktive webhook-mottakere.")
            % {"max": MAX_ENDPOINTS_PER_CREDITOR}
        )
    secret = f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint.objects.create(
        creditor=creditor,
        url=url,
        description=(description or "").strip()[:200],
        events=events,
        secret=secret,
        created_by=actor,
    )
    return endpoint, secret


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """Stop sending to the endpoint; deliveries still waiting fail when they come up."""
    if endpoint.is_active:
        endpoint.is_active = False
        endpoint.save(update_fields=["is_active", "updated_at"])
    return endpoint


# --------------------------------------------------------------------------------------------
# Events → deliveries
# --------------------------------------------------------------------------------------------


def _save_and_queue(deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Store the deliveries and queue their sending (on commit), all or none."""
    if not deliveries:
        return []
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(deliveries)
        _queue(deliveries)
    return deliveries


def _queue(deliveries: list[WebhookDelivery]) -> None:
    ids = [d.pk for d in deliveries]
    transaction.on_commit(
        lambda: [enqueue("integrations.webhooks.tasks.deliver_webhook", pk) for pk in ids]
    )


def _event_deliveries(
    *, endpoints, creditor_id: int, event_type: str, object_type: str, object_id: int
) -> list[WebhookDelivery]:
    """The (unsaved) deliveries of one event to those of ``endpoints`` that subscribed."""
    endpoints = [endpoint for endpoint in endpoints if event_type in endpoint.events]
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created": timezone.now().isoformat(timespec="seconds"),
        "creditor_id": creditor_id,
        "data": {"object": object_type, "id": object_id},
    }
    now = timezone.now()
    return [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    ]


def webhook_event_emit(
    *, creditor_id: int, event_type: str, object_type: str, object_id: int
) -> list[WebhookDelivery]:
    """One delivery of the event per active endpoint of the creditor that subscribed to it."""
    deliveries = _event_deliveries(
        endpoints=WebhookEndpoint.objects.filter(creditor_id=creditor_id, is_active=True),
        creditor_id=creditor_id,
        event_type=event_type,
        object_type=object_type,
        object_id=object_id,
    )
    return _save_and_queue(deliveries)


def case_event_type(*, case_id: int, kind: str) -> tuple[int, str] | None:
    """``(creditor_id, event type)`` for a change of the case, or None if it is gone."""
    row = CollectionCase.objects.filter(pk=case_id).values("creditor_id", "status").first()
    if row is None:
        return None
    return _case_event_type(row, case_id=case_id, kind=kind)


def _case_event_type(row: dict, *, case_id: int, kind: str) -> tuple[int, str]:
    if kind == CaseEvent.Kind.CREATED:
        return row["creditor_id"], EventType.CASE_CREATED
    closing = CaseEvent.objects.filter(
        case_id=case_id, kind=kind, status_to=CollectionCase.Status.CLOSED
    )
    if row["status"] == CollectionCase.Status.CLOSED and (
        kind == CaseEvent.Kind.CLOSED or closing.exists()
    ):
        return row["creditor_id"], EventType.CASE_CLOSED
    return row["creditor_id"], EventType.CASE_UPDATED


def webhook_case_changed(*, case_id: int, kind: str) -> list[WebhookDelivery]:
    found = case_event_type(case_id=case_id, kind=kind)
    if found is None:
        return []
    creditor_id, event_type = found
    return webhook_event_emit(
        creditor_id=creditor_id, event_type=event_type, object_type="case", object_id=case_id
    )


def webhook_cases_changed(*, changes) -> list[WebhookDelivery]:
    """:func:`webhook_case_changed` for many ``(case_id, kind)`` at once (the dunning run's
    batches): the same deliveries, from two queries and one insert per batch."""
    changes = list(changes)
    rows = {
        row["pk"]: row
        for row in CollectionCase.objects.filter(
            pk__in={case_id for case_id, _kind in changes}
        ).values("pk", "creditor_id", "status")
    }
    endpoints = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        creditor_id__in={row["creditor_id"] for row in rows.values()}, is_active=True
    ):
        endpoints[endpoint.creditor_id].append(endpoint)
    deliveries = []
    for case_id, kind in changes:
        row = rows.get(case_id)
        if row is None or not endpoints.get(row["creditor_id"]):
            continue
        creditor_id, event_type = _case_event_type(row, case_id=case_id, kind=kind)
        deliveries += _event_deliveries(
            endpoints=endpoints[creditor_id],
            creditor_id=creditor_id,
            event_type=event_type,
            object_type="case",
            object_id=case_id,
        )
    return _save_and_queue(deliveries)


def webhook_settlement_created(*, settlement_id: int) -> list[WebhookDelivery]:
    creditor_id = (
        Settlement.objects.filter(pk=settlement_id).values_list("creditor_id", flat=True).first()
    )
    if creditor_id is None:
        return []
    return webhook_event_emit(
        creditor_id=creditor_id,
        event_type=EventType.SETTLEMENT_CREATED,
        object_type="settlement",
        object_id=settlement_id,
    )


# --------------------------------------------------------------------------------------------
# Attempts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    delivery: WebhookDelivery
    retry_in: int | None  # seconds until the next attempt, None when done


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            return None  # another worker is sending it right now
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + CLOCK_SKEW:
            return None  # not due yet (a duplicate task, or the beat's sweep came first)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["attempts", "last_attempt_at", "claimed_until"])
    return delivery


def _headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Kravia-Event-Id": str(delivery.event_id),
        "Kravia-Event-Type": delivery.event_type,
        "Kravia-Delivery-Id": str(delivery.pk),
        "Kravia-Timestamp": timestamp,
        "Kravia-Signature": sign(secret=delivery.endpoint.secret, timestamp=timestamp, body=body),
    }


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome | None:
    """One attempt at a pending delivery: None when there is nothing to do (done, or being
    sent by someone else). A 2xx delivers it; a 3xx, 4xx (but 408/425/429) or the last
    attempt fails it for good; anything else waits :func:`backoff_seconds`."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        result = sender.SendResult(None, "Endpoint disabled")
        final = True
    else:
        body = _body(delivery.payload)
        result = sender.post(endpoint.url, body, _headers(delivery, body))
        status = result.status
        final = result.ok or (
            status is not None and (300 <= status < 500) and status not in RETRYABLE_4XX
        )
    now = timezone.now()
    delivery.response_status = result.status
    delivery.error = result.error[:2000]
    delivery.claimed_until = None
    retry_in = None
    if result.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        retry_in = backoff_seconds(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    delivery.save(
        update_fields=[
            "status",
            "response_status",
            "error",
            "claimed_until",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if not result.ok:
        # The URL and status only: never the secret, the signature or the body.
        logger.info(
            "Webhook delivery %s to endpoint %s failed (attempt %s): %s",
            delivery.pk,
            endpoint.pk,
            delivery.attempts,
            delivery.error,
        )
    return AttemptOutcome(delivery=delivery, retry_in=retry_in)


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat's safety net for a queued task
    that was lost)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send the same event (same id and payload) to the endpoint again, as a new delivery."""
    if not delivery.endpoint.is_active:
        raise ApplicationError(_("Mottakeren er deaktivert."))
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            endpoint=delivery.endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            next_attempt_at=timezone.now(),
            replay_of=delivery,
        )
        _queue([replay])
    return replay

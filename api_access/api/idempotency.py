"""``Idempotency-Key`` on POST: the same key with the same request gets the stored response
back (no second effect); the same key with a different request is refused (422); a repeat
while the first is still running is refused (409). Keys are kept per API key (or user) for
24 hours."""

from __future__ import annotations

import hashlib
import json

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api_access.api.context import api_owner
from api_access.api.errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from api_access.models import IdempotencyRecord
from api_access.services import idempotency_begin, idempotency_complete, idempotency_release

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class Replay(Exception):
    """Raised from ``initial()`` to answer with the stored response instead of running."""

    def __init__(self, record: IdempotencyRecord):
        self.record = record


def request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n")
    digest.update(request.get_full_path().encode())
    digest.update(b"\n")
    digest.update(request._request.body)
    return digest.hexdigest()


def idempotency_claim(request) -> IdempotencyRecord | None:
    """Called once the request is authenticated: the record this request owns, None when it
    carries no key; raises :class:`Replay` or an API error otherwise."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [_("Må være 1–%(max)d tegn.") % {"max": MAX_KEY_LENGTH}]})
    fingerprint = request_hash(request)
    record, created = idempotency_begin(
        owner=api_owner(request),
        key=key,
        request_hash=fingerprint,
        method=request.method,
        path=request.get_full_path(),
    )
    if created:
        return record
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            _("Idempotency-Key er brukt før med en annen forespørsel. Bruk en ny nøkkel.")
        )
    if record.state != IdempotencyRecord.State.COMPLETED:
        raise IdempotencyKeyInProgress(
            _("En forespørsel med denne Idempotency-Key behandles fortsatt. Prøv igjen snart.")
        )
    raise Replay(record)


def replay_response(record: IdempotencyRecord) -> Response:
    return Response(
        record.response_body,
        status=record.response_status,
        headers={REPLAYED_HEADER: "true"},
    )


def idempotency_finish(record: IdempotencyRecord, response) -> None:
    """Keep the response (a 5xx frees the key: the client may retry the same request)."""
    if response.status_code >= 500:
        idempotency_release(record=record)
        return
    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    idempotency_complete(record=record, status=response.status_code, body=body)

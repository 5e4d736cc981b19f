"""Writes for API access: create and revoke keys, record idempotent requests."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api_access.models import ApiKey, IdempotencyRecord
from creditors.models import Creditor
from kravia_web.errors import ApplicationError

KEY_PREFIX = "kv_"
#: ``kv_`` + 8 hex characters: stored in clear, shown in lists, used to find the row.
PREFIX_LENGTH = len(KEY_PREFIX) + 8
KEY_PATTERN = re.compile(r"^kv_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
#: Only a "last used" more than this old is written again (not one UPDATE per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
IDEMPOTENCY_TTL = timedelta(hours=24)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, creditor: Creditor, actor, name: str) -> tuple[ApiKey, str]:
    """A new key for ``creditor``: the row and the key itself, which is never stored and must
    be shown to the user now (32 random bytes, url-safe)."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Gi nøkkelen et navn."))
    for _attempt in range(5):
        prefix = f"{KEY_PREFIX}{secrets.token_hex(4)}"
        raw_key = f"{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    creditor=creditor,
                    name=name[:100],
                    prefix=prefix,
                    key_hash=_hash(raw_key),
                    created_by=actor,
                )
        except IntegrityError:  # the random prefix is taken: draw another
            continue
        return api_key, raw_key
    raise ApplicationError(_("Kunne ikke lage en nøkkel. Prøv igjen."))


def api_key_revoke(*, api_key: ApiKey, actor) -> ApiKey:
    """Revoke the key; requests with it are refused (401) from now on."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key ``raw_key`` is, or None. The hash is compared in constant time."""
    if not KEY_PATTERN.match(raw_key or ""):
        return None
    api_key = (
        ApiKey.objects.select_related("creditor")
        .filter(prefix=raw_key[:PREFIX_LENGTH], revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(raw_key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --------------------------------------------------------------------------------------------
# Idempotency
# --------------------------------------------------------------------------------------------


def idempotency_begin(
    *, owner: str, key: str, request_hash: str, method: str, path: str
) -> tuple[IdempotencyRecord, bool]:
    """Claim ``key`` for this request: ``(record, True)`` when this request may run, or the
    existing record and False. The row is inserted (and committed) before the request runs, so
    of two concurrent duplicates only one gets True. A record older than 24 hours no longer
    counts: it is replaced."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    IdempotencyRecord.objects.filter(owner=owner, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                owner=owner,
                key=key,
                request_hash=request_hash,
                method=method,
                path=path[:500],
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:  # it expired and was deleted between our insert and this read
            return idempotency_begin(
                owner=owner, key=key, request_hash=request_hash, method=method, path=path
            )
        return existing, False
    return record, True


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["state", "response_status", "response_body"])


def idempotency_records_prune() -> int:
    """Forget every idempotency record older than 24 hours (hourly, from the beat)."""
    deleted, _by_model = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    return deleted


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget the key (the request failed on our side): the client may try it again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()

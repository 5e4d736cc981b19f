"""Fault injection and the per-second request counter behind the rate limit."""

import random
import time
from decimal import Decimal

from django.db import OperationalError
from django.db.models import F, Q

from pogo_sandbox.models import (
    FaultRule,
    RequestCount,
)

from .common import SandboxError

COUNT_ATTEMPTS = 20

# Which requests a FaultRule hits: random by default, repeatable after ``seed_faults(n)``.
# Not for cryptography (S311): it only picks test faults.
fault_random = random.Random()  # noqa: S311


_fault_turns = {"seeded": False, "next": 0}


def seed_faults(seed: int | None) -> None:
    """Make the faults that rules inject repeatable in this process (``None``: random again).

    Seeded, which requests fail is still drawn from the seeded generator, but the kinds take
    turns (500, 503, 429, … in the rule's order), so every kind is seen once a few have failed.
    """
    fault_random.seed(seed)
    _fault_turns.update(seeded=seed is not None, next=0)


def pick_fault(faults: list[str]) -> str:
    """The kind of fault to inject now, from a rule's list."""
    if not _fault_turns["seeded"]:
        return fault_random.choice(faults)
    turn = _fault_turns["next"]
    _fault_turns["next"] = turn + 1
    return faults[turn % len(faults)]


def set_fault_rule(path_prefix: str, *, error_rate, faults, latency_ms: int = 0) -> FaultRule:
    """Make API paths under ``path_prefix`` fail at ``error_rate`` (0..1) and/or slow down."""
    unknown = set(faults) - set(FaultRule.Fault.values)
    if unknown:
        raise SandboxError(f"Unknown faults: {sorted(unknown)}")
    rule, _ = FaultRule.objects.update_or_create(
        path_prefix=path_prefix,
        defaults={
            "error_rate": Decimal(str(error_rate)),
            "faults": list(faults),
            "latency_ms": latency_ms,
            "is_active": True,
        },
    )
    return rule


def clear_faults() -> None:
    FaultRule.objects.all().delete()


def count_request(subscription_key: str, *, limit: int, second: int) -> bool:
    """Count one request against the key's per-second budget; False when over the limit.

    A conditional UPDATE keeps the count exact when several processes share the database.
    SQLite may answer "table is locked" under concurrent writers; that is retried briefly.
    """
    for attempt in range(COUNT_ATTEMPTS):
        try:
            return _count_request(subscription_key, limit=limit, second=second)
        except OperationalError:
            if attempt == COUNT_ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    return False  # not reached


def _count_request(subscription_key: str, *, limit: int, second: int) -> bool:
    # INSERT … ON CONFLICT DO NOTHING: concurrent first requests of a second cannot collide.
    RequestCount.objects.bulk_create(
        [RequestCount(subscription_key=subscription_key, second=second)], ignore_conflicts=True
    )
    rows = RequestCount.objects.filter(subscription_key=subscription_key, second=second)
    if rows.filter(count__lt=limit).update(count=F("count") + 1):
        return True
    rows.update(throttled=F("throttled") + 1)
    return False


def prune_request_counts(*, before_second: int) -> int:
    """Forget per-second counters older than ``before_second`` (they only feed benchmarks)."""
    deleted, _ = RequestCount.objects.filter(second__lt=before_second).delete()
    return deleted


def request_counts(subscription_key: str) -> dict[int, int]:
    """Accepted requests per second (unix time) for a subscription key."""
    return dict(
        RequestCount.objects.filter(subscription_key=subscription_key)
        .filter(~Q(count=0))
        .order_by("second")
        .values_list("second", "count")
    )

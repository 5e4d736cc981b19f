"""10 requests per second per subscription key, counted in the database so every process
running the sandbox shares one budget (``RequestCount``)."""

import random
import time

from django.conf import settings

from pogo_sandbox import domain

from .http import gateway_error

KEEP_SECONDS = 24 * 3600
PRUNE_PROBABILITY = 0.001


def rate_limited(subscription_key: str):
    """None when the request may proceed, else the gateway's 429 answer."""
    limit = getattr(settings, "POGO_SANDBOX_RATE_LIMIT", 10)
    second = int(time.time())
    if random.random() < PRUNE_PROBABILITY:  # noqa: S311
        domain.prune_request_counts(before_second=second - KEEP_SECONDS)
    if domain.count_request(subscription_key, limit=limit, second=second):
        return None
    return gateway_error(429, "Rate limit is exceeded. Try again in 1 seconds.", Retry_After="1")

"""Rate limit per API key (or per user for the browser session), in the shared cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api_access.api.context import api_owner


class PerKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at request time (not import time), so API_RATE_LIMIT can be changed per test.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_owner(request)}

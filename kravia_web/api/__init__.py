"""Shared plumbing of the REST API under ``/api/v1/``: authentication (API keys and the
browser session), the one error shape, idempotent POSTs, throttling per key, cursor
pagination and the URL root. Resources live in each app's ``api.py`` and ``serializers.py``;
this package has no models (``api_access`` holds keys and idempotency records)."""

"""Shared plumbing of the REST API under ``/api/v1/``: authentication (API keys and the
browser session), the one error shape, idempotent POSTs, throttling per key, cursor
pagination and the URL root. Resources live in each app's ``api.py`` and ``serializers.py``;
this package has no models (``api_access.models`` holds keys and idempotency records).

It lives here, not in ``kravia_web``, because it depends on the keys and on the creditor
(and the URL root on every app's resources): ``kravia_web`` is the ground floor and imports no
app outside ``urls.py``, ``settings`` and ``celery.py`` (``tests/test_kravia_web_imports.py``)."""

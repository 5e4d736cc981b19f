"""Access to the REST API: per-creditor API keys, the stored results of idempotent POSTs and
the API's shared plumbing (``api_access.api``: authentication, errors, idempotency,
throttling, pagination, parsing, the schema and the URL root)."""

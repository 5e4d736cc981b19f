"""Access to the REST API: per-creditor API keys and the stored results of idempotent POSTs."""

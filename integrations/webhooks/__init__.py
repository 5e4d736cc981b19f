"""Signed webhooks to the creditor's own systems: endpoints, events, deliveries with retries."""

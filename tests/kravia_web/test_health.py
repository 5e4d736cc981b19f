import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse

from kravia_web.middleware import DatabaseUnavailableMiddleware

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from kravia_web.celery import app

    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    # Celery lets the CELERY_BROKER_URL environment variable win over its config. The config
    # first: monkeypatch keeps what it read to put back, and once the variable is set, reading
    # app.conf.broker_url gives the unreachable one (the tests after this one would get it).
    monkeypatch.setattr(app.conf, "broker_url", unreachable)
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from kravia_web import health

    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "OperationalError"}


def test_a_database_outage_in_a_page_is_a_friendly_503():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    page = middleware.process_exception(
        RequestFactory().get("/registrer/"), OperationalError("down")
    )
    api = middleware.process_exception(
        RequestFactory().get("/api/v1/cases/", HTTP_ACCEPT="application/json"),
        OperationalError("down"),
    )

    assert page.status_code == 503
    assert "Midlertidig utilgjengelig" in page.content.decode()
    assert api.status_code == 503
    assert api["Content-Type"] == "application/json"
    assert json.loads(api.content)["error"]["code"] == "service_unavailable"


def test_other_errors_are_not_swallowed():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None

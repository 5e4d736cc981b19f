"""Secrets never leave their column, and national id numbers never arrive in one.

Client keys, PowerOffice access tokens and API keys are looked for in everything logged (every
logger, DEBUG and up) during a sync through a failing Go and during API use, in the pages that
show the connection and the keys, and in Django's error report of a failing request.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter
from rest_framework.test import APIClient

from api_access.services import api_key_create
from creditors.models import Debtor, Membership
from creditors.validators import is_national_id
from pogo_sandbox import domain
from pogo_sandbox.models import AccessToken
from tests.factories import MembershipFactory
from tests.integrations.test_sync import connect, fast_clients

pytestmark = pytest.mark.reliability

# Valid by both check digits (stdnum), fictional: 01.01.1900, individual number 123.
FNR = "01010012356"
NATIONAL_ID_NAME = re.compile(
    r"f(o|ø|oe)dsel|personnummer|personnr|national|ssn|birth|d_?number|person_?id", re.I
)


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    settings.POGO_SANDBOX_TIMEOUT_SECONDS = 0
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    Membership.objects.create(
        user=MembershipFactory().user, creditor=go.creditor, role=Membership.Role.OWNER
    )
    yield go
    domain.seed_faults(None)


def test_the_fnr_fixture_is_a_valid_national_id():
    assert is_national_id(FNR)
    assert not is_national_id("923609016")


def test_no_model_has_a_field_for_a_national_id():
    fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if NATIONAL_ID_NAME.search(field.name)
    ]
    assert fields == []


def test_a_sync_through_a_failing_go_logs_no_client_key_or_token_and_stores_no_fnr(
    go, caplog, client
):
    # Given a private customer whose "organisation number" in Go is a fødselsnummer
    go.invoice(go.customer("Privat Person", is_person=True, organization_number=FNR))
    domain.seed_faults(7)
    domain.set_fault_rule("", error_rate=0.3, faults=["500", "503", "429", "timeout", "drop"])

    # When we sync (a few rounds, so failures are logged) with every logger at DEBUG
    with caplog.at_level(logging.DEBUG):
        for _ in range(4):
            go.sync()
    domain.clear_faults()
    go.sync()

    # Then the debtor is there without the fnr
    debtor = Debtor.objects.get(creditor=go.creditor)
    assert debtor.is_person
    assert debtor.org_number == ""
    # and neither the client key nor any access token Go handed out was logged
    secrets = [go.connection.client_key, *AccessToken.objects.values_list("token", flat=True)]
    assert len(secrets) > 1
    assert caplog.records
    logged = caplog.text
    assert not [s for s in secrets if s in logged]
    assert FNR not in logged
    # nor is the client key on the pages that show the connection
    owner = Membership.objects.filter(creditor=go.creditor).first().user
    client.force_login(owner)
    for url in (
        reverse("integration_status"),
        reverse("creditor_poweroffice", args=[go.creditor.pk]),
    ):
        page = client.get(url, follow=True)
        assert page.status_code == 200, url
        assert go.connection.client_key.encode() not in page.content


def test_an_api_key_is_never_logged_nor_shown_again(db, caplog, client):
    member = MembershipFactory(role=Membership.Role.OWNER)
    _key, raw = api_key_create(creditor=member.creditor, actor=member.user, name="Regnskap")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-4]}XXXX")

    with caplog.at_level(logging.DEBUG):
        responses = [
            api.get("/api/v1/cases/"),
            api.get("/api/v1/cases/999999/"),
            api.post("/api/v1/invoices/", {"bad": "body"}, format="json"),
            wrong.get("/api/v1/cases/"),
        ]
    client.force_login(member.user)
    responses.append(client.get(reverse("settings_api_keys")))

    assert [r.status_code for r in responses[:4]] == [200, 404, 400, 401]
    assert raw not in caplog.text
    assert raw[:-4] not in caplog.text
    assert not [r for r in responses if raw.encode() in r.content]


def _report_of_a_failing_request(request) -> ExceptionReporter:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return ExceptionReporter(request, *sys.exc_info())


def test_an_error_report_of_a_request_hides_the_authorization_header(settings):
    settings.DEBUG = False
    raw = "krv_" + secrets.token_hex(12)  # built at run time: not in this file's source
    request = RequestFactory().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}")

    report = _report_of_a_failing_request(request)

    assert raw not in report.get_traceback_text()
    assert raw not in report.get_traceback_html()


def test_the_api_refuses_a_fodselsnummer_for_a_private_debtor(db):
    member = MembershipFactory(role=Membership.Role.OWNER)
    _key, raw = api_key_create(creditor=member.creditor, actor=member.user, name="Regnskap")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.post(
        "/api/v1/invoices/",
        {
            "debtor": {"name": "Privat Person", "is_private_individual": True, "org_number": FNR},
            "invoice_number": 77,
            "invoice_date": "2026-09-01",
            "due_date": "2026-09-15",
            "amount": "500.00",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "org_number" in str(response.json())
    assert not Debtor.objects.filter(org_number=FNR).exists()


@pytest.fixture
def go_app(db, settings, pogo_wsgi):
    from django.contrib.auth.hashers import make_password

    from pogo_sandbox.models import Application, GoUser

    Application.objects.create(
        name="Kravia Inkasso",
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        subscription_key=settings.POWEROFFICE_SUBSCRIPTION_KEY,
        redirect_uri_prefix=settings.SITE_URL,
    )
    return GoUser.objects.create(
        email="regnskap@bedrift.example", name="Regnskap", password=make_password("demo1234")
    )


def test_onboarding_logs_no_client_key_token_or_state(logged_in_client, creditor, go_app, caplog):
    from urllib.parse import parse_qs, urlsplit

    from integrations.models import PowerOfficeConnection
    from tests.integrations.test_onboarding_flow import _company, accept, callback_path, start

    company = _company(go_app, org_number=creditor.org_number, name=creditor.name)
    with caplog.at_level(logging.DEBUG):
        session = start(logged_in_client, creditor)
        back = accept(session, go_app, company)
        page = logged_in_client.get(callback_path(back), follow=True)
        replay = logged_in_client.get(callback_path(back), follow=True)  # refused: used state

    assert page.status_code == 200
    assert replay.status_code == 400  # the used state is refused on an explaining page
    assert PowerOfficeConnection.objects.get(creditor=creditor).is_connected
    query = parse_qs(urlsplit(back).query)
    secrets = [
        company.subscriptions.get().client_key,
        query["token"][0],
        query["state"][0],
        *AccessToken.objects.values_list("token", flat=True),
    ]
    assert caplog.records
    assert [s for s in secrets if s in caplog.text] == []
    assert secrets[0].encode() not in page.content + replay.content

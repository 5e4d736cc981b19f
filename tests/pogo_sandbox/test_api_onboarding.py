"""Onboarding/Initiate and Onboarding/Finalize (subscription key only, single-use token)."""

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import ClientSubscription, OnboardingSession
from tests.pogo_sandbox.test_api_support import (
    APP_KEY,
    SUB_KEY,
    make_application,
    make_company,
    make_customer,
    make_user,
)

pytestmark = pytest.mark.django_db
REDIRECT = "https://kundeweb.example/integrasjon/pogo/callback/?state=abc"


def _initiate(client, **body):
    payload = {
        "ApplicationKey": APP_KEY,
        "ClientOrganizationNo": "999999999",
        "RedirectUri": REDIRECT,
    }
    payload.update(body)
    return client.post(
        "/pogo/v2/Onboarding/Initiate",
        payload,
        content_type="application/json",
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )


def _finalize(client, token):
    return client.post(
        "/pogo/v2/Onboarding/Finalize",
        {"OnboardingToken": token},
        content_type="application/json",
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )


@pytest.fixture
def application():
    return make_application()


def test_initiate_returns_a_temporary_url(client, application):
    response = _initiate(client)

    assert response.status_code == 200
    body = response.json()
    session = OnboardingSession.objects.get()
    assert body["TemporaryUrl"] == f"http://testserver/pogo/onboarding/{session.temporary_token}/"
    assert body["ValidUntilDateTimeOffset"]
    assert session.client_org_no == "999999999"


def test_initiate_refuses_a_redirect_outside_the_whitelist(client, application):
    response = _initiate(client, RedirectUri="https://evil.example/integrasjon/")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_initiate_needs_the_subscription_key(client, application):
    response = client.post(
        "/pogo/v2/Onboarding/Initiate",
        {"ApplicationKey": APP_KEY, "RedirectUri": REDIRECT},
        content_type="application/json",
    )

    assert response.status_code == 401


def test_accept_then_finalize_once(client, application):
    company = make_company()
    customer = make_customer(company, transfer_to_debt_collection_agency=False)
    user = make_user(companies=[company])
    _initiate(client)
    session = OnboardingSession.objects.get()

    token = domain.onboarding_accept(session, user=user, company=company)
    first = _finalize(client, token)
    second = _finalize(client, token)

    assert first.status_code == 200
    info = first.json()["OnboardedClientsInformation"]
    subscription = ClientSubscription.objects.get(company=company)
    assert info == [
        {
            "ClientKey": subscription.client_key,
            "ClientName": company.name,
            "ClientOrganizationNumber": company.org_number,
        }
    ]
    assert first.json()["UserEmail"] == user.email
    assert second.status_code == 400
    customer.refresh_from_db()
    assert customer.transfer_to_debt_collection_agency is True


def test_unknown_onboarding_token_is_404(client, application):
    assert _finalize(client, "no-such-token").status_code == 404


def test_status_for_unknown_org_number_and_missing_access(application):
    company = make_company()
    outsider = make_user(email="other@example.com")
    session = OnboardingSession.objects.create(
        application=application,
        client_org_no="123456785",
        redirect_uri=REDIRECT,
        valid_until="2099-01-01T00:00:00Z",
    )
    assert domain.onboarding_status_for(session, outsider) == "ClientNotFound"
    session.client_org_no = company.org_number
    assert domain.onboarding_status_for(session, outsider) == "NoClientAccess"
    company.integration_blocked = True
    company.save()
    admin = make_user(companies=[company])
    assert domain.onboarding_status_for(session, admin) == "IntegrationBlocked"

"""Onboarding in the domain: who may onboard which company, accept, reject, reactivation."""

import datetime as dt

import pytest
from django.utils import timezone

from pogo_sandbox import domain
from pogo_sandbox.models import Application, ClientSubscription, OnboardingSession
from tests.pogo_sandbox.test_api_support import make_application, make_company, make_user

pytestmark = pytest.mark.django_db


def _session(application, org_no="", valid_for=dt.timedelta(hours=1)):
    return OnboardingSession.objects.create(
        application=application,
        client_org_no=org_no,
        redirect_uri="https://kundeweb.example/integrasjon/",
        valid_until=timezone.now() + valid_for,
    )


@pytest.fixture
def application():
    return make_application()


def test_companies_are_the_admin_ones_filtered_to_the_org_number(application):
    first = make_company(org_number="999100007", name="A")
    second = make_company(org_number="999200001", name="B")
    viewer_only = make_company(org_number="999300006", name="C")
    user = make_user(companies=[first, second])
    make_user(email="x@example.com", companies=[viewer_only])
    user.companyaccess_set.create(company=viewer_only, is_admin=False)

    assert domain.onboarding_companies_for(_session(application), user) == [first, second]
    assert domain.onboarding_companies_for(_session(application, "999200001"), user) == [second]


def test_accept_reactivates_and_keeps_the_client_key(application):
    company = make_company()
    user = make_user(companies=[company])
    old = ClientSubscription.objects.create(
        application=application, company=company, privileges=[], is_active=False
    )

    domain.onboarding_accept(_session(application), user=user, company=company)

    old_key = old.client_key
    old.refresh_from_db()
    assert old.is_active is True
    assert old.client_key == old_key
    assert "DebtCollection_Full" in old.privileges


def test_a_new_agency_takes_over_case_creation(application):
    company = make_company()
    user = make_user(companies=[company])
    other = Application.objects.create(
        name="Annet byrå", application_key="k2", subscription_key="s2"
    )
    previous = ClientSubscription.objects.create(application=other, company=company)

    domain.onboarding_accept(_session(application), user=user, company=company)

    previous.refresh_from_db()
    assert previous.can_create_cases is False
    assert ClientSubscription.objects.get(application=application).can_create_cases is True


def test_accept_refuses_an_expired_or_finished_session(application):
    company = make_company()
    user = make_user(companies=[company])
    expired = _session(application, valid_for=dt.timedelta(seconds=-1))
    with pytest.raises(domain.SandboxError):
        domain.onboarding_accept(expired, user=user, company=company)

    session = _session(application)
    domain.onboarding_reject(session, status="Canceled")
    session.refresh_from_db()
    assert session.state == "Canceled"
    with pytest.raises(domain.SandboxError):
        domain.onboarding_accept(session, user=user, company=company)


def test_accept_refuses_a_company_the_user_cannot_onboard(application):
    company = make_company()
    stranger = make_user(email="stranger@example.com")

    with pytest.raises(domain.SandboxError):
        domain.onboarding_accept(_session(application), user=stranger, company=company)
    assert not ClientSubscription.objects.exists()

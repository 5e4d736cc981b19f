"""Shared rows for the screen tests (test_screens*.py): a Go user with companies, invoices."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from pogo_sandbox import domain
from pogo_sandbox.models import Application, Company, CompanyAccess, GoUser, OnboardingSession
from pogo_sandbox.screens.access import SESSION_COMPANY, SESSION_USER

GO_PASSWORD = "Regnskap-2026!"


def make_user(email="regnskap@fjordbakst.example", name="Rita Regnskap") -> GoUser:
    return GoUser.objects.create(email=email, name=name, password=make_password(GO_PASSWORD))


def make_company(name, org_number, user=None, *, is_admin=True, **fields) -> Company:
    company = Company.objects.create(name=name, org_number=org_number, **fields)
    if user is not None:
        CompanyAccess.objects.create(user=user, company=company, is_admin=is_admin)
    return company


@pytest.fixture
def go_user(db):
    return make_user()


@pytest.fixture
def company(go_user):
    return make_company("Fjordbakst AS", "310000107", go_user)


@pytest.fixture
def other_company(go_user):
    return make_company("Tindesport AS", "310000212", go_user)


@pytest.fixture
def go_client(client, go_user, company):
    """A browser logged in to the sandbox Go, working in ``company``."""
    session = client.session
    session[SESSION_USER] = go_user.pk
    session[SESSION_COMPANY] = company.pk
    session.save()
    return client


@pytest.fixture
def application(db):
    return Application.objects.create(
        name="Kravia", redirect_uri_prefix="http://testserver/integrasjon/pogo/tilbake"
    )


def make_onboarding(application, *, org_no="", valid_for=dt.timedelta(minutes=30), **fields):
    return OnboardingSession.objects.create(
        application=application,
        client_org_no=org_no,
        redirect_uri="http://testserver/integrasjon/pogo/tilbake/?state=abc123",
        valid_until=timezone.now() + valid_for,
        **fields,
    )


@pytest.fixture
def customer(company):
    return domain.create_customer(
        company,
        number=10001,
        name="Ola Nordmann",
        first_name="Ola",
        last_name="Nordmann",
        is_person=True,
        email_address="ola@example.no",
    )


@pytest.fixture
def invoice(customer):
    today = domain.oslo_today()
    return domain.create_invoice(
        customer,
        invoice_no=1001,
        voucher_date=today - dt.timedelta(days=44),
        due_date=today - dt.timedelta(days=30),
        total_amount=Decimal("1250.00"),
        cid="0000100110",
    )

"""``pogo_seed``: the demo world, and a second run changes nothing."""

import io

import pytest
from django.core import serializers
from django.core.management import call_command
from stdnum import luhn
from stdnum.no import orgnr

from pogo_sandbox import models

pytestmark = pytest.mark.django_db

SANDBOX_MODELS = [
    models.Application,
    models.GoUser,
    models.Company,
    models.CompanyAccess,
    models.Customer,
    models.OutgoingInvoice,
    models.LedgerEntry,
    models.GeneralLedgerAccount,
    models.VatCode,
]


def _snapshot() -> str:
    return "".join(
        serializers.serialize("json", model.objects.order_by("pk")) for model in SANDBOX_MODELS
    )


def test_seeding_twice_changes_nothing():
    call_command("pogo_seed", stdout=io.StringIO())
    first = _snapshot()

    call_command("pogo_seed", stdout=io.StringIO())

    assert _snapshot() == first


def test_seed_builds_the_demo_world(settings):
    out = io.StringIO()
    call_command("pogo_seed", stdout=out)

    user = models.GoUser.objects.get(email="demo@poweroffice.example")
    companies = list(models.Company.objects.filter(companyaccess__user=user))
    assert len(companies) == 2
    assert all(orgnr.is_valid(c.org_number) for c in companies)
    assert "demo1234" in out.getvalue()
    assert all(c.org_number in out.getvalue() for c in companies)
    application = models.Application.objects.get()
    assert application.application_key == settings.POWEROFFICE_APPLICATION_KEY
    assert application.subscription_key == settings.POWEROFFICE_SUBSCRIPTION_KEY
    for company in companies:
        customers = company.customers.all()
        assert customers.count() == 40
        assert customers.filter(is_person=True).exists()
        assert customers.filter(is_person=False).exists()
        assert customers.filter(transfer_to_debt_collection_agency=False).exists()
        invoices = company.invoices.all()
        assert invoices.filter(balance=0).exists()
        assert invoices.filter(balance__gt=0).exists()
        assert all(luhn.is_valid(i.cid) for i in invoices)
        accounts = set(company.accounts.values_list("account_no", flat=True))
        assert {1500, 1920, 2400, 2710, 3000, 7770, 7830, 8050} <= accounts
    assert models.OutgoingInvoice.objects.count() >= 200


def test_seed_follows_a_changed_site_url(settings):
    call_command("pogo_seed", stdout=io.StringIO())
    settings.SITE_URL = "http://localhost:8123"

    call_command("pogo_seed", stdout=io.StringIO())

    assert models.Application.objects.get().redirect_uri_prefix == "http://localhost:8123"

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_cases.models import CollectionCase, LedgerEntry, Payment
from collections_cases.payments import services
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:collections_cases_payment_add")
CHANGELIST = reverse("admin:collections_cases_payment_changelist")


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def owing(amount="500.00"):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case, kind=LedgerEntry.Kind.PRINCIPAL, amount=Decimal(amount))
    return case


def register_data(**overrides):
    data = {
        "amount": "200.00",
        "paid_on": "05.11.2026",
        "kid": "",
        "case": "",
        "external_reference": "BANK-1",
        "payer_name": "Ola Nordmann",
        "payer_reference": "",
        "allocations-TOTAL_FORMS": "0",
        "allocations-INITIAL_FORMS": "0",
        "allocations-MIN_NUM_FORMS": "0",
        "allocations-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_payments_admin_manual_registration_by_kid(admin_client):
    case = owing()
    response = admin_client.post(ADD, register_data(kid=case.kid))
    assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get()
    assert payment.source == Payment.Source.MANUAL
    assert payment.status == Payment.Status.ALLOCATED
    assert payment.case == case
    assert payment.allocations.get().amount == Decimal("200.00")


def test_payments_admin_manual_registration_to_case_closes_it(admin_client):
    case = owing()
    response = admin_client.post(ADD, register_data(case=str(case.pk), amount="500.00"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.PAID


def test_payments_admin_rejects_zero_and_duplicate_reference(admin_client):
    response = admin_client.post(ADD, register_data(amount="0"))
    assert response.status_code == 200
    assert "større enn 0" in response.content.decode()
    admin_client.post(ADD, register_data(kid="999999998"))
    response = admin_client.post(ADD, register_data(kid="999999998"))
    assert response.status_code == 200
    assert Payment.objects.count() == 1


def test_payments_admin_queue_assignment_allocates(admin_client):
    case = owing()
    payment = services.payment_register(
        amount=Decimal("120.00"),
        paid_on=dt.date(2026, 11, 5),
        external_reference="Q-1",
        kid="123456780",
    )
    assert payment.status == Payment.Status.UNMATCHED
    queue = admin_client.get(CHANGELIST + "?status__exact=unmatched")
    assert "kontrollsiffer" in queue.content.decode()
    url = reverse("admin:collections_cases_payment_change", args=[payment.pk])
    assert admin_client.get(url).status_code == 200
    data = register_data()
    response = admin_client.post(url, {**data, "case": str(case.pk)})
    assert response.status_code == 302, response.content.decode()[:2000]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED
    assert payment.case == case
    assert payment.matched_by == admin_client.staff
    # an allocated payment is read-only
    assert admin_client.get(url).status_code == 200


def test_payments_admin_imports_list(admin_client):
    assert (
        admin_client.get(reverse("admin:collections_cases_paymentimport_changelist")).status_code
        == 200
    )

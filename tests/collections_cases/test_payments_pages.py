import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from collections_cases.payments import services
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _paid_case():
    membership = MembershipFactory()
    case = open_case(membership.creditor, amounts=("1000.00",))
    LedgerEntryFactory(case=case, kind="fee", amount=Decimal("70.00"))
    services.payment_register(
        amount=Decimal("170.00"),
        paid_on=dt.date(2026, 11, 5),
        external_reference="PAGE-1",
        case=case,
    )
    return membership, case


def test_payments_split_on_the_kundeweb_case_page():
    membership, case = _paid_case()
    client = Client()
    client.force_login(membership.user)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "Innbetalinger" in body
    assert "05.11.2026" in body
    assert "Gebyr: kr 70,00" in body
    assert "Hovedstol: kr 100,00" in body


def test_payments_split_on_min_side():
    _membership, case = _paid_case()
    client = Client()
    from collections_cases.portal.access import access_issue

    code = access_issue(case=case).code
    response = client.post(
        reverse("portal_lookup"), {"number": case.number, "code": code}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 302
    body = client.get(reverse("portal_case")).content.decode()
    assert "Gebyr: kr 70,00" in body
    assert "Hovedstol: kr 100,00" in body


def test_payments_case_page_without_payments():
    membership = MembershipFactory()
    case = open_case(membership.creditor)
    client = Client()
    client.force_login(membership.user)
    assert (
        "Ingen innbetalinger er registrert."
        in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    )

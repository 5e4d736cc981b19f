import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api_access.services import api_key_create
from collections_cases.models import LedgerEntry, Settlement
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    InvoiceFactory,
    LedgerEntryFactory,
)
from tests.factories import CreditorFactory, MembershipFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key_pair(creditor, user):
    """(ApiKey, raw key) of ``creditor``."""
    return api_key_create(creditor=creditor, actor=user, name="Regnskap")


@pytest.fixture
def api(key_pair):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key_pair[1]}")
    return client


@pytest.fixture
def other_creditor(db):
    return MembershipFactory().creditor


@pytest.fixture
def other_api(other_creditor):
    _key, raw = api_key_create(creditor=other_creditor, actor=None, name="Annen")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make_case(creditor, *, principal="1000.00", **kwargs):
    debtor = kwargs.pop("debtor", None) or DebtorFactory(creditor=creditor)
    case = CollectionCaseFactory(debtor=debtor, **kwargs)
    invoice = InvoiceFactory(debtor=debtor, case=case, total_amount=Decimal(principal))
    LedgerEntryFactory(
        case=case,
        invoice=invoice,
        kind=LedgerEntry.Kind.PRINCIPAL,
        amount=Decimal(principal),
        booked_on=timezone.localdate(),
    )
    return case


@pytest.fixture
def case(creditor):
    return make_case(creditor)


def make_settlement(creditor, *, settled_on=None, payout="900.00"):
    settled_on = settled_on or timezone.localdate()
    return Settlement.objects.create(
        creditor=creditor,
        settled_on=settled_on,
        period_start=settled_on - dt.timedelta(days=7),
        period_end=settled_on,
        bookkeeping_mode=creditor.bookkeeping_mode,
        vat_registered=True,
        interest_to=creditor.interest_to,
        vat_percent=Decimal("25.00"),
        collected=Decimal("1000.00"),
        principal=Decimal(payout),
        interest=Decimal("0.00"),
        fees=Decimal("100.00"),
        salaer=Decimal("0.00"),
        interest_to_creditor=Decimal("0.00"),
        commission=Decimal("0.00"),
        vat=Decimal("0.00"),
        payout=Decimal(payout),
    )


def assert_error(response, status, type_=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    if type_ is not None:
        assert body["type"] == type_, body
    return body


__all__ = ["CreditorFactory", "assert_error", "make_case", "make_settlement"]

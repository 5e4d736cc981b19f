"""Contract tests of /api/v1/debtors, /invoices and /settlements."""

import datetime as dt

import pytest
from django.utils import timezone

from collections_cases.models import CaseEvent, CollectionCase, Invoice
from creditors.models import Debtor
from tests.api.conftest import assert_error, make_case, make_settlement
from tests.collections_cases.factories import DebtorFactory

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------
# Debtors
# --------------------------------------------------------------------------------------------


def test_debtor_list_and_detail(api, case, other_creditor):
    foreign = DebtorFactory(creditor=other_creditor)
    body = api.get("/api/v1/debtors/").json()
    assert [row["id"] for row in body["results"]] == [case.debtor_id]
    row = body["results"][0]
    assert row["open_cases"] == 1 and row["outstanding"] == "1000.00"
    detail = api.get(f"/api/v1/debtors/{case.debtor_id}/").json()
    assert detail["cases"] == [{"id": case.pk, "number": case.number, "status": "active"}]
    assert_error(api.get(f"/api/v1/debtors/{foreign.pk}/"), 404)
    assert_error(api.patch(f"/api/v1/debtors/{foreign.pk}/", {"phone": "1"}), 404)


def test_debtor_search(api, creditor):
    DebtorFactory(creditor=creditor, name="Per Persen")
    wanted = DebtorFactory(creditor=creditor, name="Kari Fjell")
    body = api.get("/api/v1/debtors/", {"search": "fjell"}).json()
    assert [row["id"] for row in body["results"]] == [wanted.pk]


def test_debtor_patch_contact_and_profile(api, case):
    response = api.patch(
        f"/api/v1/debtors/{case.debtor_id}/",
        {"phone": "99 88 77 66", "postal_code": "0150", "entry_step": "betalingsoppfordring"},
    )
    assert response.status_code == 200, response.content
    debtor = Debtor.objects.get(pk=case.debtor_id)
    assert debtor.phone == "99 88 77 66"
    assert debtor.entry_step == "betalingsoppfordring"
    assert response.json()["effective_entry_step"] == "betalingsoppfordring"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": "Nytt navn"}, "name"),
        ({"entry_step": "rettslig"}, "entry_step"),
        ({}, "non_field_errors"),
    ],
)
def test_debtor_patch_invalid_is_400(api, case, payload, field):
    body = assert_error(
        api.patch(f"/api/v1/debtors/{case.debtor_id}/", payload), 400, "validation_error"
    )
    assert field in body["errors"]


# --------------------------------------------------------------------------------------------
# Invoices from another system
# --------------------------------------------------------------------------------------------


def invoice_payload(**overrides):
    today = timezone.localdate()
    payload = {
        "debtor": {
            "name": "Fjellheim Bygg AS",
            "number": 5001,
            "email": "post@fjellheim.example.no",
            "org_number": "974760673",
            "is_private_individual": False,
            "address": {"line": "Storgata 1", "postal_code": "0155", "city": "Oslo"},
        },
        "invoice_number": 77001,
        "invoice_date": (today - dt.timedelta(days=40)).isoformat(),
        "due_date": (today - dt.timedelta(days=20)).isoformat(),
        "amount": "12500.00",
        "currency": "NOK",
        "description": "Tømrerarbeid, oktober",
    }
    payload.update(overrides)
    return payload


def test_register_invoice_creates_debtor_invoice_and_case(api, creditor):
    response = api.post("/api/v1/invoices/", invoice_payload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["debtor_created"] is True and body["case_created"] is True
    assert body["invoice"]["total_amount"] == "12500.00"
    assert body["case"]["balance"] == "12500.00"
    case = CollectionCase.objects.get(pk=body["case"]["id"])
    assert case.creditor == creditor and case.status == "active"
    debtor = case.debtor
    assert (debtor.name, debtor.org_number, debtor.is_person) == (
        "Fjellheim Bygg AS",
        "974760673",
        False,
    )
    assert debtor.postal_city == "Oslo" and debtor.customer_number == 5001
    assert case.events.filter(kind=CaseEvent.Kind.NOTE, message__contains="Tømrerarbeid").exists()


def test_second_invoice_of_same_debtor_joins_its_early_case(api):
    first = api.post("/api/v1/invoices/", invoice_payload()).json()
    second = api.post(
        "/api/v1/invoices/", invoice_payload(invoice_number=77002, amount="100.00")
    ).json()
    assert second["debtor_created"] is False and second["case_created"] is False
    assert second["case"]["id"] == first["case"]["id"]
    assert second["case"]["balance"] == "12600.00"


def test_register_private_individual_without_org_number(api):
    debtor = {"name": "Ola Nordmann", "is_private_individual": True, "email": "ola@example.no"}
    response = api.post("/api/v1/invoices/", invoice_payload(debtor=debtor))
    assert response.status_code == 201, response.content


def test_foreign_currency_is_clear_400(api):
    body = assert_error(
        api.post("/api/v1/invoices/", invoice_payload(currency="EUR")), 400, "validation_error"
    )
    assert "NOK" in body["errors"]["currency"][0]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"amount": "0"}, "amount"),
        ({"due_date": "2999-01-01"}, "due_date"),
        ({"invoice_number": "abc"}, "invoice_number"),
        ({"debtor": {"name": "X AS", "is_private_individual": False}}, "debtor.org_number"),
        (
            {"debtor": {"name": "X AS", "is_private_individual": False, "org_number": "123"}},
            "debtor.org_number",
        ),
        ({"debtor": {"is_private_individual": True}}, "debtor.name"),
    ],
)
def test_register_invalid_is_400(api, overrides, field):
    body = assert_error(api.post("/api/v1/invoices/", invoice_payload(**overrides)), 400)
    assert field in body["errors"], body


def test_duplicate_invoice_number_is_409(api):
    assert api.post("/api/v1/invoices/", invoice_payload()).status_code == 201
    assert_error(api.post("/api/v1/invoices/", invoice_payload()), 409, "conflict")
    assert Invoice.objects.count() == 1


# --------------------------------------------------------------------------------------------
# Settlements
# --------------------------------------------------------------------------------------------


def test_settlements_list_detail_and_mark_booked(api, creditor, other_creditor):
    own = make_settlement(creditor)
    foreign = make_settlement(other_creditor)
    body = api.get("/api/v1/settlements/").json()
    assert [row["id"] for row in body["results"]] == [own.pk]
    assert body["results"][0]["payout"] == "900.00"
    assert body["results"][0]["number"] == own.number
    detail = api.get(f"/api/v1/settlements/{own.pk}/").json()
    assert detail["lines"] == [] and detail["booked_at"] is None
    response = api.post(f"/api/v1/settlements/{own.pk}/mark-booked/", {})
    assert response.status_code == 200
    assert response.json()["booked_at"] is not None
    assert_error(api.get(f"/api/v1/settlements/{foreign.pk}/"), 404)
    assert_error(api.post(f"/api/v1/settlements/{foreign.pk}/mark-booked/", {}), 404)
    foreign.refresh_from_db()
    assert foreign.booked_at is None


def test_settlement_lines(api, creditor):
    from collections_cases.models import SettlementLine

    settlement = make_settlement(creditor)
    case = make_case(creditor)
    SettlementLine.objects.create(
        settlement=settlement,
        case=case,
        collected="1000.00",
        principal="900.00",
        interest="0",
        fees="100.00",
        salaer="0",
        interest_to_creditor="0",
        commission="0",
        vat="0",
        payout="900.00",
    )
    [line] = api.get(f"/api/v1/settlements/{settlement.pk}/").json()["lines"]
    assert line["case_number"] == case.number and line["payout"] == "900.00"

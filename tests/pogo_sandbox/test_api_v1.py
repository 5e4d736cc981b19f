"""v1 DebtCollection: wrapping, available invoices, cases, status updates, matched items."""

import datetime as dt
from decimal import Decimal

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase, OutgoingInvoice
from tests.pogo_sandbox.test_api_support import (
    Api,
    make_application,
    make_company,
    make_customer,
    make_invoice,
    make_subscription,
)

Status = OutgoingInvoice.DebtCollectionStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return make_company(auto_transfer_to_agency=True, payment_reminder_enabled=False)


@pytest.fixture
def subscription(company):
    return make_subscription(company, make_application())


@pytest.fixture
def api(client, subscription):
    return Api(client, subscription, api="v1")


@pytest.fixture
def overdue(company):
    customer = make_customer(company)
    due = domain.oslo_today() - dt.timedelta(days=30)
    return [make_invoice(customer, invoice_no=n, due=due) for n in (1, 2)]


def _create_case(api, invoices, code="K-1001"):
    return api.post(
        "DebtCollection/",
        {
            "code": code,
            # DebtCollectionCase.Invoices (PowerOffice's v1 reference): invoices by id.
            "invoices": [{"id": str(i.id)} for i in invoices],
            "externalCaseUrl": "https://kundeweb.example/saker/1001/",
        },
    ).json()


def test_is_active_is_wrapped(api):
    body = api.get("DebtCollection/IsActiveDebtCollection").json()

    assert body == {"data": True, "success": True}


def test_available_invoices_refreshes_drafts_and_wraps(api, overdue):
    body = api.get("DebtCollection/Invoices/AvailableInvoices").json()

    assert body["success"] is True
    assert body["count"] == 2
    assert {i["invoiceNo"] for i in body["data"]} == {1, 2}
    assert body["data"][0]["remainingAmount"] == 1000


def test_available_invoices_top_skip_and_filter(api, overdue):
    page = api.get("DebtCollection/Invoices/AvailableInvoices", {"$top": 1, "$skip": 1}).json()
    filtered = api.get("DebtCollection/Invoices/AvailableInvoices", {"$filter": "invoiceNo eq 2"})

    assert [i["invoiceNo"] for i in page["data"]] == [2]
    assert page["count"] == 2  # the total behind the filter, not the page length
    assert [i["invoiceNo"] for i in filtered.json()["data"]] == [2]


def test_create_case_moves_invoices_to_open(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")

    body = _create_case(api, overdue)

    assert body["success"] is True
    assert body["data"]["code"] == "K-1001"
    assert len(body["data"]["invoices"]) == 2
    for invoice in overdue:
        invoice.refresh_from_db()
        assert invoice.debt_collection_status == Status.EXPORTED
    again = api.get("DebtCollection/Invoices/AvailableInvoices").json()
    assert again["count"] == 0


def test_create_case_with_invoice_not_approved_fails_with_validation(api, company):
    invoice = make_invoice(make_customer(company), due=domain.oslo_today() + dt.timedelta(days=5))

    response = api.post("DebtCollection/", {"code": "K-1", "invoiceIds": [str(invoice.id)]})

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert body["validation"]["summary"]


def test_create_case_refused_when_agency_may_not_create(api, subscription, overdue):
    subscription.can_create_cases = False
    subscription.save()

    body = api.post("DebtCollection/", {"code": "K-1", "invoiceIds": []}).json()

    assert body["success"] is False


def test_update_status_and_get(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    case_id = _create_case(api, overdue)["data"]["id"]

    updated = api.post(
        "DebtCollection/UpdateStatus",
        {
            "caseId": case_id,
            "statusText": "Inkassovarsel sendt",
            "isCaseClosed": False,
            "updatedBalanceAgency": 2350.5,
        },
    ).json()
    fetched = api.get(f"DebtCollection/{case_id}").json()
    listed = api.get("DebtCollection/").json()

    # DebtCollectionCase has no statusText (v1 reference): Go shows it, the API does not echo it.
    assert updated["success"] is True and "statusText" not in updated["data"]
    assert DebtCollectionCase.objects.get(pk=case_id).status_text == "Inkassovarsel sendt"
    assert fetched["data"]["balanceAgency"] == 2350.5
    assert fetched["data"]["status"] == 0
    assert listed["count"] == 1


def test_close_case(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    case_id = _create_case(api, overdue)["data"]["id"]

    body = api.post(
        "DebtCollection/UpdateStatus",
        {"caseId": case_id, "statusText": "Betalt", "isCaseClosed": True},
    ).json()

    assert body["data"]["status"] == 10


def test_add_invoices_and_merge(api, company, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    first = _create_case(api, overdue[:1], code="K-1")["data"]["id"]
    second = _create_case(api, [], code="K-2")["data"]["id"]

    added = api.post(
        "DebtCollection/AddInvoicesToCase", {"caseId": second, "invoiceIds": [str(overdue[1].id)]}
    ).json()
    merged = api.post(
        "DebtCollection/MergeCases", {"caseIds": [first, second], "caseNo": "K-3"}
    ).json()

    assert [i["invoiceNo"] for i in added["data"]["invoices"]] == [2]
    assert merged["data"]["code"] == "K-3"
    assert len(merged["data"]["invoices"]) == 2
    assert api.get("DebtCollection/").json()["count"] == 1


def test_delete_rejects_the_case(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    case_id = _create_case(api, overdue)["data"]["id"]

    body = api.delete(f"DebtCollection/{case_id}").json()

    assert body["success"] is True
    overdue[0].refresh_from_db()
    assert overdue[0].debt_collection_status == Status.REJECTED
    assert api.get(f"DebtCollection/{case_id}").json()["success"] is False


def test_matched_items_show_payments_and_write_offs(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    _create_case(api, overdue)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    domain.register_payment(overdue[0], amount=Decimal("250"), on=domain.oslo_today())
    domain.write_off(overdue[1], on=domain.oslo_today())

    body = api.get("DebtCollection/GetAllMatchedItems", {"fromDateTime": since.isoformat()}).json()

    items = body["data"][0]["matchedItems"]
    assert body["success"] is True
    assert sorted((i["amount"], i["isWriteOff"]) for i in items) == [(-1000, True), (-250, False)]
    overdue[0].refresh_from_db()
    assert {i["matchId"] for i in items if not i["isWriteOff"]} == {overdue[0].match_id}


def test_matched_items_filter_is_exclusive(api, overdue):
    api.get("DebtCollection/Invoices/AvailableInvoices")
    _create_case(api, overdue)
    entry = domain.register_payment(overdue[0], amount=Decimal("250"), on=domain.oslo_today())

    body = api.get(
        "DebtCollection/GetAllMatchedItems", {"fromDateTime": entry.last_changed.isoformat()}
    ).json()

    assert body["data"] == []


def test_invoice_pdf(api, overdue):
    response = api.get(f"DebtCollection/GetInvoicePdf/{overdue[0].id}")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_v1_without_token_is_401(client, subscription):
    response = client.get("/pogo/v1/DebtCollection/IsActiveDebtCollection")

    assert response.status_code == 401
    assert response.json()["success"] is False

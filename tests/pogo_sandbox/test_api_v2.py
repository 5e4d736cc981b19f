"""v2 conventions: PascalCase, bare arrays, 204, paging, exclusive filters, JSON Patch, errors."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine

from pogo_sandbox import domain
from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher
from tests.pogo_sandbox.test_api_support import (
    Api,
    make_application,
    make_company,
    make_customer,
    make_invoice,
    make_subscription,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def api(client, company):
    return Api(client, make_subscription(company, make_application()))


def test_organization_settings_are_pascal_case(api, company):
    body = api.get("OrganizationSettings").json()

    assert body["OrganizationNumber"] == company.org_number
    assert body["Name"] == company.name
    assert "MailAddress" in body


def test_customers_are_a_bare_array(api, company):
    make_customer(company, number=10001)
    response = api.get("Customers")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert body[0]["Number"] == 10001
    assert body[0]["TransferToDebtCollectionAgency"] is True


def test_empty_list_is_204(api):
    response = api.get("Customers")

    assert response.status_code == 204
    assert response.content == b""


def test_paging_reads_pages_until_short(api, company):
    for number in range(10001, 10006):
        make_customer(company, number=number)

    first = api.get("Customers", {"PageNumber": 1, "PageSize": 2}).json()
    third = api.get("Customers", {"PageNumber": 3, "PageSize": 2}).json()
    beyond = api.get("Customers", {"PageNumber": 4, "PageSize": 2})

    assert [c["Number"] for c in first] == [10001, 10002]
    assert [c["Number"] for c in third] == [10005]
    assert beyond.status_code == 204


def test_page_size_over_max_is_400(api):
    response = api.get("Customers", {"PageSize": 20001})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()) == {"Type", "Title", "Status", "Detail", "Instance"}


def test_odata_top_is_400(api):
    assert api.get("Customers", {"$top": 5}).status_code == 400


def test_customer_numbers_filter_takes_ranges(api, company):
    for number in (10001, 10002, 10003, 12000, 13000):
        make_customer(company, number=number)

    body = api.get("Customers", {"customerNos": "10001-10002, 12000"}).json()

    assert [c["Number"] for c in body] == [10001, 10002, 12000]


def test_last_changed_filter_is_exclusive(api, company):
    customer = make_customer(company)
    stamp = customer.last_changed.isoformat()

    response = api.get("Customers", {"lastChangedDateTimeOffsetGreaterThan": stamp})

    assert response.status_code == 204


def test_unknown_customer_is_404_problem(api):
    response = api.get("Customers/999999")

    assert response.status_code == 404
    assert response.json()["Status"] == 404


def test_json_patch_changes_the_email(api, company):
    customer = make_customer(company)
    before = customer.last_changed

    response = api.patch(
        f"Customers/{customer.pk}",
        [{"op": "replace", "path": "/EmailAddress", "value": "ny@example.com"}],
    )

    assert response.status_code == 200
    assert response.json()["EmailAddress"] == "ny@example.com"
    customer.refresh_from_db()
    assert customer.email_address == "ny@example.com"
    assert customer.last_changed > before


def test_json_patch_of_a_read_only_field_is_400(api, company):
    customer = make_customer(company)

    response = api.patch(
        f"Customers/{customer.pk}", [{"op": "replace", "path": "/Number", "value": 5}]
    )

    assert response.status_code == 400


def test_json_patch_needs_its_content_type(api, company):
    customer = make_customer(company)

    response = api.patch(
        f"Customers/{customer.pk}",
        [{"op": "replace", "path": "/EmailAddress", "value": "ny@example.com"}],
        content_type="application/json",
    )

    assert response.status_code == 415


def test_json_patch_with_camel_case_path_is_400(api, company):
    customer = make_customer(company)

    response = api.patch(
        f"Customers/{customer.pk}",
        [{"op": "replace", "path": "/emailAddress", "value": "ny@example.com"}],
    )

    assert response.status_code == 400


def test_invoice_amounts_are_json_numbers(api, company):
    make_invoice(make_customer(company), amount="1234.50")

    raw = api.get("OutgoingInvoices").content.decode()
    body = json.loads(raw, parse_float=Decimal)

    assert body[0]["TotalAmount"] == Decimal("1234.5")
    assert '"TotalAmount": 1234.5' in raw
    assert body[0]["DueDate"] == "2026-01-15"
    assert "+" in body[0]["LastChangedDateTimeOffset"]


def test_only_unpaid_and_balance_filter(api, company):
    customer = make_customer(company)
    paid = make_invoice(customer, invoice_no=1)
    unpaid = make_invoice(customer, invoice_no=2)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5), tick=False):
        domain.register_payment(paid, amount=paid.total_amount, on=dt.date(2026, 1, 20))
    paid.refresh_from_db()

    unpaid_body = api.get("OutgoingInvoices", {"onlyUnpaidInvoices": "true"}).json()
    changed = api.get(
        "OutgoingInvoices",
        {"balanceLastChangedDateTimeOffsetGreaterThan": unpaid.balance_last_changed.isoformat()},
    ).json()
    after_payment = api.get(
        "OutgoingInvoices",
        {"balanceLastChangedDateTimeOffsetGreaterThan": paid.balance_last_changed.isoformat()},
    )

    assert [i["InvoiceNo"] for i in unpaid_body] == [2]
    assert [i["InvoiceNo"] for i in changed] == [1]
    assert changed[0]["Balance"] == 0
    assert after_payment.status_code == 204


def test_invoice_by_id_and_unknown_id(api, company):
    invoice = make_invoice(make_customer(company))

    assert api.get(f"OutgoingInvoices/{invoice.id}").json()["InvoiceNo"] == 1
    unknown = api.get("OutgoingInvoices/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404


def test_other_companies_are_invisible(api):
    other = make_company(org_number="888888888")
    make_customer(other)

    assert api.get("Customers").status_code == 204


def test_open_items_and_entries_by_match_id(api, company):
    customer = make_customer(company)
    invoice = make_invoice(customer, amount="1000")
    domain.register_payment(invoice, amount=Decimal("400"), on=dt.date(2026, 1, 20))

    items = api.get("Customerledger/OpenItems", {"date": "2026-02-01"}).json()
    before_payment = api.get("Customerledger/OpenItems", {"date": "2026-01-19"}).json()
    entries = api.get("Customerledger/EntriesByMatchId", {"matchId": invoice.match_id}).json()

    # CustomerLedgerEntryDto.InvoiceNo is a string in PowerOffice's spec.
    assert [(i["InvoiceNo"], i["Balance"]) for i in items] == [("1", 600)]
    assert before_payment[0]["Balance"] == 1000
    assert sorted(e["Amount"] for e in entries) == [-400, 1000]
    assert {e["MatchId"] for e in entries} == {invoice.match_id}


def test_accounts_filter_and_vat_codes(api, company):
    for number in (1500, 1920, 3000):
        GeneralLedgerAccount.objects.create(company=company, account_no=number, name=str(number))

    body = api.get("GeneralLedgerAccounts", {"accountNos": "1500,1920"}).json()

    assert [a["AccountNo"] for a in body] == [1500, 1920]
    assert api.get("VatCodes").status_code == 204


def _receivable(company):
    return GeneralLedgerAccount.objects.create(company=company, account_no=1500, name="Kunder")


def _bank(company):
    return GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")


def test_bank_journal_proposal_lands_unposted_in_the_inbox(api, company):
    customer = make_customer(company)
    invoice = make_invoice(customer, amount="1000")
    bank = _bank(company)

    response = api.post(
        "JournalEntryVouchers/BankJournals",
        {
            "VoucherDate": "2026-02-01",
            "CurrencyCode": "NOK",
            "Description": "Innbetaling via inkasso",
            "BankJournalLines": [
                {
                    "DebitAccountId": bank.pk,
                    "CreditAccountId": customer.subledger_account_id,
                    "CurrencyAmount": 1000,
                    "InvoiceNo": "1",
                }
            ],
        },
    )

    assert response.status_code == 201
    voucher = JournalVoucher.objects.get()
    assert voucher.is_posted is False
    invoice.refresh_from_db()
    assert invoice.balance == 1000

    domain.post_voucher(voucher)
    invoice.refresh_from_db()
    assert invoice.balance == 0


def test_proposal_with_unknown_account_is_400(api, company):
    response = api.post(
        "JournalEntryVouchers/ManualJournals",
        {
            "VoucherDate": "2026-02-01",
            "CurrencyCode": "NOK",
            "ManualVoucherLines": [{"DebitAccountId": 424242, "CurrencyAmount": 10}],
        },
    )

    assert response.status_code == 400


def _posted_body(bank, customer, reference, amount=300):
    return {
        "VoucherDate": "2026-02-01",
        "CurrencyCode": "NOK",
        "ExternalImportReference": reference,
        "VoucherLines": [
            {
                "AccountId": bank.pk,
                "PostingDate": "2026-02-01",
                "VatId": None,
                "CurrencyAmount": amount,
            },
            {
                "AccountId": customer.subledger_account_id,
                "PostingDate": "2026-02-01",
                "VatId": None,
                "CurrencyAmount": -amount,
                "InvoiceNo": "1",
            },
        ],
    }


def test_posted_bank_journal_matches_the_invoice(api, company):
    customer = make_customer(company)
    invoice = make_invoice(customer, amount="1000")
    bank = _bank(company)

    response = api.post("Vouchers/BankJournals", _posted_body(bank, customer, "oppgjor-1"))

    assert response.status_code == 201
    assert response.json()["VoucherNo"]
    invoice.refresh_from_db()
    assert invoice.balance == 700


def test_duplicate_external_import_reference_is_409(api, company):
    customer = make_customer(company)
    invoice = make_invoice(customer, amount="1000")
    bank = _bank(company)
    api.post("Vouchers/BankJournals", _posted_body(bank, customer, "oppgjor-1"))

    response = api.post("Vouchers/BankJournals", _posted_body(bank, customer, "oppgjor-1"))

    assert response.status_code == 409
    assert response.json()["Status"] == 409
    invoice.refresh_from_db()
    assert invoice.balance == 700


def test_unbalanced_posted_voucher_is_400(api, company):
    customer = make_customer(company)
    make_invoice(customer)
    body = _posted_body(_bank(company), customer, "x")
    body["VoucherLines"][0]["CurrencyAmount"] = 1

    assert api.post("Vouchers/BankJournals", body).status_code == 400


def test_voucher_documentation_and_pdf(api, company):
    invoice = make_invoice(make_customer(company))

    docs = api.get("VoucherDocumentation", {"id": str(invoice.id)}).json()
    pdf = api.get(
        "VoucherDocumentation/Download", {"id": str(invoice.id), "documentationType": "Pdf"}
    )

    assert docs[0]["HasPdf"] is True
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")


def test_unknown_route_and_malformed_id_are_problem_404(api):
    for path in ("NoSuchThing", "OutgoingInvoices/not-a-guid", "Customers/abc"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"


def test_routes_are_case_insensitive_with_optional_slash(api, company):
    make_customer(company)

    assert api.get("customers/").status_code == 200


def test_statement_lists_entries_in_the_period(api, company):
    invoice = make_invoice(make_customer(company), amount="1000")
    domain.register_payment(invoice, amount=Decimal("100"), on=dt.date(2026, 3, 1))

    body = api.get("Customerledger/Statement", {"fromDate": "2026-02-01", "toDate": "2026-03-31"})

    assert [e["Amount"] for e in body.json()] == [-100]
    assert api.get("Customerledger/Statement").status_code == 400


def test_decimal_amounts_in_voucher_lines_are_stored_and_matched(api, company):
    customer = make_customer(company)
    invoice = make_invoice(customer, amount="1000")
    body = _posted_body(_bank(company), customer, "oppgjor-desimal", amount=250.75)

    response = api.post("Vouchers/BankJournals", body)

    assert response.status_code == 201
    assert response.json()["VoucherLines"][0]["CurrencyAmount"] == 250.75
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("749.25")

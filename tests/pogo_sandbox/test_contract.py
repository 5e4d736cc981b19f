"""The sandbox holds requests and its own responses to PowerOffice's published contract
(``pogo_sandbox/contract``): the vendored v2 OpenAPI and the v1 DebtCollection schema."""

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from integrations.clients import poweroffice_client
from pogo_sandbox import contract, domain
from pogo_sandbox.api import conformance
from pogo_sandbox.domain import onboarding as onboarding_domain
from pogo_sandbox.models import (
    Customer,
    GeneralLedgerAccount,
    OnboardingSession,
    OutgoingInvoice,
    VatCode,
)
from tests.integrations.poweroffice.test_against_sandbox import CLIENT_KEY, _seed
from tests.pogo_sandbox.test_api_support import make_user

V2 = "/pogo/v2"
V1 = "/pogo/v1"

#: Every operation ``integrations.poweroffice.client.PowerOfficeClient`` calls, by method.
CLIENT_OPERATIONS = {
    ("v2", "POST", "/Onboarding/Initiate"),  # onboarding_initiate
    ("v2", "POST", "/Onboarding/Finalize"),  # onboarding_finalize
    ("v2", "GET", "/OrganizationSettings"),  # organization_settings
    ("v2", "GET", "/ClientIntegrationInformation"),  # client_integration_information
    ("v2", "GET", "/Customers"),  # customers
    ("v2", "GET", "/Customers/{id}"),  # customer
    ("v2", "PATCH", "/Customers/{id}"),  # patch_customer
    ("v2", "GET", "/OutgoingInvoices"),  # outgoing_invoices
    ("v2", "GET", "/OutgoingInvoices/{id}"),  # outgoing_invoice
    ("v2", "GET", "/Customerledger/OpenItems"),  # customer_ledger_open_items
    ("v2", "GET", "/Customerledger/EntriesByMatchId"),  # customer_ledger_entries_by_match_id
    ("v2", "GET", "/GeneralLedgerAccounts"),  # general_ledger_accounts
    ("v2", "GET", "/VatCodes"),  # vat_codes
    ("v2", "POST", "/JournalEntryVouchers/BankJournals"),  # create_bank_journal_proposal
    ("v2", "POST", "/JournalEntryVouchers/ManualJournals"),  # create_manual_journal_proposal
    ("v2", "POST", "/Vouchers/BankJournals"),  # post_bank_journal_voucher
    ("v2", "GET", "/JournalEntryVouchers"),  # journal_entry_vouchers
    ("v2", "GET", "/JournalEntryVouchers/BankJournals/{id}"),  # bank_journal_proposal
    ("v2", "POST", "/JournalEntryVouchers/{id}/VoucherPages"),  # add_voucher_page
    ("v2", "GET", "/VoucherDocumentation"),  # voucher_documentation
    ("v2", "GET", "/VoucherDocumentation/Download"),  # voucher_documentation_download
    ("v1", "GET", "/DebtCollection/IsActiveDebtCollection"),  # dc_is_active
    ("v1", "GET", "/DebtCollection/Invoices/AvailableInvoices"),  # dc_available_invoices
    ("v1", "POST", "/DebtCollection"),  # dc_create_case
    ("v1", "GET", "/DebtCollection/{id}"),  # dc_get_case
    ("v1", "GET", "/DebtCollection"),  # dc_list_cases
    ("v1", "POST", "/DebtCollection/AddInvoicesToCase"),  # dc_add_invoices
    ("v1", "POST", "/DebtCollection/UpdateStatus"),  # dc_update_status
    ("v1", "POST", "/DebtCollection/MergeCases"),  # dc_merge_cases
    ("v1", "DELETE", "/DebtCollection/{id}"),  # dc_delete_case
    ("v1", "GET", "/DebtCollection/GetAllMatchedItems"),  # dc_matched_items_since
    ("v1", "GET", "/DebtCollection/GetInvoicePdf/{id}"),  # dc_invoice_pdf
}


@pytest.fixture
def company(pogo_wsgi):
    return _seed()


@pytest.fixture
def client(company):
    return poweroffice_client(client_key=CLIENT_KEY)


@pytest.fixture
def http(company, pogo_wsgi):
    """A raw session with a v2 bearer token, to send what the client never would."""
    client = poweroffice_client(client_key=CLIENT_KEY)
    token = client._token("v2")
    session = pogo_wsgi.session()
    session.headers.update(
        {
            "Authorization": f"Bearer {token}",
            "Ocp-Apim-Subscription-Key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
        }
    )
    return session


@pytest.fixture
def accounts(company):
    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    receivable = GeneralLedgerAccount.objects.create(
        company=company, account_no=1500, name="Kunder"
    )
    return bank, receivable


def _url(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _posting(bank, receivable, **line_changes):
    lines = [
        {"AccountId": bank.pk, "PostingDate": "2026-11-27", "CurrencyAmount": 100.5, "VatId": None},
        {
            "AccountId": receivable.pk,
            "PostingDate": "2026-11-27",
            "CurrencyAmount": -100.5,
            "VatId": None,
        },
    ]
    lines[0].update(line_changes)
    return {
        "ExternalImportReference": f"kravia-settlement-{uuid.uuid4()}",
        "VoucherDate": "2026-11-27",
        "CurrencyCode": "NOK",
        "VoucherLines": [{k: v for k, v in line.items() if v is not ...} for line in lines],
    }


def _errors(response) -> dict:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["Title"] == "One or more validation errors occurred."
    assert body["Status"] == 400
    return body["Errors"]


# --- requests refused ------------------------------------------------------------------------


def test_a_posted_voucher_line_without_vat_id_is_refused(http, accounts):
    response = http.post(_url(f"{V2}/Vouchers/BankJournals"), json=_posting(*accounts, VatId=...))

    assert _errors(response) == {"VoucherLines[0].VatId": ["required"]}


def test_a_posted_voucher_with_vat_id_null_is_accepted(http, accounts):
    response = http.post(_url(f"{V2}/Vouchers/BankJournals"), json=_posting(*accounts))

    assert response.status_code == 201, response.text


def test_an_unknown_vat_code_is_refused_by_the_sandbox(http, accounts):
    response = http.post(_url(f"{V2}/Vouchers/BankJournals"), json=_posting(*accounts, VatId=999))

    assert response.status_code == 400
    assert "VatId 999 does not exist" in response.json()["Detail"]


def test_a_camel_case_property_is_an_unknown_property(http, accounts):
    body = _posting(*accounts)
    body["voucherDate"] = body.pop("VoucherDate")

    errors = _errors(http.post(_url(f"{V2}/Vouchers/BankJournals"), json=body))

    assert errors == {"voucherDate": ["unknown property"], "VoucherDate": ["required"]}


def test_an_unknown_line_property_is_refused(http, accounts):
    errors = _errors(
        http.post(_url(f"{V2}/Vouchers/BankJournals"), json=_posting(*accounts, Kid="123"))
    )

    assert errors == {"VoucherLines[0].Kid": ["unknown property"]}


def test_a_string_for_a_number_and_a_bad_date_are_refused(http, accounts):
    body = _posting(*accounts, CurrencyAmount="100.50", PostingDate="27.11.2026")

    errors = _errors(http.post(_url(f"{V2}/Vouchers/BankJournals"), json=body))

    assert errors["VoucherLines[0].CurrencyAmount"] == ["expected number, got string"]
    assert errors["VoucherLines[0].PostingDate"][0].startswith("not a valid date")


def test_a_non_guid_query_value_is_refused(http, company):
    response = http.get(_url(f"{V2}/VoucherDocumentation"), params={"id": "not-a-guid"})

    assert _errors(response) == {"id": ["not a valid uuid: 'not-a-guid'"]}


def test_path_values_are_typed_too():
    # The sandbox's routes only match digits and guids; the validator checks them as well.
    assert contract.validate_request("v2", "GET", "/Customers/abc") == [
        "id: expected integer, got 'abc'"
    ]
    assert contract.validate_request("v1", "GET", "/DebtCollection/GetInvoicePdf/12") == [
        "id: not a valid uuid: '12'"
    ]


def test_query_types_and_unknown_query_parameters_are_refused(http, company):
    response = http.get(_url(f"{V2}/Customers"), params={"PageSize": "many", "bogus": "1"})

    assert _errors(response) == {
        "bogus": ["unknown query parameter"],
        "PageSize": ["expected integer, got 'many'"],
    }


def test_query_names_bind_case_insensitively_as_in_go(http, company):
    response = http.get(_url(f"{V2}/customers"), params={"pagesize": "2", "PAGENUMBER": "1"})

    assert response.status_code == 200
    assert len(response.json()) == 2


def test_v1_update_status_with_a_string_balance_is_a_v1_error(client, company, pogo_wsgi):
    token = client._token("v1")
    session = pogo_wsgi.session()
    response = session.post(
        _url(f"{V1}/DebtCollection/UpdateStatus"),
        json={
            "caseId": str(uuid.uuid4()),
            "statusText": "Inkassovarsel sendt",
            "isCaseClosed": False,
            "updatedBalanceAgency": "2570.00",
        },
        headers={"Authorization": f"Bearer {token}"},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is False and body["data"] is None
    assert body["validation"]["fields"] == {"updatedBalanceAgency": "expected number, got string"}


# --- the validator itself ----------------------------------------------------------------------


def test_the_validator_catches_a_planted_wrong_response():
    wrong = json.dumps({"Id": 17, "Name": "Fjordbakst AS"}).encode()
    right = json.dumps({"Id": str(uuid.uuid4()), "Name": "Fjordbakst AS"}).encode()

    assert contract.validate_response(
        "v2", "GET", "/OrganizationSettings", 200, wrong, "application/json"
    ) == ["Id: expected string, got integer"]
    assert (
        contract.validate_response(
            "v2", "GET", "/OrganizationSettings", 200, right, "application/json"
        )
        == []
    )
    extra = json.dumps([{"Id": 1, "InvoiceNo": "1", "Surprise": True}]).encode()
    assert contract.validate_response(
        "v2", "GET", "/Customerledger/OpenItems", 200, extra, "application/json"
    ) == ["[0].Surprise: unknown property"]


def test_a_non_conforming_sandbox_response_becomes_a_500_and_is_recorded(
    client, pogo_wsgi, monkeypatch
):
    from pogo_sandbox.api import serializers

    original = serializers.organization_settings
    monkeypatch.setattr(serializers, "organization_settings", lambda c: {**original(c), "Id": c.pk})

    with pytest.raises(Exception):  # noqa: B017 - the client reports the 500 its own way
        client.organization_settings()

    (violation,) = {str(v) for v in pogo_wsgi.violations()}
    assert "OrganizationSettings" in violation and "Id: expected string, got integer" in violation
    assert pogo_wsgi.statuses(f"{V2}/OrganizationSettings")[0] == 500
    pogo_wsgi.forget_violations()


@override_settings(POGO_SANDBOX_VALIDATE_RESPONSES=False)
def test_response_validation_can_be_turned_off(company, client, pogo_wsgi, monkeypatch):
    from pogo_sandbox.api import serializers

    original = serializers.organization_settings
    monkeypatch.setattr(serializers, "organization_settings", lambda c: {**original(c), "Id": 17})

    assert client.organization_settings().id == "17"  # passed through unchecked
    assert pogo_wsgi.violations() == []


def test_the_client_names_no_path_outside_the_walk():
    """Every path literal in the client is one of CLIENT_OPERATIONS' spec paths."""
    source = Path("integrations/poweroffice/client.py").read_text(encoding="utf-8")
    literals = set(
        re.findall(
            r'f?"(/(?:Onboarding|Organization|Client|Customer|Outgoing|'
            r"General|Vat|JournalEntry|Vouchers|VoucherDoc|DebtCollection)"
            r'[^"]*)"',
            source,
        )
    )
    paths = {re.sub(r"\{[^}]*\}", "00000000-0000-0000-0000-000000000001", p) for p in literals}
    found = set()
    for path in paths:
        api = "v1" if path.startswith("/DebtCollection") else "v2"
        template = contract.contract(api).match(path)
        assert template is not None, path
        found.add((api, template[0]))

    assert found == {(api, path) for api, _, path in CLIENT_OPERATIONS}


# --- the client's whole surface ------------------------------------------------------------------


def test_every_endpoint_the_client_uses_conforms_both_ways(company, client, pogo_wsgi):
    customer = Customer.objects.get(number=10001)
    invoice = domain.create_invoice(
        customer,
        invoice_no=601,
        voucher_date=dt.date(2026, 9, 1),
        due_date=dt.date(2026, 9, 15),
        total_amount=Decimal("2500.00"),
        cid="000006015",
    )
    second = domain.create_invoice(
        customer,
        invoice_no=602,
        voucher_date=dt.date(2026, 9, 1),
        due_date=dt.date(2026, 9, 15),
        total_amount=Decimal("100.00"),
    )
    OutgoingInvoice.objects.filter(pk__in=[invoice.pk, second.pk]).update(
        debt_collection_status=OutgoingInvoice.DebtCollectionStatus.APPROVED
    )
    bank = GeneralLedgerAccount.objects.create(
        company=company, account_no=1920, name="Bank", vat_code=""
    )
    receivable = GeneralLedgerAccount.objects.create(
        company=company, account_no=1500, name="Kunder"
    )
    VatCode.objects.create(company=company, code="0", name="Ingen mva.", rate=Decimal("0"))

    # onboarding
    unbound = poweroffice_client()
    unbound.onboarding_initiate(
        redirect_uri=f"{settings.SITE_URL}/integrasjon/poweroffice/tilbake?state=abc",
        client_org_no=company.org_number,
    )
    session = OnboardingSession.objects.get()
    user = make_user(companies=[company])
    token = onboarding_domain.onboarding_accept(session, user=user, company=company)
    unbound.onboarding_finalize(onboarding_token=token)

    # v2 reads
    client.organization_settings()
    client.client_integration_information()
    customers = list(client.customers(page_size=2))
    client.customer(customers[0].id)
    client.patch_customer(customers[0].id, {"SendPaymentReminders": False})
    list(client.outgoing_invoices(only_unpaid=True))
    client.outgoing_invoice(invoice.id)
    list(client.customer_ledger_open_items(on=dt.date(2026, 12, 1)))
    client.customer_ledger_entries_by_match_id(invoice.match_id)
    client.general_ledger_accounts(account_nos=[1920, 1500])
    client.vat_codes()
    client.voucher_documentation(invoice.id)
    client.voucher_documentation_download(invoice.id)

    # vouchers
    proposal = client.create_bank_journal_proposal(
        {
            "VoucherDate": "2026-11-27",
            "CurrencyCode": "NOK",
            "Description": "Oppgjør 1",
            "BankJournalLines": [
                {"DebitAccountId": bank.pk, "DebitVatId": None, "CurrencyAmount": Decimal("10")},
                {
                    "CreditAccountId": receivable.pk,
                    "CreditVatId": None,
                    "CurrencyAmount": Decimal("10"),
                    "InvoiceNo": "601",
                },
            ],
        }
    )
    client.create_manual_journal_proposal(
        {
            "VoucherDate": "2026-11-27",
            "CurrencyCode": "NOK",
            "ManualVoucherLines": [
                {"DebitAccountId": bank.pk, "CurrencyAmount": Decimal("5")},
                {"CreditAccountId": receivable.pk, "CurrencyAmount": Decimal("5")},
            ],
        }
    )
    client.add_voucher_page(proposal.id, filename="oppgjor.pdf", content=b"%PDF-1.4 test")
    client.journal_entry_vouchers(created_since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    client.bank_journal_proposal(proposal.id)
    client.post_bank_journal_voucher(
        {
            "ExternalImportReference": "kravia-settlement-1",
            "VoucherDate": "2026-11-27",
            "CurrencyCode": "NOK",
            "VoucherLines": [
                {
                    "AccountId": bank.pk,
                    "PostingDate": "2026-11-27",
                    "CurrencyAmount": Decimal("100.50"),
                    "VatId": None,
                },
                {
                    "AccountId": receivable.pk,
                    "PostingDate": "2026-11-27",
                    "CurrencyAmount": Decimal("-100.50"),
                    "VatId": None,
                    "InvoiceNo": "601",
                    "Cid": invoice.cid,
                },
            ],
        }
    )

    # v1 DebtCollection
    assert client.dc_is_active() is True
    client.dc_available_invoices()
    case = client.dc_create_case(
        code="K-1", invoice_ids=[invoice.id], external_case_url="https://k.test/s/1"
    )
    other = client.dc_create_case(
        code="K-2", invoice_ids=[], external_case_url="https://k.test/s/2"
    )
    client.dc_add_invoices(case_id=other.id, invoice_ids=[second.id])
    client.dc_update_status(
        case_id=case.id,
        status_text="Inkassovarsel sendt",
        is_case_closed=False,
        updated_balance_agency=Decimal("2570.00"),
    )
    client.dc_get_case(case.id)
    client.dc_list_cases()
    client.dc_invoice_pdf(invoice.id)
    domain.register_payment(invoice, amount=Decimal("250"), on=domain.oslo_today())
    client.customer_ledger_entries_by_match_id(invoice.match_id)
    client.dc_matched_items_since(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    merged = client.dc_merge_cases(
        case_ids=[case.id, other.id], case_no="K-3", external_case_url="https://k.test/s/3"
    )
    client.dc_delete_case(merged.id if merged else case.id)

    assert pogo_wsgi.violations() == []
    assert {e.status for e in pogo_wsgi.exchanges} <= {200, 201, 204}, [
        (e.method, e.path, e.status) for e in pogo_wsgi.exchanges if e.status >= 300
    ]
    assert pogo_wsgi.operations() == CLIENT_OPERATIONS


def test_conformance_records_are_reset_per_test(pogo_wsgi):
    assert conformance.validated_operations == []
    assert pogo_wsgi.operations() == set()

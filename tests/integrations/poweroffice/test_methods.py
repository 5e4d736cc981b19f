"""What each client method sends and what it returns (onboarding, JSON Patch, vouchers, v1)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.poweroffice import Conflict, ValidationError

from .fakes import APP_KEY, CLIENT_KEY, SUBSCRIPTION_KEY, make_client, problem, response

CUSTOMER = {
    "Id": 7001,
    "Number": 10001,
    "Name": "Fjordkraft Testkunde AS",
    "TransferToDebtCollectionAgency": False,
}
CASE_ID = "9b2f0b8e-8a5b-4f6e-bb0f-0a1b2c3d4e5f"
INVOICE_ID = "4a3f8c2e-1b7d-4c59-9e1a-6f0b2d3c4e5f"
CASE = {
    "id": CASE_ID,
    "code": "K-1001",
    "status": 0,
    "invoices": [],
    "externalCaseUrl": "https://k.test/1",
}


def _v1(data, **extra):
    return response(200, {"data": data, "success": True, **extra})


# --- onboarding ------------------------------------------------------------------------------


def test_onboarding_initiate_sends_subscription_key_and_no_bearer(fake):
    client = make_client(fake, client_key=None)
    fake.script(
        "POST",
        "/v2/Onboarding/Initiate",
        response(
            200,
            {
                "TemporaryUrl": "https://go.test/consent?t=abc",
                "ValidUntilDateTimeOffset": "2026-11-28T09:00:00+00:00",
            },
        ),
    )

    initiation = client.onboarding_initiate(
        redirect_uri="https://kravia.test/cb?state=s1", client_org_no="999999999"
    )

    (sent,) = fake.sent
    assert "Authorization" not in sent.headers
    assert sent.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {
        "ApplicationKey": APP_KEY,
        "ClientOrganizationNo": "999999999",
        "RedirectUri": "https://kravia.test/cb?state=s1",
    }
    assert initiation.temporary_url == "https://go.test/consent?t=abc"
    assert initiation.valid_until == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_onboarding_finalize_returns_client_keys_and_hides_them_in_repr(fake):
    client = make_client(fake, client_key=None)
    fake.script(
        "POST",
        "/v2/Onboarding/Finalize",
        response(
            200,
            {
                "OnboardedClientsInformation": [
                    {
                        "ClientKey": CLIENT_KEY,
                        "ClientName": "Fjord AS",
                        "ClientOrganizationNumber": "999999999",
                    }
                ],
                "UserEmail": "eier@fjord.test",
            },
        ),
    )

    result = client.onboarding_finalize(onboarding_token="one-time-token")

    assert fake.sent[0].json() == {"OnboardingToken": "one-time-token"}
    (onboarded,) = result.clients
    assert onboarded.client_key == CLIENT_KEY
    assert result.user_email == "eier@fjord.test"
    assert CLIENT_KEY not in repr(result)


def test_onboarding_finalize_is_never_resent(fake):
    client = make_client(fake, client_key=None)
    fake.script("POST", "/v2/Onboarding/Finalize", problem(500, "Oops"), response(200, {}))

    with pytest.raises(Exception) as caught:
        client.onboarding_finalize(onboarding_token="t")

    assert caught.value.maybe_processed is True
    assert len(fake.sent) == 1


def test_onboarding_problem_is_a_validation_error(fake):
    client = make_client(fake, client_key=None)
    fake.script("POST", "/v2/Onboarding/Finalize", problem(400, "Bad Request", "Token expired"))

    with pytest.raises(ValidationError, match="Token expired"):
        client.onboarding_finalize(onboarding_token="t")


# --- customers -------------------------------------------------------------------------------


def test_patch_customer_sends_json_patch(fake, pogo):
    fake.script("PATCH", "/v2/Customers/7001", response(200, CUSTOMER))
    ops = [{"op": "replace", "path": "/TransferToDebtCollectionAgency", "value": False}]

    customer = pogo.patch_customer(7001, ops)

    sent = fake.api_calls()[0]
    assert sent.headers["Content-Type"] == "application/json-patch+json"
    assert sent.json() == ops
    assert customer.transfer_to_debt_collection_agency is False


def test_patch_customer_builds_replace_operations_from_a_dict(fake, pogo):
    fake.script("PATCH", "/v2/Customers/7001", response(200, CUSTOMER))

    pogo.patch_customer(
        7001, {"TransferToDebtCollectionAgency": False, "EmailAddress": None, "a/b": 1}
    )

    assert fake.api_calls()[0].json() == [
        {"op": "replace", "path": "/TransferToDebtCollectionAgency", "value": False},
        {"op": "replace", "path": "/EmailAddress", "value": None},
        {"op": "replace", "path": "/a~1b", "value": 1},
    ]


def test_patch_customer_refuses_malformed_operations_before_sending(fake, pogo):
    with pytest.raises(ValueError):
        pogo.patch_customer(7001, [{"op": "frobnicate", "path": "/Name"}])

    assert fake.sent == []


# --- vouchers --------------------------------------------------------------------------------


def test_voucher_amounts_are_sent_as_exact_json_numbers(fake, pogo):
    fake.script("POST", "/v2/JournalEntryVouchers/BankJournals", response(201, {"Id": INVOICE_ID}))

    pogo.create_bank_journal_proposal(
        {
            "VoucherDate": "2026-11-27",
            "CurrencyCode": "NOK",
            "BankJournalLines": [{"CurrencyAmount": Decimal("1234.10"), "InvoiceNo": 10234}],
        }
    )

    body = fake.api_calls()[0].body
    assert b'"CurrencyAmount":1234.10' in body
    assert json.loads(body, parse_float=Decimal)["BankJournalLines"][0][
        "CurrencyAmount"
    ] == Decimal("1234.10")


def test_posted_voucher_needs_an_external_import_reference(pogo, fake):
    with pytest.raises(ValueError):
        pogo.post_bank_journal_voucher({"VoucherDate": "2026-11-27", "CurrencyCode": "NOK"})

    assert fake.sent == []


def test_posted_voucher_duplicate_reference_is_a_conflict(fake, pogo):
    fake.script(
        "POST",
        "/v2/Vouchers/BankJournals",
        problem(409, "Conflict", "ExternalImportReference in use"),
    )

    with pytest.raises(Conflict) as caught:
        pogo.post_bank_journal_voucher(
            {"ExternalImportReference": "settle-1", "VoucherDate": "2026-11-27"}
        )

    assert caught.value.problem["Detail"] == "ExternalImportReference in use"


def test_posted_voucher_is_resent_after_a_500_because_the_reference_makes_it_safe(fake, pogo):
    created = {"Id": INVOICE_ID, "VoucherNo": 501, "ExternalImportReference": "settle-1"}
    fake.script("POST", "/v2/Vouchers/BankJournals", problem(500, "Oops"), response(201, created))

    voucher = pogo.post_bank_journal_voucher({"ExternalImportReference": "settle-1"})

    assert voucher.voucher_no == 501
    assert len(fake.api_calls()) == 2


def test_voucher_documentation_lists_and_empty_is_204(fake, pogo):
    fake.script(
        "GET",
        "/v2/VoucherDocumentation",
        response(200, [{"VoucherId": INVOICE_ID, "VoucherNo": 7, "HasPdf": True}]),
        response(204),
    )

    (doc,) = pogo.voucher_documentation(INVOICE_ID)
    assert doc.has_pdf is True
    assert fake.api_calls()[0].param("id") == INVOICE_ID
    assert pogo.voucher_documentation(INVOICE_ID) == []


def test_accounts_and_vat_codes(fake, pogo):
    fake.script(
        "GET",
        "/v2/GeneralLedgerAccounts",
        response(
            200, [{"Id": 55, "AccountNo": 1920, "Name": "Bank", "IsActive": True, "VatCode": "0"}]
        ),
    )
    fake.script("GET", "/v2/VatCodes", response(200, [{"Id": 3, "Code": "3", "Rate": 0.25}]))

    (account,) = pogo.general_ledger_accounts(account_nos=[1920, 1500])
    (vat,) = pogo.vat_codes()

    assert fake.api_calls("/v2/GeneralLedgerAccounts")[0].param("accountNos") == "1920,1500"
    assert (account.id, account.account_no, account.is_active) == (55, 1920, True)
    assert vat.rate == Decimal("0.25")


# --- v1 DebtCollection -----------------------------------------------------------------------


def test_v1_envelope_is_unwrapped(fake, pogo):
    fake.script("GET", "/v1/DebtCollection", _v1([CASE], count=1))

    (case,) = pogo.dc_list_cases()

    assert case.code == "K-1001"
    assert case.status == "Active"


def test_v1_success_false_is_a_validation_error_with_the_validation_object(fake, pogo):
    validation = {"summary": "Invoice is not available for debt collection", "fields": {}}
    fake.script(
        "POST",
        "/v1/DebtCollection",
        response(200, {"data": None, "success": False, "validation": validation}),
    )

    with pytest.raises(ValidationError) as caught:
        pogo.dc_create_case(
            code="K-1", invoice_ids=[INVOICE_ID], external_case_url="https://k.test/1"
        )

    assert caught.value.status_code == 200
    assert caught.value.validation == validation
    assert "not available" in str(caught.value)


def test_dc_create_case_body(fake, pogo):
    fake.script("POST", "/v1/DebtCollection", _v1(CASE))

    pogo.dc_create_case(
        code="K-1001", invoice_ids=[INVOICE_ID], external_case_url="https://k.test/1"
    )

    assert fake.api_calls()[0].json() == {
        "code": "K-1001",
        "invoices": [{"id": INVOICE_ID}],
        "externalCaseUrl": "https://k.test/1",
    }


def test_dc_update_status_body_keeps_the_balance_exact(fake, pogo):
    fake.script("POST", "/v1/DebtCollection/UpdateStatus", _v1(None))

    pogo.dc_update_status(
        case_id=CASE_ID,
        status_text="Inkassovarsel sendt",
        is_case_closed=False,
        updated_balance_agency=Decimal("1500.50"),
    )

    sent = fake.api_calls()[0]
    assert json.loads(sent.body, parse_float=Decimal) == {
        "caseId": CASE_ID,
        "statusText": "Inkassovarsel sendt",
        "isCaseClosed": False,
        "updatedBalanceAgency": Decimal("1500.50"),
    }


def test_dc_add_merge_and_delete(fake, pogo):
    fake.script("POST", "/v1/DebtCollection/AddInvoicesToCase", _v1(CASE))
    fake.script("POST", "/v1/DebtCollection/MergeCases", _v1(CASE))
    fake.script("DELETE", f"/v1/DebtCollection/{CASE_ID}", _v1(None))

    assert pogo.dc_add_invoices(case_id=CASE_ID, invoice_ids=[INVOICE_ID]).code == "K-1001"
    pogo.dc_merge_cases(
        case_ids=[CASE_ID, INVOICE_ID], case_no="K-1", external_case_url="https://k.test/1"
    )
    pogo.dc_delete_case(CASE_ID)

    add, merge, delete = fake.api_calls()
    assert add.json() == {"caseId": CASE_ID, "invoiceIds": [INVOICE_ID]}
    assert merge.json() == {
        "caseIds": [CASE_ID, INVOICE_ID],
        "caseNo": "K-1",
        "externalCaseUrl": "https://k.test/1",
    }
    assert delete.method == "DELETE"


def test_dc_available_invoices_pages_with_odata(fake, pogo, monkeypatch):
    monkeypatch.setattr("integrations.poweroffice.client.V1_PAGE_SIZE", 2)
    invoices = [
        {"id": f"00000000-0000-0000-0000-00000000000{i}", "invoiceNo": i} for i in range(1, 4)
    ]

    def handler(sent):
        top, skip = int(sent.param("$top")), int(sent.param("$skip"))
        return _v1(invoices[skip : skip + top], count=len(invoices))

    fake.handle("GET", "/v1/DebtCollection/Invoices/AvailableInvoices", handler)

    result = pogo.dc_available_invoices()

    assert [i.invoice_no for i in result] == [1, 2, 3]
    assert len(fake.api_calls()) == 2


def test_dc_matched_items_are_flattened(fake, pogo):
    match = {
        "id": 1,
        "amount": Decimal("-500.00"),
        "isWriteOff": False,
        "matchId": 77,
        "voucherType": "BankReceipt",
    }
    write_off = {"id": 2, "amount": Decimal("-734.10"), "isWriteOff": True, "matchId": 77}
    fake.handle(
        "GET",
        "/v1/DebtCollection/GetAllMatchedItems",
        lambda sent: response(
            200,
            raw=json.dumps(
                {
                    "data": [{"matchedItems": [match]}, {"matchedItems": [write_off]}],
                    "success": True,
                    "count": 2,
                },
                default=str,
            )
            .replace('"-500.00"', "-500.00")
            .replace('"-734.10"', "-734.10")
            .encode(),
        ),
    )

    matches = pogo.dc_matched_items_since(datetime(2026, 11, 1, tzinfo=UTC))

    assert [(m.amount, m.is_write_off) for m in matches] == [
        (Decimal("-500.00"), False),
        (Decimal("-734.10"), True),
    ]
    assert fake.api_calls()[0].param("fromDateTime") == "2026-11-01T00:00:00+00:00"


def test_dc_invoice_pdf_returns_the_raw_bytes(fake, pogo):
    pdf = b"%PDF-1.4\n...binary..."
    fake.script(
        "GET",
        f"/v1/DebtCollection/GetInvoicePdf/{INVOICE_ID}",
        response(200, raw=pdf, headers={"Content-Type": "application/pdf"}),
    )

    assert pogo.dc_invoice_pdf(INVOICE_ID) == pdf


def test_dc_is_active_needs_a_boolean(fake, pogo):
    fake.script("GET", "/v1/DebtCollection/IsActiveDebtCollection", _v1("yes"))

    with pytest.raises(ValidationError):
        pogo.dc_is_active()


@pytest.mark.parametrize("balance", ["1500.50", Decimal("1500.50"), 1500.5])
def test_dc_update_status_sends_the_balance_as_a_json_number_never_a_string(fake, pogo, balance):
    """PowerOffice documents ``updatedBalanceAgency: number``; the outbox stores it as text."""
    fake.script("POST", "/v1/DebtCollection/UpdateStatus", _v1(None))

    pogo.dc_update_status(
        case_id=CASE_ID, status_text="Betalt", is_case_closed=True, updated_balance_agency=balance
    )

    raw = fake.api_calls()[0].body
    raw = raw.decode() if isinstance(raw, bytes) else raw
    assert '"updatedBalanceAgency":1500.5' in raw  # a bare number, not "1500.50"
    assert json.loads(raw, parse_float=Decimal)["updatedBalanceAgency"] == Decimal("1500.50")


def test_dc_create_case_sends_balance_agency_as_a_number_and_refuses_text(fake, pogo):
    fake.script("POST", "/v1/DebtCollection", _v1(CASE))

    pogo.dc_create_case(
        code="K-1001",
        invoice_ids=[INVOICE_ID],
        external_case_url="https://k.test/1",
        balance_agency="2350.05",
    )

    sent = json.loads(fake.api_calls()[0].body, parse_float=Decimal)
    assert sent["balanceAgency"] == Decimal("2350.05")
    with pytest.raises(ValueError):
        pogo.dc_update_status(
            case_id=CASE_ID, status_text="x", is_case_closed=False, updated_balance_agency="ti"
        )

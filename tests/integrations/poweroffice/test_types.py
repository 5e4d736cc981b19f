"""Responses become typed objects: Decimal amounts, dates, aware timestamps, required fields."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from integrations.poweroffice import ValidationError
from integrations.poweroffice.types import (
    Customer,
    DebtCollectionCase,
    DebtCollectionInvoiceMatch,
    OutgoingInvoice,
)

from .fakes import response

INVOICE = {
    "Id": "4a3f8c2e-1b7d-4c59-9e1a-6f0b2d3c4e5f",
    "InvoiceNo": 10234,
    "VoucherType": "OutgoingInvoice",
    "VoucherDate": "2026-09-15",
    "DueDate": "2026-09-29",
    "CurrencyCode": "NOK",
    "TotalAmount": Decimal("1234.10"),
    "Balance": Decimal("1234.10"),
    "BalanceLastChangedDateTimeOffset": "2026-09-15T10:00:00.1234567+02:00",
    "Cid": "0001023400003",
    "CustomerId": 7001,
    "CustomerNo": 10001,
    "LastChangedDateTimeOffset": "2026-09-15T10:00:00+02:00",
    "SomeFieldPoGoAddedLater": {"nested": [1, 2]},
}


def test_amounts_are_exact_decimals_from_the_wire(fake, pogo):
    # 0.1 + 0.2 style amounts: a float would not survive this comparison.
    raw = INVOICE | {"TotalAmount": "__T__", "Balance": "__B__"}
    body = response(200, raw).content.replace(b'"__T__"', b"1234.10").replace(b'"__B__"', b"0.30")
    fake.script("GET", f"/v2/OutgoingInvoices/{INVOICE['Id']}", response(200, raw=body))

    invoice = pogo.outgoing_invoice(INVOICE["Id"])

    assert invoice.total_amount == Decimal("1234.10")
    assert str(invoice.total_amount) == "1234.10"
    assert invoice.balance == Decimal("0.30")
    assert isinstance(invoice.balance, Decimal)


def test_float_amounts_are_refused_rather_than_rounded():
    # Bodies are parsed with parse_float=Decimal; a float here means someone bypassed that.
    with pytest.raises(ValidationError) as caught:
        OutgoingInvoice.from_api(INVOICE | {"TotalAmount": 1234.1})

    assert caught.value.field == "TotalAmount"


def test_integral_amounts_are_decimals_too():
    invoice = OutgoingInvoice.from_api(INVOICE | {"TotalAmount": 500, "Balance": 0})

    assert invoice.total_amount == Decimal(500) and isinstance(invoice.total_amount, Decimal)
    assert invoice.balance == Decimal(0)


def test_dates_timestamps_and_ids_are_typed():
    invoice = OutgoingInvoice.from_api(INVOICE)

    assert invoice.id == uuid.UUID(INVOICE["Id"])
    assert invoice.due_date == date(2026, 9, 29)
    assert invoice.balance_last_changed == datetime(2026, 9, 15, 8, 0, 0, 123456, tzinfo=UTC)
    assert invoice.balance_last_changed.tzinfo is not None


def test_unknown_fields_are_ignored_and_optional_ones_default_to_none():
    invoice = OutgoingInvoice.from_api(
        {k: INVOICE[k] for k in ("Id", "InvoiceNo", "VoucherDate", "TotalAmount")} | {"Extra": 1}
    )

    assert invoice.balance is None
    assert invoice.customer_no is None


@pytest.mark.parametrize("field", ["Id", "InvoiceNo", "VoucherDate", "TotalAmount"])
def test_a_missing_required_field_is_a_validation_error_naming_it(field):
    data = {k: v for k, v in INVOICE.items() if k != field}

    with pytest.raises(ValidationError) as caught:
        OutgoingInvoice.from_api(data)

    assert caught.value.field == field
    assert field in str(caught.value)


def test_a_null_required_field_is_missing_too():
    with pytest.raises(ValidationError) as caught:
        Customer.from_api({"Id": None, "Name": "X"})

    assert caught.value.field == "Id"


def test_a_wrongly_typed_field_is_a_validation_error_naming_it():
    with pytest.raises(ValidationError) as caught:
        OutgoingInvoice.from_api(INVOICE | {"DueDate": "not a date"})

    assert caught.value.field == "DueDate"


def test_missing_field_in_a_listed_item_surfaces_from_the_client(fake, pogo):
    fake.script("GET", "/v2/Customers", response(200, [{"Id": 1, "Name": "A"}, {"Name": "no id"}]))

    with pytest.raises(ValidationError) as caught:
        list(pogo.customers())

    assert caught.value.field == "Id"


def test_customer_reads_the_collection_flags_and_address():
    customer = Customer.from_api(
        {
            "Id": 7001,
            "Number": 10001,
            "Name": "Ola Nordmann",
            "IsPerson": True,
            "EmailAddress": "ola@example.no",
            "MailAddress": {
                "AddressLine1": "Storgata 1",
                "ZipCode": "0155",
                "City": "Oslo",
                "CountryCode": "NO",
            },
            "TransferToDebtCollectionAgency": False,
            "SendPaymentReminders": True,
            "ReminderDeliveryType": "PdfByEmail",
            "LastChangedDateTimeOffset": "2026-11-01T12:00:00+01:00",
        }
    )

    assert customer.is_person is True
    assert customer.mail_address.zip_code == "0155"
    assert customer.transfer_to_debt_collection_agency is False
    assert customer.do_not_add_late_payment_fees is None


def test_v1_case_reads_camel_case_and_enum_numbers():
    case = DebtCollectionCase.from_api(
        {
            "id": "9b2f0b8e-8a5b-4f6e-bb0f-0a1b2c3d4e5f",
            "code": "K-1001",
            "status": 10,
            "invoices": [
                {
                    "id": INVOICE["Id"],
                    "invoiceNo": 10234,
                    "originalAmount": Decimal("1234.10"),
                    "remainingAmount": Decimal("234.10"),
                    "cID": "0001023400003",
                    "dueDate": "2026-09-29T00:00:00",
                    "lastChanged": "2026-11-01T10:00:00",
                }
            ],
            "externalCaseUrl": "https://kravia.test/saker/1",
            "balanceAgency": Decimal("1500.00"),
        }
    )

    assert case.status == "Closed"
    (invoice,) = case.invoices
    assert invoice.cid == "0001023400003"
    assert invoice.due_date == date(2026, 9, 29)
    # v1 timestamps without an offset are Norwegian time
    assert invoice.last_changed.utcoffset().total_seconds() == 3600


def test_v1_match_requires_an_amount():
    with pytest.raises(ValidationError) as caught:
        DebtCollectionInvoiceMatch.from_api({"id": 1, "isWriteOff": True})

    assert caught.value.field == "amount"

"""Hostile PowerOffice Go payloads never crash a sync: the bad record is skipped with its reason
in the SyncRun, the good records around it are synced.

A scripted Go (tests/integrations/poweroffice/fakes.py, a real ``requests`` adapter) serves a
page of customers and a page of invoices, each with one record hypothesis has mangled: fields
dropped, extra fields, wrong types, negative and huge amounts, unknown currencies, 10 MB
strings, impossible dates.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from django.utils import timezone
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from collections_cases.models import Invoice
from creditors.models import Debtor
from integrations.models import PowerOfficeConnection, SyncCursor, SyncRun
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice.types import to_int, to_uuid
from integrations.services.sync import sync_connection
from tests.factories import CreditorFactory
from tests.integrations.poweroffice.fakes import BASE, CLIENT_KEY, CONFIG, FakePoGo, response

pytestmark = pytest.mark.reliability

HUGE = "x" * (10 * 1024 * 1024)
GOOD_CUSTOMERS = [
    {"Id": 1, "Number": 10001, "Name": "Ola Nordmann", "EmailAddress": "ola@example.no"},
    {"Id": 3, "Number": 10003, "Name": "Kari Hansen", "EmailAddress": "kari@example.no"},
]
CUSTOMER = {
    "Id": 2,
    "Number": 10002,
    "Name": "Per Berg",
    "IsPerson": True,
    "EmailAddress": "per@example.no",
    "MailAddress": {"AddressLine1": "Gate 1", "ZipCode": "0150", "City": "Oslo"},
    "TransferToDebtCollectionAgency": True,
    "LastChangedDateTimeOffset": "2026-11-01T10:00:00+00:00",
    "SubledgerAccountId": 4711,
}


def invoice(n: int, customer_id: int, **fields) -> dict:
    return {
        "Id": f"00000000-0000-0000-0000-{n:012d}",
        "InvoiceNo": n,
        "VoucherType": "OutgoingInvoice",
        "VoucherDate": "2026-09-01",
        "DueDate": "2026-09-15",
        "CurrencyCode": "NOK",
        "TotalAmount": 1000.5,
        "Balance": 1000.5,
        "CustomerId": customer_id,
        "Cid": f"{n}5",
        **fields,
    }


GOOD_INVOICES = [invoice(5001, 1), invoice(5003, 3)]
INVOICE = invoice(5002, 2)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.sampled_from(["", "9999-99-99", "2026-02-30", "not a date", "-1e30", "1e400", "XYZ"]),
    st.sampled_from(["ZZZ", "nok", "€", "NOKK", "-1000.00", "99999999999999999999.99"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def mangled(template: dict):
    """The template with some fields dropped, some replaced by junk, some extra ones added."""
    return st.tuples(
        st.dictionaries(st.sampled_from(sorted(template)), junk, max_size=len(template)),
        st.sets(st.sampled_from(sorted(template)), max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=20), junk, max_size=3),
    ).map(
        lambda parts: {
            **{k: v for k, v in template.items() if k not in parts[1]},
            **parts[0],
            **parts[2],
        }
    )


@pytest.fixture
def connection(db):
    return PowerOfficeConnection.objects.create(
        creditor=CreditorFactory(),
        client_key=CLIENT_KEY,
        client_name="Hostile AS",
        client_org_number="923609016",
        connected_at=timezone.now(),
    )


def serve(customers: list, invoices: list, released: list | None = None) -> PowerOfficeClient:
    fake = FakePoGo()
    pages = {"/v2/Customers": customers, "/v2/OutgoingInvoices": invoices}

    def page(sent):
        rows = pages[sent.path]
        # One page then the end, whatever the page size asked for.
        return response(200, rows) if sent.param("PageNumber") in (None, "1") else response(204)

    for path in pages:
        fake.handle("GET", path, page)
    for path in ("/v2/GeneralLedgerAccounts", "/v2/VatCodes"):
        fake.handle("GET", path, lambda sent: response(204))
    fake.handle("GET", "/v1/DebtCollection/GetAllMatchedItems", lambda sent: response(204))
    fake.handle(  # the sync asks first whether it may create cases
        "GET",
        "/v1/DebtCollection/IsActiveDebtCollection",
        lambda sent: response(200, {"success": True, "data": True}),
    )
    fake.handle(
        "GET",
        "/v1/DebtCollection/Invoices/AvailableInvoices",
        lambda sent: response(200, {"success": True, "data": released or [], "count": 0}),
    )
    session = requests.Session()
    session.mount(BASE, fake)
    return PowerOfficeClient(CONFIG, client_key=CLIENT_KEY, session=session, sleep=lambda s: None)


def sync_with(connection, customers, invoices) -> SyncRun:
    SyncCursor.objects.all().delete()
    Invoice.objects.all().delete()
    Debtor.objects.all().delete()
    return sync_connection(connection_id=connection.pk, client=serve(customers, invoices))


def _same_id(record, goods: list[dict], read) -> bool:
    if not isinstance(record, dict):
        return False
    try:
        key = read(record.get("Id"))
    except (TypeError, ValueError, AttributeError):
        return False
    return any(key == read(good["Id"]) for good in goods)


def assert_the_good_ones_synced(run: SyncRun, connection) -> None:
    assert run.status in (SyncRun.Status.OK, SyncRun.Status.PARTIAL), run.errors
    numbers = set(
        Debtor.objects.filter(creditor=connection.creditor).values_list(
            "customer_number", flat=True
        )
    )
    assert {10001, 10003} <= numbers
    invoice_nos = set(Invoice.objects.values_list("invoice_no", flat=True))
    assert {5001, 5003} <= invoice_nos
    for error in run.errors:
        assert error["reason"], error
    if run.status == SyncRun.Status.PARTIAL:
        assert run.errors


def test_the_payload_template_syncs_whole(connection):
    run = sync_with(
        connection,
        [GOOD_CUSTOMERS[0], CUSTOMER, GOOD_CUSTOMERS[1]],
        [GOOD_INVOICES[0], INVOICE, GOOD_INVOICES[1]],
    )

    assert run.status == SyncRun.Status.OK, run.errors
    assert Debtor.objects.count() == 3
    assert Invoice.objects.count() == 3


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(customer=mangled(CUSTOMER), bad_invoice=mangled(INVOICE))
@example(customer={**CUSTOMER, "Name": HUGE}, bad_invoice={**INVOICE, "Cid": HUGE})
@example(customer={**CUSTOMER, "EmailAddress": HUGE}, bad_invoice={**INVOICE, "TotalAmount": 1e20})
@example(customer=CUSTOMER, bad_invoice={**INVOICE, "TotalAmount": -500, "Balance": -500})
@example(customer=CUSTOMER, bad_invoice={**INVOICE, "CurrencyCode": "ZZZ"})
@example(customer=CUSTOMER, bad_invoice={**INVOICE, "DueDate": "2026-02-30"})
@example(customer={**CUSTOMER, "Id": "two"}, bad_invoice={**INVOICE, "InvoiceNo": None})
@example(customer=CUSTOMER, bad_invoice={**INVOICE, "InvoiceNo": -1})
@example(customer={**CUSTOMER, "Number": -1}, bad_invoice=INVOICE)
@example(customer={**CUSTOMER, "Number": 2**63}, bad_invoice=INVOICE)
@example(customer=CUSTOMER, bad_invoice={**INVOICE, "InvoiceNo": 2**63})
@example(customer=[1, 2], bad_invoice="not an object")
@example(customer={**CUSTOMER, "Id": 9.22e18}, bad_invoice={**INVOICE, "CustomerId": 2**63})
@example(customer={**CUSTOMER, "Id": 2.0}, bad_invoice={**INVOICE, "CustomerId": -(2**63) - 1})
def test_a_mangled_record_never_stops_the_good_ones(connection, customer, bad_invoice):
    # Go never lists an id twice: a record given a good one's Id *is* that record (the later
    # one wins), so only records keeping an identity of their own are mangled here.
    assume(not _same_id(customer, GOOD_CUSTOMERS, to_int))
    assume(not _same_id(bad_invoice, GOOD_INVOICES, to_uuid))
    run = sync_with(
        connection,
        [GOOD_CUSTOMERS[0], customer, GOOD_CUSTOMERS[1]],
        [GOOD_INVOICES[0], bad_invoice, GOOD_INVOICES[1]],
    )

    assert_the_good_ones_synced(run, connection)
    for row in Invoice.objects.all():
        assert row.total_amount > 0
        # A mirror of Go may hold another currency; case creation takes NOK only.
        assert re.fullmatch("[A-Z]{3}", row.currency)
        assert row.due_date is None or isinstance(row.due_date, dt.date)


RELEASED = {
    "id": "00000000-0000-0000-0000-000000009001",
    "customerCode": 10009,
    "invoiceNo": 9001,
    "originalAmount": 100.0,
    "remainingAmount": 100.0,
}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=mangled(RELEASED))
@example(bad={**RELEASED, "id": "not-a-uuid"})
@example(bad={**RELEASED, "invoiceNo": None})
@example(bad="not an object")
def test_a_mangled_released_invoice_never_stops_the_rest(connection, bad):
    # The good one is not known here (never synced): it is skipped with that reason, which
    # shows the run read past the mangled one.
    good = {**RELEASED, "id": "00000000-0000-0000-0000-000000009002", "invoiceNo": 9002}
    SyncCursor.objects.all().delete()
    run = sync_connection(
        connection_id=connection.pk,
        client=serve(GOOD_CUSTOMERS, GOOD_INVOICES, released=[bad, good]),
    )

    assert run.status == SyncRun.Status.PARTIAL, run.errors
    assert any("9002" in error["record"] for error in run.errors), run.errors

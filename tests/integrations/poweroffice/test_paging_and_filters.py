"""v2 paging (PageNumber from 1, PageSize, until a short page or 204) and query filters."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from .fakes import response


def _customers(n: int, start: int = 1) -> list[dict]:
    return [
        {"Id": 100 + i, "Number": 10000 + i, "Name": f"Kunde {i}"} for i in range(start, start + n)
    ]


def _serve_pages(fake, path, items):
    """A handler that pages ``items`` like PoGo: 204 past the end."""

    def handler(sent):
        number = int(sent.param("PageNumber"))
        size = int(sent.param("PageSize"))
        chunk = items[(number - 1) * size : number * size]
        return response(200, chunk) if chunk else response(204)

    fake.handle("GET", path, handler)


def test_reads_pages_until_a_short_page(fake, pogo):
    _serve_pages(fake, "/v2/Customers", _customers(5))

    customers = list(pogo.customers(page_size=2))

    assert [c.number for c in customers] == [10001, 10002, 10003, 10004, 10005]
    calls = fake.api_calls("/v2/Customers")
    assert [(c.param("PageNumber"), c.param("PageSize")) for c in calls] == [
        ("1", "2"),
        ("2", "2"),
        ("3", "2"),
    ]


def test_reads_pages_until_204_when_the_last_page_is_full(fake, pogo):
    _serve_pages(fake, "/v2/Customers", _customers(4))

    customers = list(pogo.customers(page_size=2))

    assert len(customers) == 4
    assert len(fake.api_calls("/v2/Customers")) == 3


def test_an_empty_list_is_204(fake, pogo):
    fake.script("GET", "/v2/Customers", response(204))

    assert list(pogo.customers()) == []


def test_pages_are_fetched_lazily(fake, pogo):
    _serve_pages(fake, "/v2/Customers", _customers(5))

    first = next(iter(pogo.customers(page_size=2)))

    assert first.number == 10001
    assert len(fake.api_calls("/v2/Customers")) == 1


def test_default_page_size_is_pogos_default(fake, pogo):
    fake.script("GET", "/v2/Customers", response(200, _customers(3)))

    list(pogo.customers())

    assert fake.api_calls()[0].param("PageSize") == "5000"


def test_changed_since_is_sent_as_an_aware_iso_timestamp(fake, pogo):
    fake.script("GET", "/v2/Customers", response(204))
    oslo_winter = timezone(timedelta(hours=1))

    list(pogo.customers(changed_since=datetime(2026, 11, 1, 9, 30, 0, 123456, tzinfo=oslo_winter)))

    sent = fake.api_calls()[0]
    assert sent.param("lastChangedDateTimeOffsetGreaterThan") == "2026-11-01T08:30:00.123456+00:00"


def test_naive_timestamps_are_refused_before_any_request(fake, pogo):
    with pytest.raises(ValueError, match="aware"):
        list(pogo.customers(changed_since=datetime(2026, 11, 1, 9, 30)))

    assert fake.sent == []


def test_outgoing_invoice_filters(fake, pogo):
    fake.script("GET", "/v2/OutgoingInvoices", response(204))

    list(
        pogo.outgoing_invoices(
            only_unpaid=True,
            balance_changed_since=datetime(2026, 11, 1, tzinfo=UTC),
            customer_nos=[10001, 10002],
            invoice_nos=[5, 6, 7],
            from_date=date(2026, 1, 1),
        )
    )

    sent = fake.api_calls()[0]
    assert sent.param("onlyUnpaidInvoices") == "true"
    assert sent.param("balanceLastChangedDateTimeOffsetGreaterThan") == "2026-11-01T00:00:00+00:00"
    assert sent.param("customerNos") == "10001,10002"
    assert sent.param("invoiceNos") == "5,6,7"
    assert sent.param("fromDate") == "2026-01-01"
    assert sent.param("toDate") is None


def test_outgoing_invoices_changed_since_is_exclusive(fake, pogo):
    invoice = {
        "Id": "4a3f8c2e-1b7d-4c59-9e1a-6f0b2d3c4e5f",
        "InvoiceNo": 1,
        "VoucherDate": "2026-10-01",
        "TotalAmount": 100,
    }
    fake.script(
        "GET",
        "/v2/OutgoingInvoices",
        response(
            200,
            [
                {
                    **invoice,
                    "InvoiceNo": 1,
                    "LastChangedDateTimeOffset": "2026-11-01T00:00:00+00:00",
                },
                {
                    **invoice,
                    "InvoiceNo": 2,
                    "LastChangedDateTimeOffset": "2026-11-01T00:00:01+00:00",
                },
            ],
        ),
    )

    invoices = list(pogo.outgoing_invoices(changed_since=datetime(2026, 11, 1, tzinfo=UTC)))

    assert [i.invoice_no for i in invoices] == [2]


def test_open_items_take_a_date(fake, pogo):
    fake.script("GET", "/v2/Customerledger/OpenItems", response(204))

    list(pogo.customer_ledger_open_items(on=date(2026, 11, 28)))

    assert fake.api_calls()[0].param("date") == "2026-11-28"


def test_page_size_is_bounded_by_pogos_maximum(fake, pogo):
    with pytest.raises(ValueError):
        list(pogo.customers(page_size=20_001))

    assert fake.sent == []

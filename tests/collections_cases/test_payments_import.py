from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from collections_cases.models import CollectionCase, LedgerEntry, Payment, PaymentImport
from collections_cases.payments import imports, parsers
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def owing(kid, amount="1500.00", **kwargs):
    case = CollectionCaseFactory(kid=kid, **kwargs)
    LedgerEntryFactory(case=case, kind=LedgerEntry.Kind.PRINCIPAL, amount=Decimal(amount))
    return case


def by_kid(kid):
    return Payment.objects.get(kid=kid)


def test_payments_detect_format():
    assert parsers.detect_format(fixture("camt054_payments.xml")) == "camt054"
    assert parsers.detect_format(fixture("ocr_payments.txt")) == "ocr"
    with pytest.raises(parsers.PaymentFileError):
        parsers.detect_format(b"hello")


def test_payments_camt054_import():
    paid = owing("123456782")
    closed = owing("209900000016", status=CollectionCase.Status.CLOSED)
    batch = imports.payments_import_file(
        content=fixture("camt054_payments.xml"), file_name="camt054_payments.xml"
    )
    assert (batch.format, batch.transactions_count, batch.created_count) == ("camt054", 4, 4)
    assert (batch.matched_count, batch.unmatched_count) == (1, 3)

    payment = by_kid("123456782")
    assert payment.status == Payment.Status.ALLOCATED
    assert payment.amount == Decimal("1500.00")
    assert payment.payer_name == "Ola Nordmann"
    assert payment.external_reference == "camt:20261105-000001-1"
    paid.refresh_from_db()
    assert paid.status == CollectionCase.Status.CLOSED
    assert paid.close_reason == CollectionCase.CloseReason.PAID

    assert by_kid("999999998").status == Payment.Status.UNMATCHED
    invalid = by_kid("123456780")
    assert invalid.status == Payment.Status.UNMATCHED
    assert "kontrollsiffer" in invalid.match_note
    assert invalid.payer_reference == "Faktura 1001"
    to_closed = by_kid("209900000016")
    assert to_closed.status == Payment.Status.AMBIGUOUS
    assert to_closed.case is None
    assert not LedgerEntry.objects.filter(case=closed, kind=LedgerEntry.Kind.PAYMENT).exists()
    assert all(p.import_batch == batch for p in Payment.objects.all())


def test_payments_ocr_import():
    mod11 = owing("76543216", amount="1000.00")
    over = owing("55555551", amount="1000.00")
    batch = imports.payments_import_file(
        content=fixture("ocr_payments.txt"), file_name="ocr_payments.txt"
    )
    assert (batch.format, batch.transactions_count, batch.created_count) == ("ocr", 3, 3)
    assert (batch.matched_count, batch.unmatched_count) == (2, 1)
    assert by_kid("76543216").amount == Decimal("250.00")
    assert by_kid("76543216").case == mod11
    overpaid = by_kid("55555551")
    assert overpaid.payer_name == "Kari Nordmann"
    assert [(a.component, a.amount) for a in overpaid.allocations.order_by("id")] == [
        ("principal", Decimal("1000.00")),
        ("overpayment", Decimal("200.00")),
    ]
    assert LedgerEntry.objects.get(case=over, kind=LedgerEntry.Kind.REFUND_DUE).amount == Decimal(
        "200.00"
    )
    assert by_kid("999999998").status == Payment.Status.UNMATCHED
    assert by_kid("999999998").amount == Decimal("42.00")


@pytest.mark.parametrize(
    "name,expected",
    [
        ("camt054_broken_xml.xml", "Ugyldig XML (linje"),
        ("camt054_bad_amount.xml", "Ntry[2]/NtryDtls/TxDtls[1]/Amt"),
        ("ocr_bad_length.txt", "Linje 4: posten har 79 tegn"),
        ("ocr_bad_totals.txt", "Linje 11: sluttposten"),
        ("ocr_bad_amount.txt", "Linje 3, posisjon 33–49"),
    ],
)
def test_payments_malformed_file_imports_nothing(name, expected):
    owing("123456782")
    owing("76543216")
    with pytest.raises(ApplicationError) as excinfo:
        imports.payments_import_file(content=fixture(name), file_name=name)
    assert expected in excinfo.value.message
    assert "Ingenting er importert" in excinfo.value.message
    assert not Payment.objects.exists()
    assert not PaymentImport.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).exists()


def test_payments_same_file_twice_refused():
    owing("123456782")
    content = fixture("camt054_payments.xml")
    imports.payments_import_file(content=content, file_name="a.xml")
    with pytest.raises(ApplicationError) as excinfo:
        imports.payments_import_file(content=content, file_name="a.xml")
    assert "allerede importert" in excinfo.value.message
    assert Payment.objects.count() == 4


def test_payments_same_transactions_in_another_file_import_nothing_new():
    owing("123456782")
    content = fixture("camt054_payments.xml")
    imports.payments_import_file(content=content, file_name="a.xml")
    again = imports.payments_import_file(content=content + b"\n<!-- resent -->\n", file_name="b")
    assert (again.created_count, again.duplicate_count) == (0, 4)
    assert Payment.objects.count() == 4
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).count() == 1


def test_payments_import_command():
    owing("76543216")
    out = StringIO()
    call_command("import_payments", str(FIXTURES / "ocr_payments.txt"), stdout=out)
    assert "3 new" in out.getvalue()
    with pytest.raises(CommandError, match="allerede importert"):
        call_command("import_payments", str(FIXTURES / "ocr_payments.txt"), stdout=StringIO())
    with pytest.raises(CommandError, match="Linje 4"):
        call_command("import_payments", str(FIXTURES / "ocr_bad_length.txt"), stdout=StringIO())

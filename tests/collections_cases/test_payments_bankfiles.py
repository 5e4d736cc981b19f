"""Bank files as banks send them (reference §6 "Not every entry is money in"): only booked
camt.054 entries are payments, a debit inside a credit entry is not a payment, the account
comes as IBAN or Othr/Id; OCR giro transaction types (18/20 reverse), the 40-character payer
text, and one bad record skipped only while the bank's own totals reconcile."""

from decimal import Decimal

import pytest

from collections_cases.models import CollectionCase, LedgerEntry, Payment, PaymentReversal
from collections_cases.payments import parsers
from collections_cases.payments.imports import payments_import_file
from kravia_web.errors import ApplicationError
from tests.collections_cases.bankfiles_support import Entry, Ocr, Tx, camt, ocr, payment_entry
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

KID = "123456782"  # MOD10


def owing(kid=KID, amount="1000.00"):
    """An active case owing ``amount`` of principal (``kid`` None: the factory's own KID)."""
    case = CollectionCaseFactory(**({"kid": kid} if kid else {}))
    LedgerEntryFactory(case=case, kind=LedgerEntry.Kind.PRINCIPAL, amount=Decimal(amount))
    return case


# --- camt.054 --------------------------------------------------------------------------------


def test_pending_and_information_entries_are_ignored_and_counted():
    # Given a file with one booked payment, a pending and an information entry for the same
    # KID, and a payout (a debit without a KID)
    case = owing()
    content = camt(
        payment_entry("1000.00", KID, "B-1"),
        payment_entry("1000.00", KID, "P-1", status="<Sts>PDNG</Sts>"),
        payment_entry("500.00", KID, "I-1", status="<Sts><Cd>INFO</Cd></Sts>"),
        Entry("250.00", [Tx("250.00", ref="OUT-1")], indicator="DBIT"),
    )

    # When it is imported
    batch = payments_import_file(content=content, file_name="camt.xml")

    # Then only the booked entry is a payment; the other three are counted, not imported
    assert [p.external_reference for p in Payment.objects.all()] == ["camt:B-1"]
    assert (batch.created_count, batch.ignored_count, batch.reversal_count) == (1, 3, 0)
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED


@pytest.mark.parametrize("status", ["<Sts>BOOK</Sts>", "<Sts><Cd>BOOK</Cd></Sts>"])
def test_booked_is_read_in_both_forms(status):
    owing()
    batch = payments_import_file(
        content=camt(payment_entry("1000.00", KID, "B-1", status=status)), file_name="c.xml"
    )
    assert (batch.created_count, batch.ignored_count) == (1, 0)


def test_a_debit_transaction_inside_a_credit_entry_is_not_a_payment():
    # Given a booked credit entry netting a 1 500,00 credit and a 200,00 debit (no KID)
    owing(amount="1500.00")
    entry = Entry(
        "1300.00",
        [
            Tx("1500.00", kid=KID, ref="T-1"),
            Tx("200.00", ref="T-2", indicator="DBIT"),
        ],
    )

    batch = payments_import_file(content=camt(entry), file_name="c.xml")

    # Then the credit is the one payment; the debit is counted as not money in
    assert [(p.external_reference, p.amount) for p in Payment.objects.all()] == [
        ("camt:T-1", Decimal("1500.00"))
    ]
    assert (batch.created_count, batch.ignored_count) == (1, 1)


def test_a_credit_reversing_an_earlier_debit_is_not_a_payment():
    owing()
    entry = payment_entry("1000.00", KID, "R-1", reversal=True)  # CRDT + RvslInd
    batch = payments_import_file(content=camt(entry), file_name="c.xml")
    assert not Payment.objects.exists()
    assert (batch.created_count, batch.ignored_count) == (0, 1)


@pytest.mark.parametrize(
    "account",
    [
        "<IBAN>NO9386011117947</IBAN>",
        "<Othr><Id>8601.11.17947</Id></Othr>",
        "<Othr><Id>86011117947</Id></Othr>",
    ],
)
def test_the_account_id_is_read_as_iban_or_othr_id(account):
    owing()
    batch = payments_import_file(
        content=camt(payment_entry("1000.00", KID, "B-1"), account=account), file_name="c.xml"
    )
    assert batch.account == "86011117947"
    assert batch.created_count == 1


def test_a_transaction_without_a_reference_is_skipped_when_the_entry_reconciles():
    # Given an entry whose two transactions add up to its amount, one without any reference
    owing()
    entry = Entry("1100.00", [Tx("1000.00", kid=KID, ref="T-1"), Tx("100.00", kid="999999998")])

    batch = payments_import_file(content=camt(entry), file_name="c.xml")

    # Then the good one is imported and the other reported by its element
    assert batch.created_count == 1
    assert batch.skipped == [
        {
            "where": "Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[2]",
            "error": "Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[2]: ingen unik referanse "
            "(AcctSvcrRef, EndToEndId eller NtryRef).",
        }
    ]


def test_an_entry_that_does_not_reconcile_refuses_the_whole_file():
    owing()
    entry = Entry("1200.00", [Tx("1000.00", kid=KID, ref="T-1"), Tx("100.00", ref="T-2")])
    with pytest.raises(ApplicationError) as refused:
        payments_import_file(
            content=camt(payment_entry("50.00", KID, "B-0"), entry), file_name="c.xml"
        )
    assert "Ntfctn[1]/Ntry[2]: summen av transaksjonene" in refused.value.message
    assert not Payment.objects.exists()


# --- OCR giro --------------------------------------------------------------------------------


def test_ocr_payer_text_is_40_characters():
    owing()
    payer = "Kari Nordmann-Fjellheim, Storgata 10 B"  # 38
    payer = payer + "XY"  # exactly 40
    payments_import_file(content=ocr(Ocr(100000, KID, payer=payer)), file_name="o.txt")
    assert Payment.objects.get().payer_name == payer


def test_ocr_transaction_type_is_read():
    parsed = parsers.parse(
        ocr(Ocr(100000, KID, kind="13"), Ocr(5000, KID, kind="18", sign="-"), net_sum=True)
    )
    assert [(i.kind, i.amount) for i in parsed.items] == [
        ("payment", Decimal("1000.00")),
        ("reversal", Decimal("50.00")),
    ]


@pytest.mark.parametrize("net_sum", [False, True])
def test_ocr_file_with_3_reversals_imports_its_20_payments_and_reverses_the_3(net_sum):
    # Given 3 cases paid by an earlier OCR file
    earlier = [owing(kid=None, amount="100.00") for _ in range(3)]
    kids = [c.kid for c in earlier]
    payments_import_file(content=ocr(*(Ocr(10000, kid) for kid in kids)), file_name="day1.txt")
    assert all(
        c.status == CollectionCase.Status.CLOSED
        for c in CollectionCase.objects.filter(pk__in=[c.pk for c in earlier])
    )
    # and 20 other cases owing 100,00 each
    others = [owing(kid=None, amount="100.00") for _ in range(20)]

    # When a file with their 20 payments and the bank's 3 reversals (type 18, minus sign) of
    # the earlier payments is imported
    lines = [Ocr(10000, case.kid, kind="13") for case in others[:10]]
    lines += [Ocr(10000, kid, kind="18", sign="-") for kid in kids]
    lines += [Ocr(10000, case.kid, kind="10") for case in others[10:]]
    batch = payments_import_file(content=ocr(*lines, net_sum=net_sum), file_name="day2.txt")

    # Then the 20 payments are imported and allocated, and the 3 earlier payments reversed
    assert (batch.created_count, batch.matched_count, batch.reversal_count) == (20, 20, 3)
    assert batch.reversal_unmatched_count == 0
    assert Payment.objects.filter(import_batch=batch, status="allocated").count() == 20
    reversed_payments = Payment.objects.filter(status=Payment.Status.REVERSED)
    assert sorted(p.kid for p in reversed_payments) == sorted(kids)
    for case in CollectionCase.objects.filter(pk__in=[c.pk for c in earlier]):
        assert case.status == CollectionCase.Status.ACTIVE  # reopened: dunning continues
        assert case.stored_balance == Decimal("100.00")
    assert PaymentReversal.objects.filter(status="reversed").count() == 3


def test_ocr_unknown_transaction_type_skips_that_record_only():
    # Given a file whose second transaction has a type Nets does not define (the totals
    # still count its amount, so they reconcile)
    owing()
    content = ocr(Ocr(100000, KID), Ocr(4200, "999999998", kind="99"))

    batch = payments_import_file(content=content, file_name="o.txt")

    # Then the first is imported; the second is reported by its line and not imported
    assert batch.created_count == 1
    assert batch.skipped == [
        {"where": "Linje 5", "error": "Linje 5, posisjon 5–6: ukjent transaksjonstype «99»."}
    ]
    assert batch.transactions_count == 2


def test_ocr_minus_sign_on_a_payment_type_is_skipped_not_imported():
    owing()
    batch = payments_import_file(
        content=ocr(Ocr(100000, KID), Ocr(4200, "999999998", kind="10", sign="-")),
        file_name="o.txt",
    )
    assert batch.created_count == 1
    assert "posisjon 32" in batch.skipped[0]["error"]


def test_ocr_totals_that_do_not_reconcile_refuse_the_whole_file():
    owing()
    content = ocr(Ocr(100000, KID), Ocr(4200, "999999998", kind="99")).decode("latin-1")
    lines = content.splitlines()
    lines[-2] = lines[-2][:24] + f"{104199:017d}" + lines[-2][41:]  # one øre off
    with pytest.raises(ApplicationError) as refused:
        payments_import_file(content="\n".join(lines).encode("latin-1"), file_name="o.txt")
    assert "oppdragets sluttpost" in refused.value.message
    assert "Ingenting er importert" in refused.value.message
    assert not Payment.objects.exists()

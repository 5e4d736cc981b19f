"""Letters say what is true (issue 14, point 8, and the letter of point 2).

* The varsel om rettslig inndriving says the creditor *may* ask for enforcement, unless the
  creditor approved legal steps before the letter was recorded.
* Forsinkelsesrente one line per period with its own rate or base, to the øre.
* After a part payment: the principal still outstanding (and the original beside it) and
  each earlier payment's split.
* The «Oppgave over restbeløp» after a payment that leaves little: what the payment covered,
  what is left, 14 days, no cost; the next dunning step waits for it.

The worked example is the reference's (§ 4b): consumer invoice 5 000.00 due 2026-06-01;
inkassovarsel 2026-06-16 (fee 37.50); payment 2 000.00 on 2026-06-25 → interest
02.06–25.06 = 24 days × 12.00 % = 39.45; principal paid 1 923.05; outstanding 3 076.95;
interest from 26.06 on 3 076.95 (5 days at 12.00 %, then 12.25 % from 01.07).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from django.db.models import Sum

from collections_cases import rules
from collections_cases.cases.credit_notes import case_register_credit_note
from collections_cases.cases.services import case_lock, case_register_direct_payment
from collections_cases.dunning import remainder
from collections_cases.dunning.services import after_grace
from collections_cases.ledger.interest import case_interest_facts
from collections_cases.letters.documents import letter_filename, letter_pdf, letter_render
from collections_cases.letters.documents import letters as letter_documents
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    Letter,
    LetterDelivery,
    Payment,
)
from collections_cases.payments.services import payment_register
from tests.collections_cases.dunning_support import on_day, open_case, run
from tests.collections_cases.test_documents import case_until, day, keep, nok, pdf_text

pytestmark = pytest.mark.django_db

Kind = Letter.Kind
D = dt.date
DUE = D(2026, 6, 1)
OPENED = D(2026, 6, 15)
IV_ON = D(2026, 6, 16)
PAID_ON = D(2026, 6, 25)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.AGENCY_ACCOUNT_NUMBER = "15036123459"
    settings.AGENCY_NAME = "Kravia Inkasso AS"


def exact(base: str, rate: str, days: int) -> Fraction:
    return Fraction(Decimal(base)) * Fraction(Decimal(rate)) * days / 36500


def ore(value: Fraction) -> str:
    return nok(rules.round_ore(value))


def case_with_iv(amount: str = "5000.00") -> CollectionCase:
    """The reference's case: due 01.06.2026, inkassovarsel 16.06.2026 with fee 37.50."""
    case = open_case(opened_on=OPENED, due=DUE, amount=amount)
    run(IV_ON)
    case.refresh_from_db()
    letter = case.letters.get()
    assert (letter.kind, letter.sent_on, letter.fee) == (
        Kind.INKASSOVARSEL,
        IV_ON,
        Decimal("37.50"),
    )
    return case


def pay(case: CollectionCase, amount: str, on: dt.date = PAID_ON) -> Payment:
    with on_day(on, hour=12):
        return payment_register(
            amount=Decimal(amount), paid_on=on, external_reference=f"ref-{case.pk}-{on}", case=case
        )


# --- varsel om rettslig inndriving ---------------------------------------------------------


def varsel_text(letter: Letter) -> str:
    return pdf_text(letter_render(Letter.objects.select_related("case").get(pk=letter.pk)))


def test_varsel_says_the_creditor_may_request_enforcement_without_approval_in_advance():
    case, letter, _totals = case_until(Kind.VARSEL_RETTSLIG)
    assert case.legal_approved_at is None

    text = varsel_text(letter)

    keep("varsel_rettslig_kan.pdf", letter_render(letter))
    assert (
        f"Hvis kravet ikke er betalt innen 14 dager, det vil si innen {day(letter.deadline)}, "
        f"kan {case.creditor.name} begjære tvangsfullbyrdelse" in text
    )
    assert "utlegg hos namsmannen" in text and "forliksklage til forliksrådet" in text
    assert "Kreditor avgjør om det skal skje" in text
    assert "vil vi begjære" not in text and "uten flere varsler" not in text
    assert "tvangsfullbyrdelsesloven § 4-18" in text


def test_an_approval_given_after_the_varsel_was_recorded_does_not_make_it_firm():
    case, letter, _totals = case_until(Kind.VARSEL_RETTSLIG)
    CollectionCase.objects.filter(pk=case.pk).update(
        legal_approved_at=letter.created_at + dt.timedelta(hours=1)
    )

    text = varsel_text(letter)

    assert f"kan {case.creditor.name} begjære tvangsfullbyrdelse" in text
    assert "uten flere varsler" not in text


def test_varsel_is_firm_when_legal_steps_were_approved_in_advance():
    case, letter, _totals = case_until(Kind.VARSEL_RETTSLIG)
    CollectionCase.objects.filter(pk=case.pk).update(
        legal_approved_at=letter.created_at - dt.timedelta(days=3)
    )

    data = letter_render(Letter.objects.select_related("case").get(pk=letter.pk))

    keep("varsel_rettslig_godkjent.pdf", data)
    text = pdf_text(data)
    assert (
        f"Hvis kravet ikke er betalt innen 14 dager, det vil si innen {day(letter.deadline)}, "
        "vil vi begjære tvangsfullbyrdelse" in text
    )
    assert "forliksklage til forliksrådet, uten flere varsler" in text
    assert f"{case.creditor.name} har allerede godkjent at vi tar rettslige skritt" in text
    assert "Kreditor avgjør" not in text


# --- interest per period ------------------------------------------------------------------


def test_a_betalingsoppfordring_across_1_july_has_one_interest_line_per_rate():
    case = case_with_iv("10000.00")
    iv_text = pdf_text(letter_render(case.letters.get()))
    assert "02.06.2026–16.06.2026 15 10 000,00 12,00 % 49,32" in iv_text  # the IV's too
    bo_on = after_grace(rules.deadline(IV_ON, 14))  # 03.07.2026
    run(bo_on)
    letter = case.letters.get(kind=Kind.BETALINGSOPPFORDRING)
    assert letter.sent_on == bo_on == D(2026, 7, 3)

    data = letter_pdf(letter)

    keep("betalingsoppfordring_1_juli.pdf", data)
    text = pdf_text(data)
    june = exact("10000", "12.00", 29)  # 02.06–30.06
    july = exact("10000", "12.25", 3)  # 01.07–03.07
    assert f"02.06.2026–30.06.2026 29 10 000,00 12,00 % {ore(june)}" in text
    assert f"01.07.2026–03.07.2026 3 10 000,00 12,25 % {ore(july)}" in text
    assert (ore(june), ore(july)) == ("95,34", "10,07")
    booked = sum(
        e.amount for e in LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.INTEREST)
    )
    assert booked == rules.round_ore(june + july) == Decimal("105.41")
    assert "Forsinkelsesrente til og med 03.07.2026 105,41" in text
    assert "Forsinkelsesrente 105,41" in text  # nothing of it paid
    assert "Satsen per 03.07.2026 er 12,25 % per år" in text
    # No payment: the principal is the original one, and no payment table.
    assert "Hovedstol 10 000,00" in text
    assert "Opprinnelig hovedstol" not in text and "Innbetalinger og fradrag" not in text


def test_interest_lines_each_rounded_say_the_total_is_the_one_booked():
    """The reference's worked example (§ 4): 10 000 due 15.05.2025, to 10.09.2025: 46 days
    at 12.50 % + 72 days at 12.25 % = 157.534… + 241.643… = 399.18 (the lines round to
    157.53 and 241.64)."""
    case = open_case(opened_on=D(2025, 9, 9), due=D(2025, 5, 15), amount="10000.00")
    run(D(2025, 9, 10))
    letter = case.letters.get()

    context = letter_documents.letter_context(letter)

    interest = context["interest"]
    assert [
        (line["first"], line["last"], line["rate"], line["amount"]) for line in interest["lines"]
    ] == [
        ("16.05.2025", "30.06.2025", "12,50", "157,53"),
        ("01.07.2025", "10.09.2025", "12,25", "241,64"),
    ]
    assert interest["total"] == "399,18" and interest["rounded_apart"]
    text = pdf_text(letter_render(letter))
    assert "Hver linje er avrundet for seg" in text
    assert "Forsinkelsesrente til og med 10.09.2025 399,18" in text


# --- after a part payment --------------------------------------------------------------------


def test_a_letter_after_a_part_payment_shows_the_principal_left_and_the_split():
    case = case_with_iv()
    pay(case, "2000.00")
    case.refresh_from_db()
    assert case.next_action_date == after_grace(rules.deadline(IV_ON, 14)) == D(2026, 7, 3)

    run(D(2026, 7, 3))
    letter = case.letters.get(kind=Kind.BETALINGSOPPFORDRING)
    assert Decimal(letter.amounts["principal"]) == Decimal("3076.95")

    data = letter_render(letter)

    keep("betalingsoppfordring_etter_delbetaling.pdf", data)
    text = pdf_text(data)
    # The principal outstanding, labelled as such, and the original beside it.
    assert "Hovedstol som gjenstår 3 076,95" in text
    assert "Opprinnelig hovedstol: kr 5 000,00" in text
    assert "Hovedstol 5 000,00" not in text
    # The payment and its split: fee, (no salær), interest to the payment day, principal.
    assert "Innbetalinger og fradrag" in text
    assert "25.06.2026 Innbetaling 2 000,00 37,50 39,45 1 923,05" in text
    # Interest: to the payment day on 5 000, then on 3 076.95 at 12.00 % and 12.25 %.
    before = exact("5000", "12.00", 24)
    june = exact("3076.95", "12.00", 5)
    july = exact("3076.95", "12.25", 3)
    assert f"02.06.2026–25.06.2026 24 5 000,00 12,00 % {ore(before)}" in text
    assert f"26.06.2026–30.06.2026 5 3 076,95 12,00 % {ore(june)}" in text
    assert f"01.07.2026–03.07.2026 3 3 076,95 12,25 % {ore(july)}" in text
    total_interest = rules.round_ore(before + june + july)
    assert f"Forsinkelsesrente til og med 03.07.2026 {nok(total_interest)}" in text
    # What is left per component: interest less the part paid, no fee left, the salær
    # banded by the principal outstanding (≤ 10 000: 0.80 × 750).
    left_interest = total_interest - Decimal("39.45")
    assert f"Forsinkelsesrente {nok(left_interest)}" in text
    assert "Gebyrer" not in text.split("Spesifikasjon av det som gjenstår")[1].split("Å betale")[0]
    assert "Inkassosalær 600,00" in text
    total = Decimal("3076.95") + left_interest + Decimal("600.00")
    assert Decimal(letter.amounts["total"]) == total
    assert f"Å betale {nok(total)}" in text
    assert "Andre tillegg og fradrag" not in text


def test_a_reversed_payment_and_a_later_one_are_not_in_the_letter():
    case = case_with_iv()
    payment = pay(case, "2000.00")
    run(D(2026, 7, 3))
    letter = case.letters.get(kind=Kind.BETALINGSOPPFORDRING)
    pay(case, "100.00", on=D(2026, 7, 6))  # after the letter was recorded

    rows = letter_documents.letter_context(letter)["earlier_payments"]
    assert [(row["date"], row["amount"]) for row in rows] == [("25.06.2026", "2\xa0000,00")]

    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.REVERSED)
    assert letter_documents.letter_context(letter)["earlier_payments"] == []


def test_the_letter_reads_the_interest_facts_and_principal_the_ledger_had_when_recorded():
    """The letter reads its case's records once (``letter_records``): the interest facts and
    the original principal built from them are the ledger's own as known at the letter."""
    case = case_with_iv()
    pay(case, "2000.00")
    with on_day(D(2026, 6, 28), hour=12):
        case_register_credit_note(
            case=case, actor=None, amount="300.00", credited_on=D(2026, 6, 27)
        )
        case_register_direct_payment(case=case, actor=None, amount="200.00", paid_on=D(2026, 6, 26))
    bounced = pay(case, "150.00", on=D(2026, 6, 29))
    Payment.objects.filter(pk=bounced.pk).update(status=Payment.Status.REVERSED)
    run(D(2026, 7, 3))
    letter = case.letters.get(kind=Kind.BETALINGSOPPFORDRING)
    pay(case, "100.00", on=D(2026, 7, 6))  # after the letter was recorded
    with on_day(D(2026, 7, 7), hour=12):
        case_register_credit_note(case=case, actor=None, amount="50.00", credited_on=D(2026, 7, 1))

    records = letter_documents.letter_records(letter)
    expected = case_interest_facts(case, known_at=letter.created_at)
    assert letter_documents.letter_interest_facts(records) == expected
    (facts,) = expected
    assert facts.booked > 0 and len(facts.reductions) == 3  # payment, credit note, direct
    principal = LedgerEntry.objects.filter(
        case=case, kind=LedgerEntry.Kind.PRINCIPAL, created_at__lte=letter.created_at
    ).aggregate(total=Sum("amount"))["total"]
    assert letter_documents._principal_original(letter, records) == principal
    rows = [(split.on, split.what) for split in letter_documents.earlier_payments(letter)]
    assert rows == [
        (D(2026, 6, 25), "Innbetaling"),
        (D(2026, 6, 26), "Direkte betalt til kreditor"),
        (D(2026, 6, 27), "Kreditnota"),
    ]


# --- the remainder statement -----------------------------------------------------------------


def test_a_payment_that_leaves_little_gets_a_free_remainder_statement(settings):
    settings.REMAINDER_STATEMENT_MAX_PRINCIPAL = "5000.00"
    case = case_with_iv()
    costs_before = LedgerEntry.objects.filter(
        case=case, kind__in=(LedgerEntry.Kind.FEE, LedgerEntry.Kind.SALAER)
    ).count()

    payment = pay(case, "2000.00")

    letter = case.letters.get(kind=Kind.REMAINDER_STATEMENT)
    assert letter.step == f"remainder_{payment.pk}"
    assert letter.fee == 0
    assert letter.sent_on == PAID_ON
    assert letter.deadline == rules.deadline(PAID_ON, 14) == D(2026, 7, 9)
    assert Decimal(letter.amounts["principal"]) == Decimal("3076.95")
    assert Decimal(letter.amounts["total"]) == Decimal("3076.95")
    assert letter.amounts["payment_id"] == payment.pk
    # No new cost, a delivery on the debtor's channel, a letter event.
    assert (
        LedgerEntry.objects.filter(
            case=case, kind__in=(LedgerEntry.Kind.FEE, LedgerEntry.Kind.SALAER)
        ).count()
        == costs_before
    )
    assert LetterDelivery.objects.filter(letter=letter).count() == 1
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.LETTER).latest("id")
    assert event.data["letter_id"] == letter.pk
    assert "Oppgave over restbeløp registrert etter innbetaling" in event.message
    assert "uten gebyr" in event.message
    # The next dunning step (the BO, due 03.07) waits for the statement's deadline.
    case.refresh_from_db()
    assert case.next_action == CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == after_grace(letter.deadline) == D(2026, 7, 14)
    run(D(2026, 7, 3))
    assert not case.letters.filter(kind=Kind.BETALINGSOPPFORDRING).exists()

    data = letter_pdf(letter)

    keep("remainder_statement.pdf", data)
    text = pdf_text(data)
    assert letter_filename(letter) == f"oppgave-over-restbelop-{case.number}.pdf"
    assert "Oppgave over restbeløp" in text
    assert "Vi har mottatt innbetalingen din på kr 2 000,00 (25.06.2026)" in text
    assert "Dette brevet koster deg ingenting" in text
    # How the payment was split …
    assert "Innbetaling 25.06.2026 Beløp (kr) Gebyr 37,50 Forsinkelsesrente 39,45" in text
    assert "Hovedstol 1 923,05 Innbetalt 2 000,00" in text
    # … what is left per component, the deadline, what happens after it.
    assert "Hovedstol som gjenstår 3 076,95 Å betale 3 076,95" in text
    assert "Opprinnelig hovedstol: kr 5 000,00" in text
    assert "Betal resten, kr 3 076,95, innen 09.07.2026" in text
    assert "fortsetter inkassosaken" in text
    assert "Beløp å betale kr 3 076,95" in text and f"KID {case.kid}" in text
    assert f"02.06.2026–25.06.2026 24 5 000,00 12,00 % {ore(exact('5000', '12.00', 24))}" in text
    assert "Innbetalinger og fradrag" not in text  # the one payment is the split above

    # Then the BO follows on the day the statement's deadline and grace days passed.
    run(D(2026, 7, 14))
    assert case.letters.filter(kind=Kind.BETALINGSOPPFORDRING, sent_on=D(2026, 7, 14)).exists()


def test_the_remainder_statement_is_sent_once_per_payment():
    case = case_with_iv()
    payment = pay(case, "2000.00")  # leaves 3 076.95: the allocation sends none itself
    assert not case.letters.filter(kind=Kind.REMAINDER_STATEMENT).exists()

    with on_day(PAID_ON, hour=13), transaction.atomic():
        first = remainder.remainder_statement_send(
            case=case_lock(case_id=case.pk), payment=payment, on=PAID_ON
        )
    events = CaseEvent.objects.filter(case=case).count()
    deliveries = LetterDelivery.objects.count()
    case.refresh_from_db()
    next_date = case.next_action_date
    with on_day(PAID_ON + dt.timedelta(days=1), hour=13), transaction.atomic():
        second = remainder.remainder_statement_send(
            case=case_lock(case_id=case.pk), payment=payment, on=PAID_ON + dt.timedelta(days=1)
        )

    assert second.pk == first.pk
    assert case.letters.filter(kind=Kind.REMAINDER_STATEMENT).count() == 1
    assert CaseEvent.objects.filter(case=case).count() == events
    assert LetterDelivery.objects.count() == deliveries
    case.refresh_from_db()
    assert case.next_action_date == next_date == D(2026, 7, 14)


def test_the_remainder_statement_never_brings_the_next_step_earlier():
    case = case_with_iv()
    payment = pay(case, "2000.00")
    later = D(2026, 8, 20)
    CollectionCase.objects.filter(pk=case.pk).update(next_action_date=later)

    with on_day(PAID_ON, hour=13), transaction.atomic():
        remainder.remainder_statement_send(
            case=case_lock(case_id=case.pk), payment=payment, on=PAID_ON
        )

    case.refresh_from_db()
    assert case.next_action_date == later


def test_a_statement_when_only_costs_are_left_makes_no_threat(settings):
    """With the principal paid first (a configured allocation order), what is left is costs
    and interest: the dunning run would close the case rather than pursue them, so the
    statement does not say collection continues."""
    settings.PAYMENT_ALLOCATION_ORDER = ("principal", "fee", "salaer", "interest")
    case = case_with_iv()
    payment = pay(case, "5000.00")
    letter = case.letters.get(kind=Kind.REMAINDER_STATEMENT)
    assert letter.amounts["payment_id"] == payment.pk
    assert Decimal(letter.amounts["principal"]) == 0

    text = pdf_text(letter_render(letter))

    assert "Hovedstolen er betalt; det som gjenstår, er renter og kostnader." in text
    assert "fortsetter inkassosaken" not in text
    assert "Hovedstol som gjenstår 0,00" in text


def test_the_statement_names_no_rate_past_the_rate_table():
    case = case_with_iv()
    payment = pay(case, "2000.00")
    past = rules.late_interest_rate_known_until() + dt.timedelta(days=2)

    amounts = remainder.remainder_amounts(case, payment=payment, on=past)

    assert "interest_rate" not in amounts
    assert Decimal(amounts["principal"]) == Decimal("3076.95")

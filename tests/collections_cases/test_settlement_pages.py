"""Kundeweb «Utbetalinger», the settlement admin and the pain.001 payout file."""

import datetime as dt
from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse

from collections_cases.models import Settlement
from collections_cases.settlements import services
from collections_cases.settlements.payout import NAMESPACE, payout_instruction_xml
from creditors.selectors import ACTIVE_CREDITOR_SESSION_KEY
from kravia_web.errors import ApplicationError
from tests.collections_cases.test_settlements import SETTLE, owing, pay
from tests.factories import CreditorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NS = {"p": NAMESPACE}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def settled(creditor, amount="1000.00", **kwargs):
    case = owing(creditor, **kwargs)
    pay(case, amount)
    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)
    return settlement, case


@pytest.fixture
def payee(creditor):
    creditor.bank_account = "15036123459"
    creditor.vat_registered = True
    creditor.save()
    return creditor


def test_list_shows_the_active_creditors_settlements(logged_in_client, payee):
    settlement, _case = settled(payee, "1525.00", salaer="525.00")
    other, _ = settled(CreditorFactory(bank_account="15036123459"), "1000.00")

    response = logged_in_client.get(reverse("settlement_list"))

    assert response.status_code == 200
    body = response.content.decode()
    assert settlement.number in body and "kr 868,75" in body
    assert other.number not in body


def test_list_empty_state_says_what_happens(logged_in_client, payee):
    response = logged_in_client.get(reverse("settlement_list"))
    assert "Ingen utbetalinger ennå" in response.content.decode()


def test_list_query_count_does_not_grow(logged_in_client, payee, django_assert_max_num_queries):
    settled(payee)
    with django_assert_max_num_queries(12):
        logged_in_client.get(reverse("settlement_list"))
    for day in range(1, 8):
        case = owing(payee)
        pay(case, "100.00", on=SETTLE + dt.timedelta(days=day), ref=f"r{day}")
        services.settle_creditor(creditor_id=payee.pk, on=SETTLE + dt.timedelta(days=day))
    with django_assert_max_num_queries(12):
        response = logged_in_client.get(reverse("settlement_list"))
    assert response.content.decode().count("/utbetalinger/") >= 8


def test_detail_shows_lines_deductions_postings_and_status(logged_in_client, payee):
    settlement, case = settled(payee, "1525.00", salaer="525.00")

    response = logged_in_client.get(reverse("settlement_detail", args=[settlement.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert case.number in body and case.debtor.name in body
    assert "kr 131,25" in body  # VAT on the salær
    assert "kr 868,75" in body
    assert "1920" in body and "1500" in body and "2710" in body
    assert "Venter på sending til PowerOffice Go" in body
    assert "15036123459" in body


def test_blocked_voucher_message_is_shown(logged_in_client, payee):
    settlement, _ = settled(payee)
    Settlement.objects.filter(pk=settlement.pk).update(
        voucher_status="blocked", voucher_error="Konto 7770 finnes ikke i kontoplanen."
    )
    body = logged_in_client.get(reverse("settlement_detail", args=[settlement.pk])).content
    assert "Konto 7770 finnes ikke i kontoplanen." in body.decode()


def test_another_creditors_settlement_is_404(logged_in_client, payee):
    other, _ = settled(CreditorFactory(bank_account="15036123459"))
    for name in ("settlement_detail", "settlement_pdf"):
        assert logged_in_client.get(reverse(name, args=[other.pk])).status_code == 404
    response = logged_in_client.post(reverse("settlement_booked", args=[other.pk]))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.booked_at is None


def test_pdf_is_rendered_on_demand_and_served(logged_in_client, payee):
    settlement, _ = settled(payee)

    response = logged_in_client.get(reverse("settlement_pdf", args=[settlement.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    settlement.refresh_from_db()
    assert settlement.statement_pdf


def test_mark_booked(logged_in_client, payee):
    settlement, _ = settled(payee)

    response = logged_in_client.post(reverse("settlement_booked", args=[settlement.pk]))

    assert response.status_code == 302
    settlement.refresh_from_db()
    assert settlement.booked_at is not None
    assert (
        logged_in_client.get(reverse("settlement_booked", args=[settlement.pk])).status_code == 405
    )


def test_member_of_two_creditors_sees_only_the_active_ones_settlements(client, payee):
    user = UserFactory()
    MembershipFactory(user=user, creditor=payee)
    second = CreditorFactory(bank_account="15036123459")
    MembershipFactory(user=user, creditor=second)
    mine, _ = settled(payee)
    client.force_login(user)
    session = client.session
    session[ACTIVE_CREDITOR_SESSION_KEY] = second.pk
    session.save()

    body = client.get(reverse("settlement_list")).content.decode()
    assert mine.number not in body and "Ingen utbetalinger ennå" in body
    # its page makes the user switch creditor first: a 404 while another one is active
    assert client.get(reverse("settlement_detail", args=[mine.pk])).status_code == 404


# --- payout file and admin -------------------------------------------------------------------


def test_payout_file_is_pain001_with_one_transfer_per_settlement(payee, settings):
    settings.AGENCY_ACCOUNT_NUMBER = "15036123459"
    first, _ = settled(payee, "1525.00", salaer="525.00")
    other_creditor = CreditorFactory(bank_account="12345678903", vat_registered=False)
    second, _ = settled(other_creditor, "1000.00")

    data = payout_instruction_xml([first, second], execute_on=dt.date(2026, 11, 30))

    root = ET.fromstring(data)
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", NS).text == "1868.75"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.find("p:ReqdExctnDt", NS).text == "2026-11-30"
    assert info.find("p:DbtrAcct/p:Id/p:IBAN", NS).text == "NO7215036123459"
    transfers = info.findall("p:CdtTrfTxInf", NS)
    assert [t.find("p:PmtId/p:EndToEndId", NS).text for t in transfers] == [
        first.number,
        second.number,
    ]
    amounts = [t.find("p:Amt/p:InstdAmt", NS) for t in transfers]
    assert [(a.text, a.get("Ccy")) for a in amounts] == [("868.75", "NOK"), ("1000.00", "NOK")]
    assert transfers[1].find("p:CdtrAcct/p:Id/p:IBAN", NS).text == "NO7112345678903"
    assert transfers[0].find("p:RmtInf/p:Ustrd", NS).text == f"Oppgjør {first.number}"


def test_payout_file_refuses_missing_account_and_paid_settlements(payee):
    settlement, _ = settled(payee)
    Settlement.objects.filter(pk=settlement.pk).update(payout_account="")
    settlement.refresh_from_db()
    with pytest.raises(ApplicationError, match="mangler kontonummer"):
        payout_instruction_xml([settlement])
    Settlement.objects.filter(pk=settlement.pk).update(
        payout_account="15036123459", payout_status="paid"
    )
    settlement.refresh_from_db()
    with pytest.raises(ApplicationError, match="Allerede utbetalt"):
        payout_instruction_xml([settlement])
    with pytest.raises(ApplicationError):
        payout_instruction_xml([])


def test_admin_download_and_mark_paid(admin_client, payee):
    settlement, _ = settled(payee)
    url = reverse("admin:collections_cases_settlement_changelist")

    response = admin_client.post(
        url, {"action": "download_payout_file", "_selected_action": [settlement.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert settlement.number.encode() in response.content

    admin_client.post(url, {"action": "mark_paid_out", "_selected_action": [settlement.pk]})
    settlement.refresh_from_db()
    assert settlement.payout_status == "paid" and settlement.paid_out_at is not None

    response = admin_client.post(
        url, {"action": "download_payout_file", "_selected_action": [settlement.pk]}, follow=True
    )
    assert "Allerede utbetalt" in response.content.decode()
    assert (
        admin_client.get(
            reverse("admin:collections_cases_settlement_change", args=[settlement.pk])
        ).status_code
        == 200
    )


# --- list: filters, sorting, export ----------------------------------------------------------


def _three_settlements(creditor):
    made = []
    for day, amount in ((0, "1000.00"), (3, "250.00"), (7, "4000.00")):
        case = owing(creditor, amounts=(amount,))
        on = SETTLE + dt.timedelta(days=day)
        pay(case, amount, on=on, ref=f"list-{day}")
        made.append(services.settle_creditor(creditor_id=creditor.pk, on=on)[0])
    return made


def test_list_filters_and_sorts(logged_in_client, payee):
    first, second, third = _three_settlements(payee)
    url = reverse("settlement_list")

    body = logged_in_client.get(url, {"sort": "payout"}).content.decode()
    assert body.index(second.number) < body.index(first.number) < body.index(third.number)

    body = logged_in_client.get(url, {"payout_min": "900", "payout_max": "1500"}).content.decode()
    assert first.number in body and second.number not in body and third.number not in body

    case_number = third.lines.get().case.number
    body = logged_in_client.get(url, {"q": case_number}).content.decode()
    assert third.number in body and first.number not in body

    body = logged_in_client.get(url, {"q": "O-2099-999999"}).content.decode()
    assert "Ingen utbetalinger passer" in body

    response = logged_in_client.get(url, {"sort": "'; drop table", "side": "x", "q": "x" * 500})
    assert response.status_code == 200


def test_export_csv_and_xlsx_of_the_filtered_list(logged_in_client, payee):
    import csv
    import io

    from openpyxl import load_workbook

    first, second, third = _three_settlements(payee)
    url = reverse("settlement_list")

    response = logged_in_client.get(url, {"eksport": "csv", "payout_min": "900"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Oppgjør"
    assert sorted(r[0] for r in rows[1:]) == sorted([first.number, third.number])

    response = logged_in_client.get(url, {"eksport": "xlsx"})
    data = b"".join(response.streaming_content)
    values = list(load_workbook(io.BytesIO(data)).active.values)
    payout_col = values[0].index("Utbetales")
    assert sorted(row[payout_col] for row in values[1:]) == [250, 1000, 4000]


def test_export_is_scoped_to_the_active_creditor(logged_in_client, payee):
    other, _ = settled(CreditorFactory(bank_account="15036123459"))
    mine, _ = settled(payee)
    response = logged_in_client.get(reverse("settlement_list"), {"eksport": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert mine.number in text and other.number not in text

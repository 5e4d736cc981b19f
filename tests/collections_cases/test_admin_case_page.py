"""The admin's case page: readable Norwegian, no JSON, the actions as buttons for this case."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases.admin_forms import InterruptionForm
from collections_cases.models import CaseEvent, CollectionCase, Letter
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory
from tests.collections_cases.test_admin_queue import settlement as queue_settlement
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def change_url(case):
    return reverse("admin:collections_cases_collectioncase_change", args=[case.pk])


def handle_url(case):
    return reverse("admin:collections_cases_collectioncase_handle", args=[case.pk])


def test_the_page_shows_labels_not_codes_or_json_and_no_save_button(admin_client):
    case = CollectionCaseFactory(status=Status.DISPUTED, held_status=Status.ACTIVE)
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.DISPUTED,
        message="Skyldner protesterte",
        data={"reason": "secret-json-value"},
        status_from=Status.ACTIVE,
        status_to=Status.DISPUTED,
    )

    text = admin_client.get(change_url(case)).content.decode()

    assert "Skyldner protesterte" in text
    event = CaseEvent.objects.get(case=case)
    assert f"{timezone.localtime(event.at):%d.%m.%Y %H:%M} Omtvistet" in text
    assert "secret-json-value" not in text
    assert "Omtvistet" in text and "Pågående" in text
    assert ">disputed<" not in text and ">active<" not in text
    assert 'name="_save"' not in text and 'name="_continue"' not in text
    assert f'action="{handle_url(case)}"' in text
    assert 'value="resolve_disputes"' in text


def test_the_page_breaks_the_amounts_down(admin_client):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case, amount=Decimal("1000.00"))
    LedgerEntryFactory(case=case, kind="fee", amount=Decimal("37.50"))

    text = admin_client.get(change_url(case)).content.decode()

    start = text.index("data-case-amounts")
    amounts = text[start : text.index("</table>", start)]
    for shown in [
        "Hovedstol",
        "kr 1\u00a0000,00",
        "Gebyrer",
        "kr 37,50",
        "Saldo",
        "kr 1\u00a0037,50",
    ]:
        assert shown in amounts, shown


def test_a_button_with_a_reason_handles_the_case_and_returns_to_its_page(admin_client):
    case = CollectionCaseFactory(status=Status.DISPUTED, held_status=Status.ACTIVE)

    response = admin_client.post(
        handle_url(case), {"action": "resolve_disputes", "apply": "1", "reason": "Avklart"}
    )

    assert response.status_code == 302 and response.url == change_url(case)
    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.DISPUTE_RESOLVED)
    assert event.actor == admin_client.staff and "Avklart" in event.message
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Innsigelsen er avklart for 1 sak."
    ]


def test_a_note_needs_text_and_another_case_is_untouched(admin_client):
    case, other = CollectionCaseFactory(), CollectionCaseFactory()

    empty = admin_client.post(handle_url(case), {"action": "add_note", "apply": "1", "reason": ""})
    admin_client.post(
        handle_url(case),
        {"action": "add_note", "apply": "1", "reason": "Ringte", "_selected_action": [other.pk]},
    )

    assert empty.status_code == 200 and 'name="reason"' in empty.content.decode()
    assert list(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE).values_list("case", "message")
    ) == [(case.pk, "Ringte")]


def test_only_the_case_page_s_actions_are_accepted(admin_client):
    case = CollectionCaseFactory()

    response = admin_client.post(handle_url(case), {"action": "delete_selected", "apply": "1"})

    assert response.status_code == 302
    assert CollectionCase.objects.filter(pk=case.pk).exists()


def test_a_letter_s_page_shows_its_amounts_in_norwegian_not_json(admin_client):
    today = timezone.localdate()
    case = CollectionCaseFactory()
    letter = Letter.objects.create(
        case=case,
        kind=Letter.Kind.INKASSOVARSEL,
        step="inkassovarsel",
        sent_on=today,
        deadline=today,
        amounts={
            "principal": "1000.00",
            "interest": "4.11",
            "fees": "37.50",
            "salaer": "0",
            "payments": "0",
            "total": "1041.61",
            "interest_rate": "12.25",
            "interest_from": "2026-11-01",
        },
    )

    text = admin_client.get(
        reverse("admin:collections_cases_letter_change", args=[letter.pk])
    ).content.decode()

    start = text.index("data-letter-amounts")
    amounts = text[start : text.index("</table>", start)]
    for shown in ["Hovedstol som gjenstår", "kr 1\u00a0000,00", "12,25\u00a0%", "kr 1\u00a0041,61"]:
        assert shown in amounts.replace(" %", "\u00a0%"), shown
    assert '"principal"' not in text and "1041.61" not in text


def test_a_settlement_s_page_shows_its_postings_as_a_table_not_json(admin_client):
    creditor = CollectionCaseFactory().creditor
    settlement = queue_settlement(creditor, "blocked", 0)
    settlement.voucher_lines = [
        {
            "side": "debit",
            "account": "account_bank",
            "account_no": 1920,
            "amount": "962.50",
            "description": "Oppgjør fra inkassobyrået",
        },
        {
            "side": "credit",
            "account": "account_receivables",
            "account_no": 1500,
            "amount": "962.50",
            "description": "Faktura 1000",
        },
    ]
    settlement.save(update_fields=["voucher_lines"])

    text = admin_client.get(
        reverse("admin:collections_cases_settlement_change", args=[settlement.pk])
    ).content.decode()

    start = text.index("data-voucher-lines")
    table = text[start : text.index("</table>", start)]
    for shown in ["1920", "1500", "kr 962,50", "Faktura 1000", "Debet", "Kredit"]:
        assert shown in table, shown
    assert "account_receivables" not in text and "&quot;side&quot;" not in text


def test_the_interruption_button_opens_its_own_form_then_records_it(admin_client):
    case = CollectionCaseFactory()
    code = next(iter(dict(InterruptionForm.base_fields["reason"].choices)))
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    first = admin_client.post(
        handle_url(case),
        {
            "action": "record_limitation_interruption",
            "apply": "1",
            "from_case_page": "1",
            "reason": "Ringte",
        },
    )
    second = admin_client.post(
        handle_url(case),
        {
            "action": "record_limitation_interruption",
            "apply": "1",
            "reason": code,
            "on": yesterday.isoformat(),
        },
    )

    text = first.content.decode()
    assert first.status_code == 200
    assert 'name="on"' in text and "errorlist" not in text
    assert second.status_code == 302 and second.url == change_url(case)
    case.refresh_from_db()
    assert case.limitation_interrupted_on == yesterday

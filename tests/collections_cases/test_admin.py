import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from collections_cases.dunning import batch as dunning_batch
from collections_cases.dunning import services as dunning
from collections_cases.models import CaseEvent, CollectionCase, Letter
from kravia_web.errors import ApplicationError
from tests.collections_cases.dunning_support import on_day, open_case
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    InvoiceFactory,
    LedgerEntryFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
CHANGELIST = reverse("admin:collections_cases_collectioncase_changelist")


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client, action, cases, **data):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [c.pk for c in cases], **data},
        follow=True,
    )


def test_changelist_filters_and_search(admin_client):
    case = CollectionCaseFactory(debtor__name="Hansen Rør AS")
    LedgerEntryFactory(case=case)
    InvoiceFactory(debtor=case.debtor, invoice_no=55501, case=case)
    other = CollectionCaseFactory(status=Status.PAUSED)

    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert case.number in response.text and other.number in response.text

    for query in ["Hansen", "55501", case.kid, case.number]:
        response = admin_client.get(CHANGELIST, {"q": query})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [case], query
    response = admin_client.get(
        CHANGELIST, {"status__exact": "paused", "stage__exact": "inkassovarsel"}
    )
    assert list(response.context["cl"].result_list) == [other]


def test_change_page_shows_inlines_read_only(admin_client):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case)
    InvoiceFactory(debtor=case.debtor, case=case)
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTE, message="Ringte skyldner")

    response = admin_client.get(
        reverse("admin:collections_cases_collectioncase_change", args=[case.pk])
    )

    assert response.status_code == 200
    assert "Ringte skyldner" in response.text
    assert "kr 1\u00a0000,00" in response.text


def test_no_add_or_delete_of_cases(admin_client):
    assert (
        admin_client.get(reverse("admin:collections_cases_collectioncase_add")).status_code == 403
    )


def test_pause_action_asks_for_reason_then_pauses(admin_client):
    cases = [CollectionCaseFactory(), CollectionCaseFactory()]

    page = run_action(admin_client, "pause_cases", cases)
    assert page.status_code == 200
    assert 'name="reason"' in page.text and 'name="until"' in page.text
    assert cases[0].number in page.text

    done = run_action(
        admin_client, "pause_cases", cases, apply="1", reason="Avtale", until="2099-01-01"
    )

    assert done.status_code == 200
    assert "2 saker er satt på vent." in messages_of(done)
    for case in cases:
        case.refresh_from_db()
        assert case.status == Status.PAUSED
        assert case.pause_reason == "Avtale"
        assert str(case.paused_until) == "2099-01-01"
        assert CaseEvent.objects.get(case=case).actor == admin_client.staff


def test_action_without_reason_shows_the_form_again(admin_client):
    case = CollectionCaseFactory()

    page = run_action(admin_client, "withdraw_cases", [case], apply="1", reason="")

    assert page.status_code == 200
    assert 'name="reason"' in page.text
    case.refresh_from_db()
    assert case.status == Status.ACTIVE


def test_withdraw_and_dispute_actions(admin_client):
    a, b = CollectionCaseFactory(), CollectionCaseFactory()

    run_action(admin_client, "withdraw_cases", [a], apply="1", reason="Feil sendt")
    run_action(admin_client, "mark_cases_disputed", [b], apply="1", reason="Bestrider")

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.close_reason) == (Status.CLOSED, CollectionCase.CloseReason.WITHDRAWN)
    assert (b.status, b.dispute_reason) == (Status.DISPUTED, "Bestrider")


def test_resume_reports_refused_cases_as_messages(admin_client):
    paused = CollectionCaseFactory(status=Status.PAUSED, held_status=Status.ACTIVE)
    active = CollectionCaseFactory()

    response = run_action(admin_client, "resume_cases", [paused, active])

    assert response.status_code == 200
    texts = messages_of(response)
    assert "1 sak er gjenopptatt." in texts
    assert any(active.number in t and "«Pågående»" in t for t in texts)
    paused.refresh_from_db()
    assert paused.status == Status.ACTIVE


def test_approve_legal_action(admin_client):
    waiting = CollectionCaseFactory(
        status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.LEGAL
    )
    closed = CollectionCaseFactory(status=Status.CLOSED)

    response = run_action(admin_client, "approve_legal_steps", [waiting, closed])

    waiting.refresh_from_db()
    assert waiting.status == Status.LEGAL
    texts = messages_of(response)
    assert "Rettslige tiltak er godkjent for 1 sak." in texts
    assert any(closed.number in t for t in texts)


def test_invoice_and_debtor_admin_search(admin_client):
    debtor = DebtorFactory(name="Berg Bakeri", org_number="923609016")
    InvoiceFactory(debtor=debtor, invoice_no=42424)

    invoices = admin_client.get(
        reverse("admin:collections_cases_invoice_changelist"), {"q": "42424"}
    )
    debtors = admin_client.get(reverse("admin:creditors_debtor_changelist"), {"q": "Berg"})
    debtors_by_text = admin_client.get(
        reverse("admin:creditors_debtor_changelist"), {"q": "923609016"}
    )

    assert invoices.status_code == debtors.status_code == 200
    assert [i.invoice_no for i in invoices.context["cl"].result_list] == [42424]
    assert list(debtors.context["cl"].result_list) == [debtor]
    assert list(debtors_by_text.context["cl"].result_list) == [debtor]
    change = admin_client.get(reverse("admin:creditors_debtor_change", args=[debtor.pk]))
    assert change.status_code == 200


# Letters and "Kjør neste steg nå" -------------------------------------------------------------

OPENED = dt.date(2025, 12, 1)
DUE = dt.date(2025, 11, 14)


def test_change_page_lists_the_letters_read_only(admin_client):
    case = CollectionCaseFactory()
    Letter.objects.create(
        case=case,
        kind=Letter.Kind.INKASSOVARSEL,
        step="inkassovarsel",
        sent_on=dt.date(2025, 12, 1),
        deadline=dt.date(2025, 12, 15),
        fee=Decimal("35.00"),
    )

    response = admin_client.get(
        reverse("admin:collections_cases_collectioncase_change", args=[case.pk])
    )

    assert response.status_code == 200
    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    letters = formsets["letters"]
    assert list(letters.readonly_fields) == ["kind", "step", "sent_on", "deadline", "fee", "status"]
    assert not letters.has_add_permission and not letters.has_change_permission
    assert not letters.has_delete_permission
    text = response.text
    for shown in ["Inkassovarsel", "1. desember 2025", "15. desember 2025", "35,00", "Registrert"]:
        assert shown in text, shown
    assert 'name="letters-0-fee"' not in text


def test_run_next_step_now_takes_each_selected_case_s_due_step(admin_client):
    due = open_case(opened_on=OPENED, due=DUE)
    not_due = open_case(opened_on=OPENED, due=DUE)
    with on_day(OPENED):
        dunning.dunning_case_step(case=not_due, on=OPENED)  # IV sent, BO due 18.12

    with on_day(OPENED, hour=15):
        response = run_action(admin_client, "run_next_step_now", [due, not_due])

    assert response.status_code == 200
    texts = messages_of(response)
    assert f"Sak {due.number}: inkassovarsel registrert." in texts
    assert (
        f"Sak {not_due.number}: ingen steg forfaller 01.12.2025. Skal steget tas før datoen, "
        "velg «Kjør neste steg nå, også før datoen (med årsak)»." in texts
    )
    assert Letter.objects.filter(case=due, kind=Letter.Kind.INKASSOVARSEL).count() == 1
    assert Letter.objects.filter(case=not_due).count() == 1
    due.refresh_from_db()
    assert due.next_action == CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING


def test_run_next_step_now_uses_today_in_oslo(admin_client):
    case = open_case(opened_on=OPENED, due=DUE)

    # 23:30 UTC on 30.11 is already 01.12 in Oslo, the day the IV is due
    with time_machine.travel(dt.datetime(2025, 11, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        run_action(admin_client, "run_next_step_now", [case])

    assert Letter.objects.get(case=case).sent_on == OPENED


def test_run_next_step_now_reports_errors_per_case_and_never_fails(admin_client, monkeypatch):
    refused = open_case(opened_on=OPENED, due=DUE)
    broken = open_case(opened_on=OPENED, due=DUE)
    fine = open_case(opened_on=OPENED, due=DUE)
    real = dunning_batch._inkassovarsel

    def step(facts, plan, on):
        if facts.case.pk == refused.pk:
            raise ApplicationError("Skyldneren er konkurs.")
        if facts.case.pk == broken.pk:
            raise RuntimeError("boom")
        return real(facts, plan, on)

    monkeypatch.setattr(dunning_batch, "_inkassovarsel", step)
    with on_day(OPENED, hour=15):
        response = run_action(admin_client, "run_next_step_now", [refused, broken, fine])

    assert response.status_code == 200
    texts = messages_of(response)
    assert f"Sak {refused.number}: Skyldneren er konkurs." in texts
    assert f"Sak {broken.number}: neste steg feilet; se loggen." in texts
    assert f"Sak {fine.number}: inkassovarsel registrert." in texts
    assert not Letter.objects.filter(case__in=[refused, broken]).exists()
    assert Letter.objects.filter(case=fine).count() == 1

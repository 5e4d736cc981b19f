"""«Kjør neste steg nå, også før datoen»: a case handler runs a step early with a reason; the
legal holds stay."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from collections_cases.dunning import services as dunning
from collections_cases.models import CaseEvent, CollectionCase, Letter
from tests.collections_cases.dunning_support import on_day, open_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:collections_cases_collectioncase_changelist")
OPENED = dt.date(2025, 12, 1)
DUE = dt.date(2025, 11, 14)
LATER = dt.date(2025, 12, 5)  # the BO is due 18.12 at the earliest


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True, first_name="Kari", last_name="Nordmann")
    client.force_login(staff)
    client.staff = staff
    return client


def iv_sent_case():
    case = open_case(opened_on=OPENED, due=DUE)
    with on_day(OPENED):
        dunning.dunning_case_step(case=case, on=OPENED)
    case.refresh_from_db()
    assert case.next_action_date > LATER
    return case


def run_early(client, case, reason):
    with on_day(LATER, hour=15):
        response = client.post(
            CHANGELIST,
            {
                "action": "run_next_step_early",
                "_selected_action": [case.pk],
                "apply": "1",
                "reason": reason,
            },
            follow=True,
        )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)], response


def test_a_step_not_yet_due_runs_early_with_who_and_why_recorded(admin_client):
    case = iv_sent_case()
    planned = case.next_action_date

    texts, _ = run_early(admin_client, case, "Kreditor ba om fortgang, avtalt på telefon")

    assert texts == [f"Sak {case.number}: betalingsoppfordring registrert."]
    letter = Letter.objects.get(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING)
    assert letter.sent_on == LATER
    early = CaseEvent.objects.get(case=case, data__early=True)
    assert early.actor == admin_client.staff
    assert "Kreditor ba om fortgang" in early.message
    assert planned.strftime("%d.%m.%Y") in early.message
    assert early.data["planned"] == planned.isoformat()


def test_without_a_reason_nothing_runs_and_the_form_asks_again(admin_client):
    case = iv_sent_case()

    texts, response = run_early(admin_client, case, "  ")

    assert texts == []
    assert 'name="reason"' in response.text
    assert not Letter.objects.filter(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING).exists()


def test_an_unverified_creditor_s_case_is_still_held(admin_client):
    case = iv_sent_case()
    planned = case.next_action_date
    type(case.creditor).objects.filter(pk=case.creditor_id).update(verified_at=None)

    texts, _ = run_early(admin_client, case, "Haster")

    assert len(texts) == 1 and "ikke verifisert" in texts[0]
    assert not Letter.objects.filter(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING).exists()
    case.refresh_from_db()
    assert case.next_action_date == planned
    assert not CaseEvent.objects.filter(case=case, data__early=True).exists()


def test_a_time_barred_claim_is_held_not_stepped(admin_client):
    case = iv_sent_case()
    CollectionCase.objects.filter(pk=case.pk).update(limitation_date=LATER)

    texts, _ = run_early(admin_client, case, "Haster")

    assert texts == [f"Sak {case.number}: stanset: kravet er foreldet."]
    assert not Letter.objects.filter(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING).exists()
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.PAUSED


def test_a_step_needing_an_unknown_rate_is_refused_and_nothing_changes(admin_client):
    opened, due = dt.date(2026, 12, 28), dt.date(2026, 12, 1)
    case = open_case(opened_on=opened, due=due, amount="3000.00")
    with on_day(opened):
        dunning.dunning_case_step(case=case, on=opened)
    case.refresh_from_db()
    planned = case.next_action_date
    run_on = dt.date(2027, 1, 4)  # no forsinkelsesrente for 2027 in the tables yet
    assert planned > run_on

    with on_day(run_on, hour=15):
        admin_client.force_login(admin_client.staff)  # the session would have expired
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "run_next_step_early",
                "_selected_action": [case.pk],
                "apply": "1",
                "reason": "Haster",
            },
            follow=True,
        )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        f"Sak {case.number}: holdt tilbake: renten eller satsen for dagen er ikke kjent ennå"
    ]
    case.refresh_from_db()
    assert case.next_action_date == planned
    assert Letter.objects.filter(case=case).count() == 1
    assert not CaseEvent.objects.filter(case=case, data__early=True).exists()

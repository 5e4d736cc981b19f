"""*Trenger deg* lists every pending decision with its action, and decides payment plans and
legal steps in place: through the same services, case by case, scoped to the user's creditors."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collections_cases.dashboard import selectors as sel
from collections_cases.models import CollectionCase, PaymentPlan, Settlement
from collections_cases.plans import services as plan_services
from tests.dashboard.builders import case, settlement
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
Status = CollectionCase.Status
PlanStatus = PaymentPlan.Status
BACK = reverse("dashboard") + "#trenger-deg"
LEGAL_URL = reverse("dashboard_legal_approve")


def legal(creditor):
    return case(
        creditor, status=Status.AWAITING_APPROVAL, approval_kind="legal", stage="varsel_rettslig"
    )


def plan_request(creditor):
    return plan_services.payment_plan_request(
        case=case(creditor),
        instalment_count=3,
        first_due=timezone.localdate() + dt.timedelta(days=10),
        actor="Skyldner (Min side)",
    )


def plan_url(plan, decision):
    return reverse("dashboard_plan_decide", args=[plan.pk, decision])


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_kind_of_pending_decision_appears_with_its_action(logged_in_client, creditor):
    today = timezone.localdate()
    plan = plan_request(creditor)
    waiting_legal = legal(creditor)
    case(creditor, status=Status.AWAITING_APPROVAL, approval_kind="payment_demand")
    case(creditor, status=Status.AWAITING_APPROVAL, approval_kind="start")
    case(creditor, status=Status.DISPUTED)
    near = case(creditor, limitation_date=today + dt.timedelta(days=20))
    nowhere = case(creditor)
    nowhere.debtor.email = ""
    nowhere.debtor.reminder_email = ""
    nowhere.debtor.save()
    blocked = settlement(
        creditor, on=today, payout="10.00", voucher_status=Settlement.VoucherStatus.BLOCKED
    )
    creditor.payout_hold_until = today + dt.timedelta(days=3)
    creditor.save()

    html = logged_in_client.get(reverse("dashboard")).content.decode()

    expected = {
        "payment_plan_requested": plan_url(plan, "godta"),
        "approval_legal": f'name="case" value="{waiting_legal.pk}"',
        "approval_payment_demand": "#handlinger",
        "approval_start": "#handlinger",
        "disputed": "Se innsigelsen",
        "limitation_near": reverse("case_detail", args=[near.pk]),
        "debtor_contact": reverse("debtor_detail", args=[nowhere.debtor.pk]),
        "settlement_blocked": f"/utbetalinger/{blocked.pk}/",
        "payout_held": reverse("settlement_list") + "#kontonummer-endret",
        "connection_missing": "Gi tilgang",
    }
    for kind, action in expected.items():
        start = html.index(f'data-task="{kind}"')
        end = html.find("data-task=", start + 10)
        assert action in html[start : end if end != -1 else None], kind
    assert plan_url(plan, "avsla") in html
    assert 'name="scope" value="all"' in html and "Godkjenn alle (1)" in html


def test_plan_task_describes_the_request():
    creditor = MembershipFactory().creditor
    plan = plan_request(creditor)

    [task] = [
        t for t in sel.dashboard_tasks(creditor=creditor) if t.kind.startswith("payment_plan")
    ]

    first = plan.instalments.order_by("number").first().due_date.strftime("%d.%m.%Y")
    assert task.items[0].detail == f"3 avdrag fra {first}, til sammen kr 1\xa0000,00"
    assert task.items[0].plan_id == plan.pk


def test_accepting_a_plan_in_trenger_deg(logged_in_client, creditor):
    plan = plan_request(creditor)

    response = logged_in_client.post(plan_url(plan, "godta"), {f"plan{plan.pk}-note": ""})

    assert response.status_code == 302 and response["Location"] == BACK
    plan.refresh_from_db()
    plan.case.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    assert plan.case.status == Status.PAUSED
    html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert 'data-task="payment_plan_requested"' not in html


def test_declining_needs_a_reason_and_shows_why_not(logged_in_client, creditor):
    plan = plan_request(creditor)

    response = logged_in_client.post(plan_url(plan, "avsla"), {f"plan{plan.pk}-note": ""})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REQUESTED
    assert texts(response) == [f"{plan.case.number}: Skriv hvorfor betalingsplanen avslås."]

    logged_in_client.post(plan_url(plan, "avsla"), {f"plan{plan.pk}-note": "For lange avdrag"})
    plan.refresh_from_db()
    assert (plan.status, plan.note) == (PlanStatus.DECLINED, "For lange avdrag")


def test_another_creditors_plan_is_a_404(logged_in_client, creditor):
    other = plan_request(MembershipFactory().creditor)

    assert logged_in_client.post(plan_url(other, "godta")).status_code == 404
    assert logged_in_client.post(plan_url(other, "whatever")).status_code == 404
    other.refresh_from_db()
    assert other.status == PlanStatus.REQUESTED


def test_approve_selected_legal_steps(logged_in_client, creditor):
    first, second, third = legal(creditor), legal(creditor), legal(creditor)

    response = logged_in_client.post(LEGAL_URL, {"scope": "selected", "case": [first.pk, third.pk]})

    assert response["Location"] == BACK
    statuses = {c.pk: c.status for c in CollectionCase.objects.all()}
    assert statuses[first.pk] != Status.AWAITING_APPROVAL
    assert statuses[third.pk] != Status.AWAITING_APPROVAL
    assert statuses[second.pk] == Status.AWAITING_APPROVAL
    assert texts(response) == [
        f"Rettslige tiltak er godkjent i 2 saker: {first.number}, {third.number}."
    ]


def test_approve_all_27_and_report_the_refused(logged_in_client, creditor):
    cases = [legal(creditor) for _ in range(27)]

    html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "Godkjenn alle (27)" in html
    response = logged_in_client.post(LEGAL_URL, {"scope": "all"})

    assert not CollectionCase.objects.filter(approval_kind="legal").exists()
    assert all(
        c.legal_approved_at for c in CollectionCase.objects.filter(pk__in=[c.pk for c in cases])
    )
    assert texts(response)[0].startswith("Rettslige tiltak er godkjent i 27 saker")

    # Chosen again (a stale page): each is refused with the reason, none approved twice
    logged_in_client.get(reverse("dashboard"))  # shows (and so clears) the messages
    again = logged_in_client.post(LEGAL_URL, {"case": [cases[0].pk]})
    [message] = texts(again)
    assert message.startswith(f"1 sak ble ikke godkjent: {cases[0].number}: ")


def test_a_start_approval_chosen_for_legal_steps_is_refused(logged_in_client, creditor):
    start = case(creditor, status=Status.AWAITING_APPROVAL, approval_kind="start")
    waiting = legal(creditor)

    response = logged_in_client.post(LEGAL_URL, {"case": [start.pk, waiting.pk]})

    start.refresh_from_db()
    assert start.status == Status.AWAITING_APPROVAL and start.approval_kind == "start"
    assert texts(response) == [
        f"Rettslige tiltak er godkjent i 1 sak: {waiting.number}.",
        f"1 sak ble ikke godkjent: {start.number}: Sak {start.number} venter på godkjenning "
        "av oppstart, ikke av rettslige tiltak.",
    ]


def test_another_creditors_case_makes_the_whole_bulk_a_404(logged_in_client, creditor):
    mine = legal(creditor)
    theirs = legal(MembershipFactory().creditor)

    response = logged_in_client.post(LEGAL_URL, {"case": [mine.pk, theirs.pk]})

    assert response.status_code == 404
    assert CollectionCase.objects.filter(approval_kind="legal").count() == 2


def test_approve_all_takes_only_the_active_creditors_cases(logged_in_client, creditor):
    theirs = legal(MembershipFactory().creditor)
    legal(creditor)

    logged_in_client.post(LEGAL_URL, {"scope": "all"})

    theirs.refresh_from_db()
    assert theirs.approval_kind == "legal"


def test_nothing_chosen_says_so(logged_in_client, creditor):
    waiting = legal(creditor)

    response = logged_in_client.post(LEGAL_URL, {"scope": "selected"})

    assert texts(response) == ["Velg sakene du vil godkjenne rettslige tiltak for."]
    waiting.refresh_from_db()
    assert waiting.approval_kind == "legal"


def test_the_actions_need_post_and_csrf(user, creditor):
    waiting = legal(creditor)
    plan = plan_request(creditor)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get(LEGAL_URL).status_code == 405
    assert client.post(LEGAL_URL, {"scope": "all"}).status_code == 403
    assert client.post(plan_url(plan, "godta")).status_code == 403
    waiting.refresh_from_db()
    plan.refresh_from_db()
    assert waiting.approval_kind == "legal" and plan.status == PlanStatus.REQUESTED

"""Payment plans: the request (validation, exact sums, one open plan), the decision (service,
Kundeweb, admin) and the daily check (on time, missed, completed)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse

from collections_cases.cases import services as case_services
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    PaymentPlan,
)
from collections_cases.plans import services as plans
from kravia_web.errors import ApplicationError
from tests.collections_cases.dunning_support import on_day
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
PlanStatus = PaymentPlan.Status
DAY = dt.date(2026, 11, 2)  # a Monday
DEBTOR = "Skyldner (Min side)"


def _case(amounts=("1000.00",), creditor=None):
    with on_day(DAY, hour=9):
        return open_case(creditor or MembershipFactory().creditor, amounts=amounts)


def _request(case, count=3, first_due=dt.date(2026, 11, 20)):
    with on_day(DAY, hour=10):
        return plans.payment_plan_request(
            case=case, instalment_count=count, first_due=first_due, actor=DEBTOR
        )


def _accepted(case, **kwargs):
    plan = _request(case, **kwargs)
    with on_day(DAY, hour=11):
        plans.payment_plan_accept(plan=plan, actor=UserFactory())
    plan.refresh_from_db()
    return plan


def _pay(case, amount, day):
    with on_day(day, hour=12):
        LedgerEntry.objects.create(
            case=case, kind=LedgerEntry.Kind.PAYMENT, amount=-Decimal(amount), booked_on=day
        )


def _check(day):
    with on_day(day, hour=6):
        return plans.payment_plans_check(on=day)


def _refresh(obj):
    obj.refresh_from_db()
    return obj


# --------------------------------------------------------------------------------------------
# Schedule and request
# --------------------------------------------------------------------------------------------


def test_schedule_sums_exactly_to_the_total_with_the_remainder_last():
    schedule = plans.payment_plan_schedule(
        total=Decimal("1000.00"), count=3, first_due=dt.date(2026, 1, 31)
    )

    assert [amount for _due, amount in schedule] == [
        Decimal("333.33"),
        Decimal("333.33"),
        Decimal("333.34"),
    ]
    assert sum(amount for _due, amount in schedule) == Decimal("1000.00")
    # monthly, a day the month lacks becomes its last day
    assert [due for due, _amount in schedule] == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
    ]


@pytest.mark.parametrize("count", [2, 5, 7, 11, 12])
def test_schedule_of_odd_totals_sums_exactly(count):
    total = Decimal("12345.67")
    schedule = plans.payment_plan_schedule(total=total, count=count, first_due=DAY)
    assert len(schedule) == count
    assert sum(amount for _due, amount in schedule) == total
    assert all(amount > 0 for _due, amount in schedule)


def test_request_creates_the_plan_with_instalments_and_an_event():
    case = _case(amounts=("700.00", "300.01"))

    plan = _request(case, count=3)

    assert plan.status == PlanStatus.REQUESTED
    assert plan.total == Decimal("1000.01")
    assert plan.requested_by == DEBTOR
    instalments = list(plan.instalments.values_list("number", "due_date", "amount"))
    assert instalments == [
        (1, dt.date(2026, 11, 20), Decimal("333.33")),
        (2, dt.date(2026, 12, 20), Decimal("333.33")),
        (3, dt.date(2027, 1, 20), Decimal("333.35")),
    ]
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.kind == CaseEvent.Kind.NOTE
    assert event.actor_label == DEBTOR
    assert "betalingsplan" in event.message
    assert _refresh(case).status == Status.ACTIVE  # nothing changes until it is decided


@pytest.mark.parametrize("count", [0, 1, 13])
def test_request_refuses_an_instalment_count_outside_2_to_12(count):
    case = _case()
    with pytest.raises(ApplicationError, match="mellom 2 og 12"):
        _request(case, count=count)
    assert not PaymentPlan.objects.exists()


@pytest.mark.parametrize(
    ("first_due", "message"),
    [(dt.date(2026, 11, 1), "tilbake i tid"), (dt.date(2026, 12, 15), "innen 31 dager")],
)
def test_request_refuses_a_first_date_in_the_past_or_too_far_ahead(first_due, message):
    case = _case()
    with pytest.raises(ApplicationError, match=message):
        _request(case, first_due=first_due)


def test_only_one_open_plan_per_case():
    case = _case()
    _request(case)

    with pytest.raises(ApplicationError, match="allerede en betalingsplan"):
        _request(case)
    assert PaymentPlan.objects.filter(case=case).count() == 1


def test_the_database_refuses_a_second_open_plan():
    case = _case()
    _request(case)
    with pytest.raises(IntegrityError):
        PaymentPlan.objects.create(case=case, total=Decimal("1.00"))


def test_a_declined_plan_lets_the_debtor_ask_again():
    case = _case()
    plan = _request(case)
    with on_day(DAY, hour=11):
        plans.payment_plan_decline(plan=plan, actor=UserFactory(), note="For lang tid")

    assert _request(case, count=2).status == PlanStatus.REQUESTED


@pytest.mark.parametrize("status_change", ["dispute", "close"])
def test_request_refused_on_a_disputed_or_closed_case(status_change):
    case = _case()
    with on_day(DAY, hour=9):
        if status_change == "dispute":
            case_services.case_mark_disputed(case=case, actor=DEBTOR, reason="Ikke levert")
        else:
            case_services.case_withdraw(case=case, actor=None, reason="Feil")
    with pytest.raises(ApplicationError):
        _request(case)


# --------------------------------------------------------------------------------------------
# Decision
# --------------------------------------------------------------------------------------------


def test_accept_pauses_the_case_and_records_it():
    case = _case()
    plan = _request(case)
    handler = UserFactory()

    with on_day(DAY, hour=11):
        plans.payment_plan_accept(plan=plan, actor=handler, note="OK")

    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    assert plan.decided_by == handler
    assert plan.decided_at is not None
    assert case.status == Status.PAUSED
    assert case.pause_reason == "Betalingsplan"
    assert case.next_action == ""  # escalation stops
    assert case.held_status == Status.ACTIVE
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[-2:] == [CaseEvent.Kind.PAUSED, CaseEvent.Kind.NOTE]


def test_decline_needs_a_note_and_records_it():
    case = _case()
    plan = _request(case)

    with pytest.raises(ApplicationError):
        plans.payment_plan_decline(plan=plan, actor=UserFactory(), note="  ")
    with on_day(DAY, hour=11):
        plans.payment_plan_decline(plan=plan, actor=UserFactory(), note="Betal heller alt nå")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.DECLINED
    assert plan.note == "Betal heller alt nå"
    assert _refresh(case).status == Status.ACTIVE
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert "avslått" in event.message


def test_a_decided_plan_cannot_be_decided_again():
    case = _case()
    plan = _accepted(case)
    with pytest.raises(ApplicationError, match="allerede godtatt"):
        plans.payment_plan_accept(plan=plan, actor=UserFactory())
    with pytest.raises(ApplicationError):
        plans.payment_plan_decline(plan=plan, actor=UserFactory(), note="Nei")


# --------------------------------------------------------------------------------------------
# Kundeweb
# --------------------------------------------------------------------------------------------


def _decide_url(case, plan, decision):
    return reverse("payment_plan_decide", args=[case.pk, plan.pk, decision])


def test_the_case_page_shows_the_requested_plan_with_accept_and_decline(logged_in_client, creditor):
    case = _case(creditor=creditor)
    plan = _request(case)

    body = logged_in_client.get(reverse("case_detail", args=[case.pk])).content.decode()

    assert "Betalingsplan" in body
    assert _decide_url(case, plan, "godta") in body
    assert _decide_url(case, plan, "avsla") in body
    assert "333,34" in body


def test_kundeweb_accept_and_decline(logged_in_client, creditor):
    case = _case(creditor=creditor)
    plan = _request(case)

    response = logged_in_client.post(_decide_url(case, plan, "godta"), {f"plan{plan.pk}-note": ""})

    assert response.status_code == 302
    assert _refresh(plan).status == PlanStatus.ACCEPTED
    assert _refresh(case).status == Status.PAUSED

    other = _case(creditor=creditor)
    other_plan = _request(other)
    logged_in_client.post(
        _decide_url(other, other_plan, "avsla"), {f"plan{other_plan.pk}-note": "Nei takk"}
    )
    assert _refresh(other_plan).status == PlanStatus.DECLINED
    assert _refresh(other_plan).note == "Nei takk"


def test_kundeweb_decline_without_note_is_refused_with_a_message(logged_in_client, creditor):
    case = _case(creditor=creditor)
    plan = _request(case)

    response = logged_in_client.post(_decide_url(case, plan, "avsla"), follow=True)

    assert _refresh(plan).status == PlanStatus.REQUESTED
    assert any("hvorfor" in str(m) for m in get_messages(response.wsgi_request))


def test_kundeweb_decision_is_scoped_to_the_users_creditors(logged_in_client, creditor):
    foreign = _case()
    foreign_plan = _request(foreign)
    mine = _case(creditor=creditor)

    assert logged_in_client.post(_decide_url(foreign, foreign_plan, "godta")).status_code == 404
    # a foreign plan under one of my cases is not found either
    assert logged_in_client.post(_decide_url(mine, foreign_plan, "godta")).status_code == 404
    assert logged_in_client.post(_decide_url(mine, foreign_plan, "nope")).status_code == 404
    assert _refresh(foreign_plan).status == PlanStatus.REQUESTED


def test_kundeweb_decision_is_post_only(logged_in_client, creditor):
    case = _case(creditor=creditor)
    plan = _request(case)
    assert logged_in_client.get(_decide_url(case, plan, "godta")).status_code == 405


# --------------------------------------------------------------------------------------------
# Admin
# --------------------------------------------------------------------------------------------

CHANGELIST = reverse("admin:collections_cases_paymentplan_changelist")


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_admin_accept_action(admin_client):
    case = _case()
    plan = _request(case)

    admin_client.post(
        CHANGELIST, {"action": "accept_plans", "_selected_action": [plan.pk]}, follow=True
    )

    assert _refresh(plan).status == PlanStatus.ACCEPTED
    assert _refresh(plan).decided_by == admin_client.staff
    assert _refresh(case).status == Status.PAUSED


def test_admin_decline_action_asks_for_a_reason(admin_client):
    case = _case()
    plan = _request(case)
    data = {"action": "decline_plans", "_selected_action": [plan.pk]}

    page = admin_client.post(CHANGELIST, data)
    assert page.status_code == 200
    assert "Begrunnelse" in page.content.decode()
    assert _refresh(plan).status == PlanStatus.REQUESTED

    admin_client.post(CHANGELIST, {**data, "apply": "1", "note": "Ikke nå"}, follow=True)
    assert _refresh(plan).status == PlanStatus.DECLINED
    assert _refresh(plan).note == "Ikke nå"


def test_admin_change_page_and_refused_action(admin_client):
    case = _case()
    plan = _accepted(case)

    page = admin_client.get(reverse("admin:collections_cases_paymentplan_change", args=[plan.pk]))
    assert page.status_code == 200
    response = admin_client.post(
        CHANGELIST, {"action": "accept_plans", "_selected_action": [plan.pk]}, follow=True
    )
    assert any("allerede" in str(m) for m in get_messages(response.wsgi_request))


# --------------------------------------------------------------------------------------------
# Daily check
# --------------------------------------------------------------------------------------------


def test_instalment_paid_on_time_keeps_the_case_paused():
    case = _case()
    plan = _accepted(case)  # 333.33 on 20.11, 20.12, 333.34 on 20.01
    _pay(case, "333.33", dt.date(2026, 11, 19))

    result = _check(dt.date(2026, 11, 30))

    assert result.outcomes == {plans.OUTCOME_ON_TIME: 1}
    assert _refresh(plan).status == PlanStatus.ACCEPTED
    assert _refresh(case).status == Status.PAUSED


def test_an_unpaid_instalment_within_the_grace_days_is_not_missed_yet():
    case = _case()
    plan = _accepted(case)

    _check(dt.date(2026, 11, 23))  # due 20.11 + 3 grace days

    assert _refresh(plan).status == PlanStatus.ACCEPTED
    assert _refresh(case).status == Status.PAUSED


def test_a_missed_instalment_breaks_the_plan_and_resumes_the_case():
    case = _case()
    plan = _accepted(case)
    _pay(case, "100.00", dt.date(2026, 11, 19))  # not enough

    # due Fri 20.11 + 3 banking days (23, 24, 25.11): on time until then, missed on 26.11
    with on_day(dt.date(2026, 11, 25), hour=6):
        result = plans.payment_plans_check(on=dt.date(2026, 11, 25))
    assert result.outcomes == {plans.OUTCOME_ON_TIME: 1}
    with on_day(dt.date(2026, 11, 26), hour=6):
        result = plans.payment_plans_check(on=dt.date(2026, 11, 26))

    assert result.outcomes == {plans.OUTCOME_BROKEN: 1}
    plan.refresh_from_db()
    case.refresh_from_db()
    assert plan.status == PlanStatus.BROKEN
    assert plan.ended_at is not None
    assert case.status == Status.ACTIVE
    assert case.next_action == CollectionCase.NextAction.SEND_INKASSOVARSEL
    assert case.next_action_date == dt.date(2026, 11, 26)  # escalation continues today
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert events[-1].kind == CaseEvent.Kind.RESUMED
    assert "brutt" in events[-2].message


def test_all_instalments_paid_completes_the_plan_and_resumes_the_case():
    case = _case()
    plan = _accepted(case, count=2)
    _pay(case, "500.00", dt.date(2026, 11, 20))
    _pay(case, "500.00", dt.date(2026, 12, 18))

    result = _check(dt.date(2026, 12, 19))

    assert result.outcomes == {plans.OUTCOME_COMPLETED: 1}
    assert _refresh(plan).status == PlanStatus.COMPLETED
    assert _refresh(case).status == Status.ACTIVE  # the dunning run closes it as paid
    assert any("fullført" in e.message for e in CaseEvent.objects.filter(case=case))


def test_the_check_is_idempotent_and_skips_plans_not_accepted():
    case = _case()
    _request(case)  # requested only
    other = _case()
    _accepted(other)

    first = _check(dt.date(2026, 11, 30))
    events = CaseEvent.objects.count()
    second = _check(dt.date(2026, 11, 30))

    assert first.outcomes == {plans.OUTCOME_BROKEN: 1}
    assert second.outcomes == {}
    assert CaseEvent.objects.count() == events


def test_the_command_and_the_task_run_the_check(capsys):
    from collections_cases.plans.tasks import payment_plans_check_task

    case = _case()
    plan = _accepted(case)
    with on_day(dt.date(2026, 11, 30)):
        call_command("payment_plans_check", date="2026-11-21")
    assert "on_time: 1" in capsys.readouterr().out
    assert _refresh(plan).status == PlanStatus.ACCEPTED

    with on_day(dt.date(2026, 11, 30)):
        result = payment_plans_check_task.delay("2026-11-30").get()
    assert result["outcomes"] == {plans.OUTCOME_BROKEN: 1}


def test_the_beat_schedule_runs_the_check_at_0630_oslo():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="collections_cases.payment_plans_check")
    assert (task.crontab.hour, task.crontab.minute) == ("6", "30")
    assert str(task.crontab.timezone) == "Europe/Oslo"


def test_kundeweb_confirmation_pdf_is_scoped(logged_in_client, creditor, monkeypatch):
    import sys
    import types

    monkeypatch.setitem(
        sys.modules,
        "collections_cases.letters.documents",
        types.SimpleNamespace(document_payment_plan_pdf=lambda **kwargs: b"%PDF-plan"),
    )
    mine = _case(creditor=creditor)
    plan = _accepted(mine)
    foreign = _case()
    foreign_plan = _accepted(foreign)

    url = reverse("payment_plan_pdf", args=[mine.pk, plan.pk])
    assert url in logged_in_client.get(reverse("case_detail", args=[mine.pk])).content.decode()
    assert logged_in_client.get(url).content == b"%PDF-plan"
    foreign_url = reverse("payment_plan_pdf", args=[foreign.pk, foreign_plan.pk])
    assert logged_in_client.get(foreign_url).status_code == 404
    assert (
        logged_in_client.get(
            reverse("payment_plan_pdf", args=[mine.pk, foreign_plan.pk])
        ).status_code
        == 404
    )

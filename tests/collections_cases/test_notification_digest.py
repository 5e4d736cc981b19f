"""The daily digest: in *daily* mode the event mails wait and one e-mail per creditor per day
links to *Trenger deg*; *immediate* still mails at once; *off* mails nothing."""

import datetime as dt

import pytest
from django.core import mail

from collections_cases.cases import services as case_services
from collections_cases.models import CollectionCase, CreditorNotification
from collections_cases.notifications import services
from creditors.models import Creditor
from creditors.services import creditor_create
from tests.collections_cases.factories import CollectionCaseFactory, DebtorFactory
from tests.factories import CreditorFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = CreditorNotification.Kind
Status = CreditorNotification.Status
Frequency = Creditor.NotificationFrequency
DAY = dt.date(2026, 3, 10)


def legal_cases(n, **creditor_fields):
    creditor = CreditorFactory(email="post@bedrift.no", **creditor_fields)
    return creditor, [
        CollectionCaseFactory(
            debtor=DebtorFactory(creditor=creditor, name=f"Skyldner {i}"),
            stage=CollectionCase.Stage.VARSEL_RETTSLIG,
            next_action=CollectionCase.NextAction.REQUEST_LEGAL_APPROVAL,
        )
        for i in range(n)
    ]


def request_approvals(cases, capture):
    with capture(execute=True):
        for case in cases:
            case_services.case_request_legal_approval(case=case, actor=None)


def test_27_legal_approvals_make_one_email_linking_to_trenger_deg(
    django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://kundeweb.example"
    creditor, cases = legal_cases(27, notification_frequency=Frequency.DAILY)

    request_approvals(cases, django_capture_on_commit_callbacks)

    # Nothing is mailed during the day: 27 rows wait for the digest
    assert mail.outbox == []
    assert CreditorNotification.objects.filter(status=Status.HELD).count() == 27

    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_daily_digest(on=DAY) == 1

    [message] = mail.outbox
    assert message.to == ["post@bedrift.no"]
    assert message.subject == f"{creditor.name}: 27 saker venter på deg"
    assert "https://kundeweb.example/oversikt/#trenger-deg" in message.body
    assert "Rettslige tiltak venter på godkjenning (27)" in message.body
    assert all(case.number in message.body for case in cases)
    digest = CreditorNotification.objects.get(kind=Kind.DAILY_DIGEST)
    assert digest.status == Status.SENT
    assert digest.included.count() == 27
    assert not CreditorNotification.objects.filter(status=Status.HELD).exists()

    # Run again the same day (or the next with nothing new): no second mail
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_daily_digest(on=DAY) == 0
        assert services.notifications_daily_digest(on=DAY + dt.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


def test_held_rows_are_never_sent_alone_by_the_sweep(django_capture_on_commit_callbacks):
    _creditor, cases = legal_cases(2, notification_frequency=Frequency.DAILY)
    request_approvals(cases, django_capture_on_commit_callbacks)

    services.notification_sweep()

    assert mail.outbox == []


def test_one_digest_per_creditor(django_capture_on_commit_callbacks):
    _a, cases_a = legal_cases(2, notification_frequency=Frequency.DAILY)
    _b, cases_b = legal_cases(3, notification_frequency=Frequency.DAILY)
    request_approvals(cases_a + cases_b, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_daily_digest(on=DAY) == 2

    assert sorted(len(m.body.split("\n- ")) - 1 for m in mail.outbox) == [2, 3]


def test_immediate_mode_still_mails_each_request_at_once(django_capture_on_commit_callbacks):
    _creditor, cases = legal_cases(3, notification_frequency=Frequency.IMMEDIATE)

    request_approvals(cases, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_daily_digest(on=DAY) == 0
    assert len(mail.outbox) == 3


def test_off_sends_nothing(django_capture_on_commit_callbacks):
    _creditor, cases = legal_cases(3, notification_frequency=Frequency.OFF)

    request_approvals(cases, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_daily_digest(on=DAY)

    assert mail.outbox == []
    assert not CreditorNotification.objects.exists()


def test_turning_email_off_drops_what_was_held(django_capture_on_commit_callbacks):
    creditor, cases = legal_cases(2, notification_frequency=Frequency.DAILY)
    request_approvals(cases, django_capture_on_commit_callbacks)
    Creditor.objects.filter(pk=creditor.pk).update(notification_frequency=Frequency.OFF)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_daily_digest(on=DAY) == 0

    assert mail.outbox == []


def test_a_new_creditor_gets_the_daily_digest():
    creditor = creditor_create(user=UserFactory(), org_number="923609016", name="Ny AS")

    assert creditor.notification_frequency == Frequency.DAILY


def test_daily_digest_task_is_in_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="collections_cases.delivery_tasks.daily_digest_task")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "7",
        "0",
        "Europe/Oslo",
    )


def test_a_member_may_change_the_frequency_for_the_creditor():
    # A preference about e-mail, not money or automation: not owner-only
    from creditors.permissions import OWNER_FIELDS
    from creditors.services import creditor_update_settings
    from tests.factories import MembershipFactory

    membership = MembershipFactory(role="member")
    creditor = membership.creditor

    creditor_update_settings(
        creditor=creditor,
        actor=membership.user,
        cleaned_data={"notification_frequency": Frequency.OFF},
    )

    assert "notification_frequency" not in OWNER_FIELDS
    creditor.refresh_from_db()
    assert creditor.notification_frequency == Frequency.OFF


def plan_request(capture, **creditor_fields):
    from django.utils import timezone

    from collections_cases.plans import services as plan_services
    from tests.dashboard.builders import case

    creditor = CreditorFactory(email="post@bedrift.no", **creditor_fields)
    target = case(
        creditor, principal="3000.00", debtor=DebtorFactory(creditor=creditor, name="Kari")
    )
    with capture(execute=True):
        plan_services.payment_plan_request(
            case=target,
            instalment_count=3,
            first_due=timezone.localdate() + dt.timedelta(days=5),
            actor="Skyldner (Min side)",
        )
    return target


def test_a_payment_plan_request_is_mailed_with_a_link_to_trenger_deg(
    django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://kundeweb.example"
    target = plan_request(django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.subject == f"Kari ønsker betalingsplan i sak {target.number}"
    assert "3 månedlige avdrag" in message.body and "kr 3\xa0000,00" in message.body
    assert "https://kundeweb.example/oversikt/#trenger-deg" in message.body
    assert CreditorNotification.objects.get().kind == Kind.PAYMENT_PLAN_REQUEST


def test_a_payment_plan_request_goes_in_the_daily_digest(django_capture_on_commit_callbacks):
    target = plan_request(
        django_capture_on_commit_callbacks, notification_frequency=Frequency.DAILY
    )
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_daily_digest(on=DAY)

    [message] = mail.outbox
    assert "Skyldner ønsker betalingsplan (1):" in message.body
    assert f"- {target.number} – Kari" in message.body


def test_no_plan_mail_when_switched_off(django_capture_on_commit_callbacks):
    plan_request(django_capture_on_commit_callbacks, notify_awaiting_approval=False)

    assert mail.outbox == [] and not CreditorNotification.objects.exists()


def test_the_settings_page_offers_the_frequency_to_a_member(client):
    import re

    from django.urls import reverse

    from tests.factories import MembershipFactory

    membership = MembershipFactory(role="member")
    client.force_login(membership.user)

    html = client.get(reverse("creditor_settings", args=[membership.creditor.pk])).content.decode()

    radios = re.findall(r'<input[^>]*name="notification_frequency"[^>]*>', html)
    assert len(radios) == 3
    assert not any("disabled" in radio for radio in radios)
    assert "Én samlet e-post per dag" in html

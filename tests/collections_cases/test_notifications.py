"""Creditor notifications: one e-mail per case per event to the primary address (or the
owners), none when switched off, retried when sending fails, and the weekly summary."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from collections_cases.cases import services as case_services
from collections_cases.models import CollectionCase, CreditorNotification, LedgerEntry
from collections_cases.notifications import services
from collections_cases.signals import case_changed
from tests.collections_cases.delivery_support import (
    DUE,
    OPENED,
    fake_renderer,
)
from tests.collections_cases.dunning_support import on_day, open_case, run
from tests.collections_cases.factories import CollectionCaseFactory, DebtorFactory
from tests.factories import CreditorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renderer(monkeypatch):
    return fake_renderer(monkeypatch)


Kind = CreditorNotification.Kind
Status = CreditorNotification.Status


def waiting_case(capture, **creditor_fields):
    creditor = CreditorFactory(**creditor_fields)
    debtor = DebtorFactory(creditor=creditor, name="Ola Nordmann")
    with capture(execute=True):
        return open_case(opened_on=OPENED, due=DUE, debtor=debtor, needs_approval=True)


def test_a_case_waiting_for_approval_is_mailed_once_to_the_primary_address(
    django_capture_on_commit_callbacks,
):
    case = waiting_case(django_capture_on_commit_callbacks, email="post@bedrift.no")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["post@bedrift.no"]
    assert message.subject == f"Sak {case.number} (Ola Nordmann) venter på godkjenning"
    assert f"/saker/{case.pk}/" in message.body
    notification = CreditorNotification.objects.get(case=case)
    assert (notification.kind, notification.status) == (Kind.AWAITING_APPROVAL, Status.SENT)

    # The same change reported again (a retried receiver) mails nothing more
    case_changed.send(sender=CollectionCase, case_id=case.pk, kind="created")
    assert len(mail.outbox) == 1
    assert CreditorNotification.objects.count() == 1


def test_no_mail_when_the_creditor_switched_it_off(django_capture_on_commit_callbacks):
    waiting_case(django_capture_on_commit_callbacks, notify_awaiting_approval=False)

    assert mail.outbox == [] and not CreditorNotification.objects.exists()


def test_a_started_case_sends_no_approval_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_case(opened_on=OPENED, due=DUE)

    assert mail.outbox == []


def test_without_a_primary_address_the_owners_are_mailed(django_capture_on_commit_callbacks):
    creditor = CreditorFactory(email="")
    MembershipFactory(creditor=creditor, user=UserFactory(email="eier@bedrift.no"))
    MembershipFactory(creditor=creditor, user=UserFactory(email="medlem@bedrift.no"), role="member")
    with django_capture_on_commit_callbacks(execute=True):
        open_case(
            opened_on=OPENED,
            due=DUE,
            debtor=DebtorFactory(creditor=creditor),
            needs_approval=True,
        )

    assert [m.to for m in mail.outbox] == [["eier@bedrift.no"]]


def test_a_dispute_is_mailed_with_the_reason_once_per_dispute(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(opened_on=OPENED, due=DUE, name="Kari Hansen")
    actor = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_mark_disputed(case=case, actor=actor, reason="Varen kom aldri")
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_resolve_dispute(case=case, actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_mark_disputed(case=case, actor=actor, reason="Feil beløp")

    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"Kari Hansen bestrider kravet i sak {case.number}"] * 2
    assert "Varen kom aldri" in mail.outbox[0].body and "Feil beløp" in mail.outbox[1].body
    assert CreditorNotification.objects.filter(kind=Kind.DISPUTE).count() == 2


def test_disputes_switched_off(django_capture_on_commit_callbacks):
    creditor = CreditorFactory(notify_disputes=False)
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
        case_services.case_mark_disputed(case=case, actor=UserFactory(), reason="Uenig")

    assert mail.outbox == []


def test_a_payment_demand_waiting_for_approval_is_mailed(
    django_capture_on_commit_callbacks, renderer
):
    creditor = CreditorFactory(approve_payment_demands=True, email="post@bedrift.no")
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    with django_capture_on_commit_callbacks(execute=True):
        run(OPENED)  # inkassovarsel (to the debtor)
        run(dt.date(2025, 12, 18))  # the BO waits for approval

    creditor_mail = [m for m in mail.outbox if m.to == ["post@bedrift.no"]]
    assert [m.subject for m in creditor_mail] == [
        f"Betalingsoppfordring i sak {case.number} ({case.debtor.name}) venter på godkjenning"
    ]
    assert CreditorNotification.objects.get().kind == Kind.PAYMENT_DEMAND_APPROVAL


def varsel_sent_case(**creditor_fields):
    creditor = CreditorFactory(email="post@bedrift.no", **creditor_fields)
    return CollectionCaseFactory(
        debtor=DebtorFactory(creditor=creditor, name="Per Olsen"),
        stage=CollectionCase.Stage.VARSEL_RETTSLIG,
        next_action=CollectionCase.NextAction.REQUEST_LEGAL_APPROVAL,
    )


def test_a_legal_approval_request_is_mailed(django_capture_on_commit_callbacks):
    case = varsel_sent_case()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_request_legal_approval(case=case, actor=None)

    [message] = mail.outbox
    assert message.subject == f"Sak {case.number} (Per Olsen): godkjenn rettslige tiltak"
    assert CreditorNotification.objects.get().kind == Kind.LEGAL_APPROVAL


def test_legal_requests_switched_off(django_capture_on_commit_callbacks):
    case = varsel_sent_case(notify_legal_requests=False)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_request_legal_approval(case=case, actor=None)

    assert mail.outbox == [] and not CreditorNotification.objects.exists()


# Weekly summary --------------------------------------------------------------------------------


def test_weekly_summary_numbers_and_once_per_week():
    creditor = CreditorFactory(name="Eksempel AS", email="post@bedrift.no")
    # Last week (Mon 1.12 – Sun 7.12.2025): two new cases; one pays 1 500 kr
    paid = open_case(
        opened_on=dt.date(2025, 12, 2),
        due=DUE,
        amount="2000.00",
        debtor=DebtorFactory(creditor=creditor),
    )
    open_case(
        opened_on=dt.date(2025, 12, 5),
        due=DUE,
        amount="3000.00",
        debtor=DebtorFactory(creditor=creditor),
    )
    LedgerEntry.objects.create(
        case=paid,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=Decimal("-1500.00"),
        booked_on=dt.date(2025, 12, 4),
    )
    # Earlier: one case from November, disputed
    old = open_case(
        opened_on=dt.date(2025, 11, 20),
        due=DUE,
        amount="500.00",
        debtor=DebtorFactory(creditor=creditor),
    )
    case_services.case_mark_disputed(case=old, actor=None, reason="Uenig")
    CreditorFactory(notify_weekly_summary=True)  # no cases: no summary
    quiet = CreditorFactory(notify_weekly_summary=False)
    open_case(opened_on=dt.date(2025, 12, 2), due=DUE, debtor=DebtorFactory(creditor=quiet))

    with on_day(dt.date(2025, 12, 8), hour=7):
        assert services.notifications_weekly_summary(on=dt.date(2025, 12, 8)) == 1
        assert services.notifications_weekly_summary(on=dt.date(2025, 12, 8)) == 0
    services.notification_sweep()

    [message] = mail.outbox
    assert message.to == ["post@bedrift.no"]
    assert message.subject == "Inkasso uke 49: oppsummering fra Kravia"
    body = message.body.replace("\xa0", " ")
    assert "Eksempel AS for uke 49 (01.12.2025–07.12.2025)" in body
    assert "Nye saker: 2 (hovedstol kr 5 000,00)" in body
    assert "Innbetalt: kr 1 500,00" in body
    assert "Åpne saker: 3, utestående kr 4 000,00" in body
    assert "Omtvistet: 1" in body


def test_weekly_summary_task_is_in_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    summary = PeriodicTask.objects.get(task="collections_cases.delivery_tasks.weekly_summary_task")
    assert (summary.crontab.hour, summary.crontab.minute, summary.crontab.day_of_week) == (
        "7",
        "0",
        "1",
    )
    assert str(summary.crontab.timezone) == "Europe/Oslo"
    sweep = PeriodicTask.objects.get(task="collections_cases.delivery_tasks.delivery_sweep_task")
    assert (sweep.interval.every, sweep.interval.period) == (5, "minutes")


def test_notifications_admin_lists_them(django_capture_on_commit_callbacks, client):
    case = waiting_case(django_capture_on_commit_callbacks)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/collections_cases/creditornotification/")

    assert page.status_code == 200 and case.number in page.content.decode()


def test_a_batch_of_legal_approval_requests_is_mailed_once_each(
    django_capture_on_commit_callbacks,
):
    """The dunning run's batch (one ``cases_changed``): one insert for its notifications, a
    send task per notification once it commits, nothing more when it is reported again."""
    from collections_cases.cases import changes
    from collections_cases.signals import cases_changed

    cases = [varsel_sent_case(), varsel_sent_case(notification_frequency="daily")]
    with changes.changes_collected() as collected:
        for case in cases:
            case_services.case_request_legal_approval(case=case, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        cases_changed.send(sender=CollectionCase, changes=collected)

    # The daily creditor's row waits for its digest; the other is mailed
    [message] = mail.outbox
    assert message.subject == f"Sak {cases[0].number} (Per Olsen): godkjenn rettslige tiltak"
    rows = {n.case_id: n.status for n in CreditorNotification.objects.all()}
    assert rows == {cases[0].pk: Status.SENT, cases[1].pk: Status.HELD}

    with django_capture_on_commit_callbacks(execute=True):
        cases_changed.send(sender=CollectionCase, changes=collected)
    assert len(mail.outbox) == 1
    assert CreditorNotification.objects.count() == 2

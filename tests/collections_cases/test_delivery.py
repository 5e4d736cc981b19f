"""Letter delivery: e-mail with the PDF attached after the dunning step commits, never twice,
failures retried by the sweep, post to the print queue, and staff resending a letter."""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.utils import timezone

from collections_cases.dunning.services import dunning_run
from collections_cases.dunning.tasks import dunning_run_task  # noqa: F401  (tasks import the delivery tasks)
from collections_cases.letters import documents, services
from collections_cases.models import CaseEvent, Letter, LetterDelivery
from kravia_web.errors import ApplicationError
from tests.collections_cases.delivery_support import (
    OPENED,
    fake_renderer,
    iv_case,
)
from tests.collections_cases.dunning_support import on_day, open_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renderer(monkeypatch):
    return fake_renderer(monkeypatch)


Status = LetterDelivery.Status
Channel = LetterDelivery.Channel


def delivery_events(case):
    return list(
        CaseEvent.objects.filter(
            case=case, kind=CaseEvent.Kind.LETTER_DELIVERY, data__has_key="delivery_id"
        )
        .order_by("id")
        .values_list("message", flat=True)
    )


def smtp_down(monkeypatch, times: int | None = None):
    """Make the e-mail backend raise (``times`` times, or always)."""
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    calls = {"n": 0}

    def failing(self, messages):
        calls["n"] += 1
        if times is None or calls["n"] <= times:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", failing)


def due_later(delivery):
    """Move the clock past the delivery's next attempt."""
    delivery.refresh_from_db()
    return on_day_at(delivery.next_attempt_at + dt.timedelta(seconds=1))


def on_day_at(moment):
    import time_machine

    return time_machine.travel(moment, tick=False)


# E-mail ----------------------------------------------------------------------------------------


def test_the_letter_goes_by_e_mail_to_the_reminder_address_with_the_pdf_attached(
    django_capture_on_commit_callbacks, renderer, settings
):
    case = iv_case(
        django_capture_on_commit_callbacks,
        email="ola@example.no",
        reminder_email="purring@example.no",
    )

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert (delivery.channel, delivery.recipient, delivery.status) == (
        Channel.EMAIL,
        "purring@example.no",
        Status.SENT,
    )
    assert delivery.sent_at is not None and delivery.attempts == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["purring@example.no"]
    assert "Inkassovarsel" in message.subject and case.number in message.subject
    assert case.kid in message.body and "Betalingsfrist" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and case.kid in html
    [(filename, content, content_type)] = message.attachments
    assert content_type == "application/pdf" and content.startswith(b"%PDF")
    assert filename.endswith(".pdf")
    assert message.reply_to == [settings.AGENCY_EMAIL]
    assert "1503\xa061\xa023459" in message.body and "/min-side/" in message.body
    assert delivery_events(case) == ["Inkassovarsel sendt på e-post til purring@example.no."]


def test_the_ordinary_e_mail_is_used_without_a_reminder_address(
    django_capture_on_commit_callbacks, renderer
):
    iv_case(django_capture_on_commit_callbacks, email="ola@example.no", reminder_email="")

    assert [m.to for m in mail.outbox] == [["ola@example.no"]]


def test_the_real_letter_pdf_is_attached(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")

    [(filename, content, content_type)] = mail.outbox[0].attachments
    assert content_type == "application/pdf" and content.startswith(b"%PDF")
    assert case.number in filename
    assert content == documents.letter_pdf(Letter.objects.get(case=case))


def test_running_the_task_again_sends_nothing_more(django_capture_on_commit_callbacks, renderer):
    from collections_cases.letters.tasks import deliver_letter_task, delivery_sweep_task

    case = iv_case(django_capture_on_commit_callbacks)
    delivery = LetterDelivery.objects.get(letter__case=case)

    assert deliver_letter_task.delay(delivery.pk).get() == "skipped"
    delivery_sweep_task.delay()

    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)


def test_a_claimed_row_is_left_alone_until_its_lease_runs_out(
    django_capture_on_commit_callbacks, renderer
):
    # Given a worker that claimed the row and died before recording the send
    case = open_case(opened_on=OPENED, due=dt.date(2025, 11, 14))
    with django_capture_on_commit_callbacks(execute=False):
        with on_day(OPENED):
            dunning_run(on=OPENED)
    delivery = LetterDelivery.objects.get(letter__case=case)
    assert services._claim(delivery.pk, timezone.now()) is not None

    # When the sweep runs before the lease ended, nothing is sent; after it, once
    assert services.delivery_sweep() == {}
    assert mail.outbox == []
    with due_later(delivery):
        assert services.delivery_sweep() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_smtp_failure_is_recorded_and_retried_by_the_sweep_then_sent_once(
    django_capture_on_commit_callbacks, renderer, monkeypatch
):
    smtp_down(monkeypatch, times=2)

    case = iv_case(django_capture_on_commit_callbacks)

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert delivery.status == Status.FAILED
    assert "SMTPServerDisconnected" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert mail.outbox == []
    # Not due yet: the sweep leaves it alone
    assert services.delivery_sweep() == {}
    with due_later(delivery):
        assert services.delivery_sweep() == {"failed": 1}  # second failure, backs off longer
    first_gap = dt.timedelta(minutes=1)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    with due_later(delivery):
        assert services.delivery_sweep() == {"sent": 1}
        assert services.delivery_sweep() == {}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.SENT, 3, "")
    assert len(mail.outbox) == 1
    events = delivery_events(case)
    assert len(events) == 2  # the first failure and the send; not one per retry
    assert events[0].startswith("Sending feilet: SMTPServerDisconnected")
    assert events[1].startswith("Inkassovarsel sendt på e-post")
    assert services.backoff(1) == first_gap and services.backoff(2) == 2 * first_gap


def test_a_failure_is_given_up_after_the_last_attempt_and_can_be_retried_from_the_admin(
    django_capture_on_commit_callbacks, renderer, monkeypatch
):
    smtp_down(monkeypatch)
    monkeypatch.setattr(services, "MAX_ATTEMPTS", 2)
    case = iv_case(django_capture_on_commit_callbacks)
    delivery = LetterDelivery.objects.get(letter__case=case)
    with due_later(delivery):
        services.delivery_sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (Status.FAILED, None)
    assert "Sendes ikke på nytt automatisk" in delivery_events(case)[-1]
    assert services.delivery_sweep() == {}

    monkeypatch.undo()
    assert services.delivery_retry(delivery_ids=[delivery.pk]) == 1
    services.delivery_sweep()

    delivery.refresh_from_db()
    assert delivery.status == Status.SENT and len(mail.outbox) == 1


def test_an_address_the_mail_server_refuses_is_bounced_without_retry(
    django_capture_on_commit_callbacks, renderer, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"ola@example.no": (550, b"No such user")})

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)

    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert (delivery.status, delivery.next_attempt_at) == (Status.BOUNCED, None)
    assert "550 No such user" in delivery.last_error


def test_a_rendering_failure_is_recorded_and_retried(
    django_capture_on_commit_callbacks, monkeypatch
):
    def broken(letter, **kwargs):
        raise RuntimeError("font missing")

    monkeypatch.setattr(documents, "letter_pdf_issued", broken)

    case = iv_case(django_capture_on_commit_callbacks)

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert delivery.status == Status.FAILED and "font missing" in delivery.last_error
    assert delivery.next_attempt_at is not None


def test_the_dunning_run_renders_nothing_itself(django_capture_on_commit_callbacks, monkeypatch):
    # Given a renderer that fails the test when called
    def forbidden(letter, **kwargs):
        raise AssertionError("rendered inside the dunning run")

    monkeypatch.setattr(documents, "letter_pdf", forbidden)
    monkeypatch.setattr(documents, "letter_pdf_issued", forbidden)
    case = open_case(opened_on=OPENED, due=dt.date(2025, 11, 14))

    # When the run records the letter (its commit callbacks held back)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with on_day(OPENED):
            result = dunning_run(on=OPENED)

    # Then it finished with its step, a queued delivery row, and the send waiting for commit
    assert result.steps == {"inkassovarsel": 1} and result.errors == []
    delivery = LetterDelivery.objects.get(letter__case=case)
    assert delivery.status == Status.QUEUED
    assert callbacks and mail.outbox == []


# Post and the print queue ---------------------------------------------------------------------


def test_a_debtor_without_e_mail_gets_post_in_the_print_queue(
    django_capture_on_commit_callbacks, renderer
):
    case = iv_case(
        django_capture_on_commit_callbacks,
        email="",
        reminder_email="",
        name="Kari Hansen",
        address_line="Storgata 1",
        postal_code="0155",
        postal_city="Oslo",
    )

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert (delivery.channel, delivery.status) == (Channel.POST, Status.PRINT_QUEUED)
    assert delivery.recipient == "Kari Hansen\nStorgata 1\n0155 Oslo"
    assert mail.outbox == []
    assert renderer == [delivery.letter_id]  # rendered, ready to print
    assert delivery_events(case) == [
        "Inkassovarsel lagt i utskriftskø for post til Kari Hansen, Storgata 1, 0155 Oslo."
    ]


def test_a_debtor_without_any_address_fails_visibly(django_capture_on_commit_callbacks, renderer):
    case = iv_case(django_capture_on_commit_callbacks, email="", address_line="")

    delivery = LetterDelivery.objects.get(letter__case=case)
    assert (delivery.channel, delivery.status, delivery.next_attempt_at) == (
        Channel.POST,
        Status.FAILED,
        None,
    )
    assert "mangler både e-post og postadresse" in delivery.last_error


def post_cases(capture, count):
    return [
        iv_case(
            capture,
            email="",
            address_line=f"Storgata {n}",
            postal_code="0155",
            postal_city="Oslo",
        )
        for n in range(1, count + 1)
    ]


def test_merged_pdf_holds_every_selected_letter_and_they_can_be_marked_posted(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    import io

    from pypdf import PdfReader

    settings.MEDIA_ROOT = tmp_path
    cases = post_cases(django_capture_on_commit_callbacks, 2)
    deliveries = list(LetterDelivery.objects.filter(letter__case__in=cases).order_by("pk"))

    merged = services.print_queue_pdf(deliveries=deliveries)

    single_pages = sum(
        len(PdfReader(io.BytesIO(documents.letter_pdf(d.letter))).pages) for d in deliveries
    )
    assert len(PdfReader(io.BytesIO(merged)).pages) == single_pages >= 2
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(merged)).pages)
    assert all(case.number in text for case in cases)

    staff = UserFactory(is_staff=True)
    assert services.delivery_mark_posted(deliveries=deliveries, actor=staff) == 2
    assert services.delivery_mark_posted(deliveries=deliveries, actor=staff) == 0
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.status == Status.POSTED and delivery.posted_at is not None
    assert delivery_events(cases[0])[-1].startswith("Inkassovarsel postlagt til")


def test_print_queue_admin_downloads_one_pdf_and_marks_posted(
    django_capture_on_commit_callbacks, renderer, client
):
    import io

    from pypdf import PdfReader

    cases = post_cases(django_capture_on_commit_callbacks, 3)
    ids = list(
        LetterDelivery.objects.filter(letter__case__in=cases[:2]).values_list("pk", flat=True)
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = "/admin/collections_cases/printqueueitem/"

    page = client.get(url)
    assert page.status_code == 200 and cases[2].number in page.content.decode()
    response = client.post(
        url, {"action": "download_pdf", "_selected_action": [str(pk) for pk in ids]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 2

    client.post(url, {"action": "mark_posted", "_selected_action": [str(pk) for pk in ids]})
    statuses = sorted(
        LetterDelivery.objects.filter(letter__case__in=cases).values_list("status", flat=True)
    )
    assert statuses == [Status.POSTED, Status.POSTED, Status.PRINT_QUEUED]


# Resend ---------------------------------------------------------------------------------------


def test_staff_resend_a_letter_to_another_e_mail(django_capture_on_commit_callbacks, renderer):
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")
    letter = Letter.objects.get(case=case)
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(
            letter=letter, channel=Channel.EMAIL, recipient=" ola.ny@example.no ", actor=staff
        )

    assert [m.to for m in mail.outbox] == [["ola@example.no"], ["ola.ny@example.no"]]
    resent = LetterDelivery.objects.get(letter=letter, reason=LetterDelivery.Reason.RESEND)
    assert (resent.status, resent.created_by) == (Status.SENT, staff)
    events = CaseEvent.objects.filter(case=case, data__delivery_id=resent.pk).order_by("id")
    assert [e.message for e in events] == [
        "Inkassovarsel sendes på nytt på e-post til ola.ny@example.no.",
        "Inkassovarsel sendt på e-post til ola.ny@example.no.",
    ]
    assert events[0].actor == staff
    with pytest.raises(ApplicationError):
        services.delivery_resend(
            letter=letter, channel=Channel.EMAIL, recipient="ola.ny@example.no", actor=staff
        )
    with pytest.raises(ApplicationError):
        services.delivery_resend(
            letter=letter, channel=Channel.EMAIL, recipient="ikke-en-adresse", actor=staff
        )
    assert len(mail.outbox) == 2


def test_staff_resend_a_letter_by_post_from_the_admin(
    django_capture_on_commit_callbacks, renderer, client
):
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")
    letter = Letter.objects.get(case=case)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/collections_cases/letterdelivery/resend/{letter.pk}/"
    assert client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"channel": "post", "email": "", "address": "Ola Nordmann\nLillegata 2\n5003 Bergen"},
        )

    assert response.status_code == 302
    resent = LetterDelivery.objects.get(letter=letter, channel=Channel.POST)
    assert (resent.recipient, resent.status) == (
        "Ola Nordmann\nLillegata 2\n5003 Bergen",
        Status.PRINT_QUEUED,
    )
    # The letters admin offers the same from the letter
    letters_url = "/admin/collections_cases/letter/"
    response = client.post(
        letters_url, {"action": "resend_other_address", "_selected_action": [str(letter.pk)]}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert client.get(f"{letters_url}{letter.pk}/change/").status_code == 200
    assert client.get("/admin/collections_cases/letterdelivery/").status_code == 200


def test_of_two_claims_on_one_row_only_the_first_wins(django_capture_on_commit_callbacks):
    case = open_case(opened_on=OPENED, due=dt.date(2025, 11, 14))
    with django_capture_on_commit_callbacks(execute=False):
        with on_day(OPENED):
            dunning_run(on=OPENED)
    delivery = LetterDelivery.objects.get(letter__case=case)
    now = timezone.now()

    assert services._claim(delivery.pk, now) is not None
    assert services._claim(delivery.pk, now) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENDING, 1)

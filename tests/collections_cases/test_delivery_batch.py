"""Letters sent in batches (``deliver_letters_task``, the sweep): every letter once, its
outcome and event recorded as it is known, the e-mails of a chunk over one connection, the
chunk's case changes in one ``cases_changed``, and a batch that runs long handing its rest on."""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.utils import timezone

from collections_cases.dunning.tasks import dunning_run_task  # noqa: F401  (tasks import the delivery tasks)
from collections_cases.letters import services, tasks
from collections_cases.models import CaseEvent, LetterDelivery
from collections_cases.signals import case_changed, cases_changed
from tests.collections_cases.delivery_support import DUE, OPENED, fake_renderer
from tests.collections_cases.dunning_support import on_day, open_case, run
from tests.collections_cases.test_delivery import smtp_down

pytestmark = pytest.mark.django_db

Status = LetterDelivery.Status
N = services.CLAIM_CHUNK + 5  # two chunks


@pytest.fixture
def renderer(monkeypatch):
    return fake_renderer(monkeypatch)


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """``N`` cases whose inkassovarsel the dunning run recorded; their deliveries *queued*
    (the run's on-commit task not run). Their ids, in order."""
    for i in range(N):
        open_case(opened_on=OPENED, due=DUE, email=f"skyldner{i}@example.no")
    with django_capture_on_commit_callbacks(execute=False):
        assert run(OPENED).steps == {"inkassovarsel": N}
    return list(LetterDelivery.objects.order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def signals():
    """The case changes sent: ``one`` (``case_changed``) and ``batches`` (``cases_changed``)."""
    seen = {"one": [], "batches": []}

    def one(sender, case_id, kind, **kwargs):
        seen["one"].append((case_id, kind))

    def batch(sender, changes, **kwargs):
        seen["batches"].append(list(changes))

    case_changed.connect(one, dispatch_uid="test_delivery_batch_one")
    cases_changed.connect(batch, dispatch_uid="test_delivery_batch_batch")
    yield seen
    case_changed.disconnect(dispatch_uid="test_delivery_batch_one")
    cases_changed.disconnect(dispatch_uid="test_delivery_batch_batch")


class FakeSMTP:
    """The mail server as ``smtplib.SMTP``, to Django's SMTP backend: each connection made and
    the recipients of what went over it; ``refuse`` makes the next ``sendmail`` drop the line."""

    made: list["FakeSMTP"] = []
    refuse = 0

    def __init__(self, host, port, **kwargs):
        self.sent, self.closed = [], False
        FakeSMTP.made.append(self)

    def sendmail(self, from_addr, to_addrs, message):
        if FakeSMTP.refuse:
            FakeSMTP.refuse -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        self.sent += to_addrs

    def quit(self):
        self.closed = True


@pytest.fixture
def smtp(settings, monkeypatch):
    """Django's SMTP backend talking to :class:`FakeSMTP`: the connections it made."""
    from django.core.mail.backends.smtp import EmailBackend

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    FakeSMTP.made, FakeSMTP.refuse = [], 0
    monkeypatch.setattr(EmailBackend, "connection_class", property(lambda self: FakeSMTP))
    return FakeSMTP


def test_a_batch_sends_every_letter_once_with_its_event_over_one_connection_per_chunk(
    queued, renderer, signals, smtp, django_capture_on_commit_callbacks
):
    with on_day(OPENED, hour=12), django_capture_on_commit_callbacks(execute=True):
        outcomes, rest = services.delivery_send_many(delivery_ids=queued)

    assert (dict(outcomes), rest) == ({"sent": N}, [])
    # Two chunks: two connections to the mail server (not one per letter), both closed
    assert [len(c.sent) for c in smtp.made] == [services.CLAIM_CHUNK, 5]
    assert all(c.closed for c in smtp.made)
    sent = [address for c in smtp.made for address in c.sent]
    assert sorted(sent) == sorted(f"skyldner{i}@example.no" for i in range(N))
    rows = LetterDelivery.objects.order_by("pk")
    assert [(d.status, d.attempts) for d in rows] == [(Status.SENT, 1)] * N
    events = list(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.LETTER_DELIVERY)
        .order_by("pk")
        .values_list("case_id", "data", "message")
    )
    assert [(case_id, data["delivery_id"], data["status"]) for case_id, data, _m in events] == [
        (d.letter.case_id, d.pk, Status.SENT) for d in rows
    ]
    assert events[0][2] == "Inkassovarsel sendt på e-post til skyldner0@example.no."
    # The receivers get each chunk's changes at once, never one case_changed per letter
    assert signals["one"] == []
    assert [len(batch) for batch in signals["batches"]] == [services.CLAIM_CHUNK, 5]
    assert [change for batch in signals["batches"] for change in batch] == [
        (d.letter.case_id, CaseEvent.Kind.LETTER_DELIVERY) for d in rows
    ]


def test_a_dropped_mail_connection_fails_one_letter_and_the_rest_go_on_new_ones(
    queued, renderer, smtp
):
    smtp.refuse = 1

    with on_day(OPENED, hour=12):
        outcomes, _rest = services.delivery_send_many(delivery_ids=queued[:3])

    assert dict(outcomes) == {"failed": 1, "sent": 2}
    first = LetterDelivery.objects.get(pk=queued[0])
    assert (first.status, first.attempts) == (Status.FAILED, 1)
    assert "SMTPServerDisconnected" in first.last_error
    assert [c.sent for c in smtp.made] == [[], ["skyldner1@example.no"], ["skyldner2@example.no"]]
    assert all(c.closed for c in smtp.made)


def test_the_batch_task_sends_the_run_s_letters(
    django_capture_on_commit_callbacks, renderer, signals
):
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        run(OPENED)

    assert len(mail.outbox) == 3
    assert set(LetterDelivery.objects.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(
        case_id
        for batch in signals["batches"]
        for case_id, kind in batch
        if kind == CaseEvent.Kind.LETTER_DELIVERY
    ) == sorted(c.pk for c in cases)


def test_a_failed_e_mail_is_recorded_and_the_rest_of_the_chunk_still_goes(
    queued, renderer, monkeypatch
):
    smtp_down(monkeypatch, times=1)

    with on_day(OPENED, hour=12):
        outcomes, _rest = services.delivery_send_many(delivery_ids=queued)

    assert dict(outcomes) == {"failed": 1, "sent": N - 1}
    first = LetterDelivery.objects.get(pk=queued[0])
    assert (first.status, first.attempts) == (Status.FAILED, 1)
    assert first.next_attempt_at == dt.datetime(2025, 12, 1, 11, 1, tzinfo=dt.UTC)  # 12:01 Oslo
    assert "SMTPServerDisconnected" in first.last_error
    assert len(mail.outbox) == N - 1
    # the sweep sends it once its retry is due, and nothing else again
    with on_day(OPENED, hour=13):
        assert services.delivery_sweep() == {"sent": 1}
    assert len(mail.outbox) == N


def test_rows_already_claimed_or_held_are_skipped(queued, renderer):
    from creditors.models import Creditor

    held = LetterDelivery.objects.select_related("letter__case").get(pk=queued[1])
    Creditor.objects.filter(pk=held.letter.case.creditor_id).update(verified_at=None)
    with on_day(OPENED, hour=12):
        assert services._claim(queued[0], timezone.now()) is not None  # another worker's

        outcomes, _rest = services.delivery_send_many(delivery_ids=queued)

    assert dict(outcomes) == {"skipped": 2, "sent": N - 2}
    assert LetterDelivery.objects.get(pk=queued[0]).status == Status.SENDING
    assert LetterDelivery.objects.get(pk=queued[1]).status == Status.QUEUED
    assert len(mail.outbox) == N - 2


def test_a_batch_past_its_budget_hands_the_rest_on_unclaimed(queued, renderer, monkeypatch):
    again = []
    monkeypatch.setattr(tasks, "BATCH_BUDGET", dt.timedelta(0))
    monkeypatch.setattr(tasks.deliver_letters_task, "delay", again.append)

    with on_day(OPENED, hour=12):
        outcomes = tasks.deliver_letters_task(queued)

    assert outcomes == {"sent": services.CLAIM_CHUNK}
    rest = queued[services.CLAIM_CHUNK :]
    assert again == [rest]
    assert set(LetterDelivery.objects.filter(pk__in=rest).values_list("status", "attempts")) == {
        (Status.QUEUED, 0)
    }
    with on_day(OPENED, hour=12):
        assert tasks.deliver_letters_task(rest) == {"sent": 5}
    assert len(mail.outbox) == N


def test_a_batch_sent_twice_sends_nothing_more(queued, renderer):
    with on_day(OPENED, hour=12):
        services.delivery_send_many(delivery_ids=queued)
        outcomes, _rest = services.delivery_send_many(delivery_ids=queued)

    assert dict(outcomes) == {"skipped": N}
    assert len(mail.outbox) == N


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql", reason="row locks: PostgreSQL"
)
def test_two_workers_on_the_same_batch_send_each_letter_once(renderer, monkeypatch):
    from tests.collections_cases.test_dunning_concurrency import run_together

    monkeypatch.setattr(tasks.deliver_letters_task, "delay", lambda ids: None)
    for i in range(N):
        open_case(opened_on=OPENED, due=DUE, email=f"skyldner{i}@example.no")
    run(OPENED)
    ids = list(LetterDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == N

    with on_day(OPENED, hour=12):
        results = run_together(
            [lambda: services.delivery_send_many(delivery_ids=ids) for _ in range(3)]
        )

    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(outcomes["sent"] for outcomes, _rest in results) == N
    assert set(LetterDelivery.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
    assert len(mail.outbox) == N
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.LETTER_DELIVERY).count() == N

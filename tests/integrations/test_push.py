"""Status push to PowerOffice Go through the outbox: once per change, retried after a failure,
failed (not retried forever) when Go refuses, an older status never overwriting a newer one."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases.selectors import case_balance
from collections_cases.cases.services import case_add_note, case_pause
from collections_cases.models import CollectionCase
from integrations.models import OutboxMessage, SyncRun
from integrations.services.outbox import backoff, deliver_outbox
from integrations.services.push import case_status_text
from integrations.services.queue import outbox_status
from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from tests.factories import UserFactory
from tests.integrations.test_sync import connect, fast_clients

STATUS_PATH = "/pogo/v1/DebtCollection/UpdateStatus"
Status = OutboxMessage.Status


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    return go


@pytest.fixture
def case(go):
    go.invoice(go.customer(), "1000.00")
    go.sync()
    return CollectionCase.objects.get()


def status_rows(case):
    return OutboxMessage.objects.filter(case=case, kind=OutboxMessage.Kind.UPDATE_STATUS)


def test_the_first_status_goes_out_with_the_case(case):
    [row] = status_rows(case)
    assert row.status == Status.SENT
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status_text == case_status_text(case)
    assert pogo_case.status_text.startswith(
        "Pågående: inkassovarsel. Neste steg: sende inkassovarsel"
    )
    assert pogo_case.balance_agency == Decimal("1000.00")
    assert pogo_case.status == PogoCase.Status.ACTIVE


def test_a_status_is_queued_once_per_change(go, case):
    assert outbox_status(case_id=case.pk) is None  # nothing changed

    case_pause(case=case, actor="Saksbehandler", reason="Avtale om betaling")
    case_add_note(case=case, actor="Saksbehandler", text="Ringte skyldner")  # same status

    pending = status_rows(case).filter(status=Status.PENDING)
    assert pending.count() == 1
    assert pending.get().payload["status_text"] == "Saken er satt på vent."
    deliver_outbox()
    assert PogoCase.objects.get().status_text == "Saken er satt på vent."
    assert status_rows(case).filter(status=Status.SENT).count() == 2


def test_a_status_push_is_retried_after_a_sandbox_failure(go, case):
    domain.set_fault_rule(STATUS_PATH, error_rate=1, faults=["500"])
    case_pause(case=case, actor="Saksbehandler", reason="Avtale om betaling")

    before = timezone.now()
    counts = deliver_outbox()

    row = status_rows(case).latest("pk")
    assert counts == {"retry": 1}
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert "500" in row.last_error
    assert row.next_attempt_at >= before + backoff(1)
    assert PogoCase.objects.get().status_text != "Saken er satt på vent."
    assert deliver_outbox() == {}  # not due yet

    domain.clear_faults()
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliver_outbox() == {"sent": 1}

    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and row.last_error == ""
    assert PogoCase.objects.get().status_text == "Saken er satt på vent."
    assert status_rows(case).count() == 2  # retried, never duplicated


def test_backoff_grows_exponentially_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(50) == dt.timedelta(hours=6)


def test_go_refusing_the_push_fails_the_row_and_the_admin_can_retry_it(go, case, client):
    real_id = case.pogo_case_id
    CollectionCase.objects.filter(pk=case.pk).update(pogo_case_id=uuid.uuid4())
    case_pause(case=case, actor="Saksbehandler", reason="Avtale om betaling")

    assert deliver_outbox() == {"failed": 1}
    row = status_rows(case).latest("pk")
    assert row.status == Status.FAILED
    assert row.attempts == 1
    assert row.last_error

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:integrations_outboxmessage_changelist")
    page = client.get(changelist, {"status__exact": "failed"})
    assert page.status_code == 200
    assert "Prøv igjen" in page.content.decode()
    response = client.post(
        changelist, {"action": "retry", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == 200

    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 0
    CollectionCase.objects.filter(pk=case.pk).update(pogo_case_id=real_id)
    assert deliver_outbox() == {"sent": 1}
    assert PogoCase.objects.get().status_text == "Saken er satt på vent."


def test_an_older_status_never_overwrites_a_newer_one(go, case):
    domain.set_fault_rule(STATUS_PATH, error_rate=1, faults=["503"])
    case_pause(case=case, actor="Saksbehandler", reason="Avtale", until=None)
    deliver_outbox()  # fails: stays pending
    domain.clear_faults()
    from collections_cases.cases.services import case_resume

    case_resume(case=case, actor="Saksbehandler")
    OutboxMessage.objects.update(next_attempt_at=timezone.now())

    counts = deliver_outbox()

    assert counts == {"superseded": 1, "sent": 1}
    assert PogoCase.objects.get().status_text.startswith("Pågående")


def test_a_closed_case_is_pushed_closed_with_its_reason(go, case):
    from collections_cases.cases.services import case_withdraw

    case_withdraw(case=case, actor="Kreditor", reason="Ordnet selv")
    deliver_outbox()

    pogo_case = PogoCase.objects.get()
    assert pogo_case.status == PogoCase.Status.CLOSED
    assert pogo_case.status_text == "Saken er avsluttet: trukket tilbake."


def test_admin_lists_sync_runs_with_counts_and_errors(go, client):
    go.customer("Dårlig Kunde", email_address="ikke-en-epost")
    go.sync()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get(reverse("admin:integrations_syncrun_changelist"))
    run = SyncRun.objects.get()
    detail = client.get(reverse("admin:integrations_syncrun_change", args=[run.pk]))

    assert page.status_code == detail.status_code == 200
    assert "customers: fetched 1, skipped 1" in page.content.decode()
    assert "ikke-en-epost" in detail.content.decode()


def test_a_failed_case_creation_is_retried_and_its_status_waits_for_it(go):
    domain.set_fault_rule("/pogo/v1/DebtCollection", error_rate=1, faults=["503"])
    for still_working in (
        "/pogo/v1/DebtCollection/IsActiveDebtCollection",
        "/pogo/v1/DebtCollection/Invoices",
        "/pogo/v1/DebtCollection/GetAllMatchedItems",
    ):
        domain.set_fault_rule(still_working, error_rate=0, faults=[])
    go.invoice(go.customer())

    go.sync()

    case = CollectionCase.objects.get()
    create = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CREATE_CASE)
    assert create.status == Status.PENDING and create.attempts == 1
    assert create.last_error
    [status] = status_rows(case)
    assert status.status == Status.PENDING and status.attempts == 0  # waiting, not failing
    assert not PogoCase.objects.exists()

    domain.clear_faults()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    deliver_outbox()

    case.refresh_from_db()
    pogo_case = PogoCase.objects.get()
    assert case.pogo_case_id == pogo_case.pk
    assert pogo_case.status_text == case_status_text(case)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_status_text_names_the_last_letter_its_deadline_and_the_next_step(db):
    from collections_cases.models import Letter
    from tests.collections_cases.factories import CollectionCaseFactory

    case = CollectionCaseFactory(
        status=CollectionCase.Status.ACTIVE,
        stage=CollectionCase.Stage.INKASSOVARSEL,
        next_action=CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING,
        next_action_date=dt.date(2026, 12, 18),
    )
    Letter.objects.create(
        case=case,
        kind=Letter.Kind.INKASSOVARSEL,
        step="inkassovarsel",
        sent_on=dt.date(2026, 12, 1),
        deadline=dt.date(2026, 12, 15),
    )

    assert case_status_text(case) == (
        "Inkassovarsel sendt 01.12.2026 – betalingsfrist 15.12.2026. "
        "Neste steg: sende betalingsoppfordring 18.12.2026."
    )


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("start", "Venter på kreditors godkjenning før start."),
        ("payment_demand", "Betalingsoppfordring venter på kreditors godkjenning."),
        ("legal", "Varsel om rettslig inndriving er sendt. Venter på kreditors godkjenning."),
    ],
)
def test_status_text_says_what_the_creditor_must_approve(db, kind, sentence):
    from tests.collections_cases.factories import CollectionCaseFactory

    case = CollectionCaseFactory(status=CollectionCase.Status.AWAITING_APPROVAL, approval_kind=kind)

    assert sentence in case_status_text(case)


def test_the_dunning_run_pushes_the_letter_and_the_next_step_to_go(go, case):
    from collections_cases.dunning.services import dunning_run

    dunning_run(on=timezone.localdate())
    deliver_outbox()

    case.refresh_from_db()
    letter = case.letters.get()
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status_text == case_status_text(case)
    assert pogo_case.status_text.startswith(
        f"{letter.get_kind_display()} sendt {letter.sent_on:%d.%m.%Y} – betalingsfrist "
        f"{letter.deadline:%d.%m.%Y}."
    )
    assert "Neste steg:" in pogo_case.status_text
    assert pogo_case.balance_agency == case_balance(case)


def test_the_dunning_run_pushes_a_case_it_closes_as_paid(go, case):
    """A case the run closes (with its batch) goes to Go closed; paid to the creditor
    directly, it has nothing for a settlement voucher to wait for."""
    from collections_cases.dunning.services import OUTCOME_CLOSED_PAID, dunning_run
    from collections_cases.models import LedgerEntry

    today = timezone.localdate()
    LedgerEntry.objects.create(
        case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT, amount="-1000.00", booked_on=today
    )
    result = dunning_run(on=today)
    deliver_outbox()

    assert dict(result.steps) == {OUTCOME_CLOSED_PAID: 1}
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert status_rows(case).latest("pk").payload["closed"] is True
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status == PogoCase.Status.CLOSED
    assert pogo_case.status_text == case_status_text(case)

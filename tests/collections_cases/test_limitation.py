"""Limitation (foreldelse), acted on: registration refuses or holds a time-barred claim, an
interruption moves the date, a time-barred case is held and cannot be resumed, the 60-day
flag (reference § 5; collections_cases/cases/limitation.py)."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from collections_cases.cases import limitation
from collections_cases.cases import services as case_services
from collections_cases.models import CaseEvent, CollectionCase, Invoice, LedgerEntry, Letter
from creditors.models import Debtor
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
Status = CollectionCase.Status
TODAY = dt.date(2026, 3, 16)


@pytest.fixture(autouse=True)
def march_2026():
    with time_machine.travel(dt.datetime(2026, 3, 16, 9, 0, tzinfo=OSLO), tick=False):
        yield


def make_case(*, due: dt.date, creditor=None, needs_approval=False, amount="1000.00"):
    creditor = creditor or MembershipFactory().creditor
    debtor = collectable_debtor(creditor)
    invoice = InvoiceFactory(
        debtor=debtor,
        invoice_date=due - dt.timedelta(days=14),
        due_date=due,
        total_amount=Decimal(amount),
    )
    return case_services.case_create(
        creditor=creditor,
        debtor=debtor,
        invoices=[invoice],
        actor=None,
        needs_approval=needs_approval,
    )


def limitation_events(case):
    return list(case.events.filter(kind=CaseEvent.Kind.LIMITATION).order_by("pk"))


# --------------------------------------------------------------------------------------------
# The pure helper
# --------------------------------------------------------------------------------------------


def test_a_claim_is_time_barred_on_its_limitation_date_and_after():
    due = dt.date(2023, 1, 10)
    assert limitation.claim_is_time_barred(due_date=due, on=dt.date(2026, 3, 16))
    assert limitation.claim_is_time_barred(due_date=due, on=dt.date(2026, 1, 10))
    assert not limitation.claim_is_time_barred(due_date=due, on=dt.date(2026, 1, 9))
    # An acknowledgement in 2025 starts 3 new years.
    assert not limitation.claim_is_time_barred(
        due_date=due, on=dt.date(2026, 3, 16), interrupted_on=dt.date(2025, 6, 1)
    )
    # An "interruption" before the due date changes nothing.
    assert limitation.claim_is_time_barred(
        due_date=due, on=dt.date(2026, 3, 16), interrupted_on=dt.date(2022, 12, 1)
    )


# --------------------------------------------------------------------------------------------
# Interruptions
# --------------------------------------------------------------------------------------------


def test_an_interruption_moves_the_limitation_date_three_years_after_it():
    case = make_case(due=dt.date(2025, 1, 20))
    assert case.limitation_date == dt.date(2028, 1, 20)

    case = limitation.case_record_limitation_interruption(
        case=case, on=dt.date(2026, 3, 10), reason="acknowledgement"
    )

    case.refresh_from_db()
    assert case.limitation_interrupted_on == dt.date(2026, 3, 10)
    assert case.limitation_date == dt.date(2029, 3, 10)
    (event,) = limitation_events(case)
    assert "10.03.2029" in event.message and "erkjennelse" in event.message
    assert event.data["limitation_date_before"] == "2028-01-20"
    assert event.data["interruption"] == "acknowledgement"


def test_an_older_interruption_recorded_later_never_moves_the_date_back():
    case = make_case(due=dt.date(2025, 1, 20))
    limitation.case_record_limitation_interruption(
        case=case, on=dt.date(2026, 3, 10), reason="forliksklage"
    )
    limitation.case_record_limitation_interruption(
        case=case, on=dt.date(2025, 11, 1), reason="acknowledgement"
    )
    case.refresh_from_db()
    assert case.limitation_interrupted_on == dt.date(2026, 3, 10)
    assert case.limitation_date == dt.date(2029, 3, 10)


def test_an_interruption_in_the_future_or_before_the_due_date_is_refused():
    case = make_case(due=dt.date(2025, 1, 20))
    with pytest.raises(ApplicationError, match="frem i tid"):
        limitation.case_record_limitation_interruption(
            case=case, on=dt.date(2026, 3, 17), reason="utlegg"
        )
    with pytest.raises(ApplicationError, match="før forfall"):
        limitation.case_record_limitation_interruption(
            case=case, on=dt.date(2025, 1, 19), reason="acknowledgement"
        )
    # The automatic path (a payment) just changes nothing for a date before the due date.
    with transaction.atomic():
        locked = case_services.case_lock(case_id=case.pk)
        limitation.case_limitation_interrupt(
            case=locked, on=dt.date(2025, 1, 19), reason="part_payment"
        )
    case.refresh_from_db()
    assert case.limitation_date == dt.date(2028, 1, 20)
    assert case.limitation_interrupted_on is None
    assert limitation_events(case) == []


def test_a_direct_part_payment_moves_the_limitation_date():
    case = make_case(due=dt.date(2024, 2, 1))
    assert case.limitation_date == dt.date(2027, 2, 1)

    case_services.case_register_direct_payment(
        case=case, actor=None, amount="200.00", paid_on=dt.date(2026, 3, 2)
    )

    case.refresh_from_db()
    assert case.limitation_interrupted_on == dt.date(2026, 3, 2)
    assert case.limitation_date == dt.date(2029, 3, 2)
    (event,) = limitation_events(case)
    assert event.data["interruption"] == "part_payment"


def test_a_direct_payment_of_everything_closes_without_an_interruption():
    case = make_case(due=dt.date(2024, 2, 1))
    case_services.case_register_direct_payment(
        case=case, actor=None, amount="1000.00", paid_on=dt.date(2026, 3, 2)
    )
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert case.limitation_interrupted_on is None
    assert limitation_events(case) == []


# --------------------------------------------------------------------------------------------
# Holding a time-barred case
# --------------------------------------------------------------------------------------------


def _hold(case, on=TODAY):
    with transaction.atomic():
        locked = case_services.case_lock(case_id=case.pk)
        return limitation.case_hold_time_barred(case=locked, on=on)


def test_a_time_barred_case_is_paused_with_the_reason_and_cannot_be_resumed():
    case = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.filter(pk=case.pk).update(limitation_date=dt.date(2026, 3, 16))
    case.refresh_from_db()
    next_action = case.next_action

    _hold(case)

    case.refresh_from_db()
    assert case.status == Status.PAUSED
    assert case.pause_reason.startswith("Kravet er foreldet")
    assert "16.03.2026" in case.pause_reason
    assert case.paused_until is None and case.next_action_date is None
    assert case.held_status == Status.ACTIVE and case.held_next_action == next_action
    (event,) = limitation_events(case)
    assert (event.status_from, event.status_to) == (Status.ACTIVE, Status.PAUSED)

    with pytest.raises(ApplicationError, match="foreldet"):
        case_services.case_resume(case=case, actor="Saksbehandler")
    case.refresh_from_db()
    assert case.status == Status.PAUSED

    # Holding it again changes nothing and writes nothing.
    _hold(case)
    assert len(limitation_events(case)) == 1


def test_a_scheduled_resume_of_a_time_barred_case_holds_it_instead():
    case = make_case(due=dt.date(2023, 4, 1))
    case_services.case_pause(
        case=case, actor=None, reason="Venter på svar", until=dt.date(2026, 4, 1)
    )
    CollectionCase.objects.filter(pk=case.pk).update(limitation_date=dt.date(2026, 3, 16))

    case_services.case_resume(case=case, actor=None)

    case.refresh_from_db()
    assert case.status == Status.PAUSED
    assert limitation.case_is_held_time_barred(case)
    assert case.paused_until is None and case.next_action == ""
    assert case.held_status == Status.ACTIVE


def test_after_an_interruption_the_held_case_resumes_or_is_closed_as_time_barred():
    case = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.filter(pk=case.pk).update(limitation_date=dt.date(2026, 3, 16))
    case.refresh_from_db()
    _hold(case)

    limitation.case_record_limitation_interruption(
        case=case, on=dt.date(2026, 3, 16), reason="acknowledgement"
    )
    case.refresh_from_db()
    assert case.limitation_date == dt.date(2029, 3, 16)
    event = limitation_events(case)[-1]
    assert event.data["after_limitation"] is True

    case_services.case_resume(case=case, actor="Saksbehandler")
    case.refresh_from_db()
    assert case.status == Status.ACTIVE

    other = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.filter(pk=other.pk).update(limitation_date=dt.date(2026, 3, 16))
    other.refresh_from_db()
    _hold(other)
    case_services.case_close(
        case=other, actor="Saksbehandler", reason=CollectionCase.CloseReason.TIME_BARRED
    )
    other.refresh_from_db()
    assert (other.status, other.close_reason) == (Status.CLOSED, "time_barred")


def test_the_daily_check_holds_every_open_case_whose_date_is_reached():
    due_today = make_case(due=dt.date(2023, 4, 1))
    awaiting = make_case(due=dt.date(2023, 4, 1), needs_approval=True)
    paused = make_case(due=dt.date(2023, 4, 1))
    case_services.case_pause(case=paused, actor=None, reason="Ferie")
    disputed = make_case(due=dt.date(2023, 4, 1))
    case_services.case_mark_disputed(case=disputed, actor=None, reason="Uenig")
    tomorrow = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.exclude(pk=tomorrow.pk).update(limitation_date=TODAY)
    CollectionCase.objects.filter(pk=tomorrow.pk).update(limitation_date=dt.date(2026, 3, 17))

    assert limitation.limitation_hold_due(on=TODAY) == 3

    statuses = dict(CollectionCase.objects.values_list("pk", "status"))
    assert statuses[due_today.pk] == Status.PAUSED
    assert statuses[awaiting.pk] == Status.PAUSED
    assert statuses[paused.pk] == Status.PAUSED
    assert statuses[disputed.pk] == Status.DISPUTED
    assert statuses[tomorrow.pk] == Status.ACTIVE
    for case in (due_today, awaiting, paused):
        case.refresh_from_db()
        assert limitation.case_is_held_time_barred(case), case
    awaiting.refresh_from_db()
    assert awaiting.held_status == Status.AWAITING_APPROVAL
    # Nothing more to hold the second time.
    assert limitation.limitation_hold_due(on=TODAY) == 0
    assert not Letter.objects.exists()
    assert not LedgerEntry.objects.exclude(kind=LedgerEntry.Kind.PRINCIPAL).exists()


# --------------------------------------------------------------------------------------------
# Registration: refused where someone can answer, held where nobody can
# --------------------------------------------------------------------------------------------


def _invoice_payload(**overrides):
    payload = {
        "debtor": {
            "name": "Fjellheim Bygg AS",
            "number": 5001,
            "org_number": "974760673",
            "is_private_individual": False,
        },
        "invoice_number": 77001,
        "invoice_date": "2022-12-27",
        "due_date": "2023-01-10",
        "amount": "12500.00",
        "currency": "NOK",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def api(creditor, user):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from api_access.services import api_key_create

    cache.clear()
    _key, raw = api_key_create(creditor=creditor, actor=user, name="Regnskap")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    yield client
    cache.clear()


def test_the_api_refuses_a_time_barred_invoice_with_409_and_registers_nothing(api, creditor):
    response = api.post("/api/v1/invoices/", _invoice_payload(), format="json")

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["type"] == "conflict" and body["errors"] == {}
    assert "77001" in body["message"] and "foreldet" in body["message"]
    assert "10.01.2026" in body["message"]  # the limitation date
    assert not Invoice.objects.exists()
    assert not CollectionCase.objects.exists()
    assert not Debtor.objects.filter(creditor=creditor).exists()

    # The same invoice due a year later is still within the limitation: registered.
    response = api.post(
        "/api/v1/invoices/",
        _invoice_payload(invoice_date="2023-12-27", due_date="2024-01-10"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert CollectionCase.objects.get().limitation_date == dt.date(2027, 1, 10)


def test_kundeweb_reports_a_time_barred_invoice_and_starts_nothing_for_it(
    logged_in_client, creditor
):
    debtor = collectable_debtor(creditor, transfer_to_debt_collection_agency=True)
    barred = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2022, 12, 27), due_date=dt.date(2023, 1, 10)
    )
    fresh = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2026, 1, 15), due_date=dt.date(2026, 2, 1)
    )

    response = logged_in_client.post(
        reverse("ready_for_collection"), {"invoices": [barred.pk, fresh.pk]}, follow=True
    )

    texts = [str(m) for m in response.context["messages"]]
    assert any(
        f"Faktura {barred.invoice_no} er foreldet" in text and "10.01.2026" in text
        for text in texts
    ), texts
    barred.refresh_from_db()
    fresh.refresh_from_db()
    assert barred.case_id is None
    assert fresh.case_id is not None  # the debtor's other invoice still goes
    assert fresh.case.limitation_date == dt.date(2029, 2, 1)


def _released(invoice):
    from types import SimpleNamespace

    return SimpleNamespace(
        id=invoice.pogo_id,
        last_reminder_sent_date=None,
        last_reminder_due_date=None,
        last_reminder_voucher_type=None,
    )


class FakeGo:
    def __init__(self, *invoices):
        self.invoices = invoices

    def dc_is_active(self):  # the sync asks first whether it may create cases
        return True

    def dc_available_invoices(self, on_unreadable=None):
        return [_released(invoice) for invoice in self.invoices]


def _go(creditor):
    from integrations.models import PowerOfficeConnection

    creditor.auto_start_released_invoices = True
    creditor.approve_cases_before_start = False
    creditor.save()
    return PowerOfficeConnection.objects.create(
        creditor=creditor, client_key="k", client_org_number=creditor.org_number
    )


def test_the_sync_holds_a_released_time_barred_invoice_for_a_case_handler(creditor):
    from integrations.services.sync import SyncLog
    from integrations.services.sync_cases import sync_released_invoices

    connection = _go(creditor)
    debtor = collectable_debtor(creditor)
    barred = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2022, 12, 27), due_date=dt.date(2023, 1, 10)
    )
    fresh = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2026, 1, 15), due_date=dt.date(2026, 2, 1)
    )

    log = SyncLog()
    sync_released_invoices(connection=connection, client=FakeGo(barred, fresh), log=log)

    barred.refresh_from_db()
    fresh.refresh_from_db()
    assert barred.case_id and fresh.case_id and barred.case_id != fresh.case_id
    held = barred.case
    assert held.status == Status.PAUSED
    assert limitation.case_is_held_time_barred(held)
    assert "10.01.2026" in held.pause_reason
    assert held.events.filter(kind=CaseEvent.Kind.LIMITATION).exists()
    assert fresh.case.status == Status.ACTIVE
    assert log.counts["released"]["held_time_barred"] == 1
    assert log.counts["released"]["cases_created"] == 1

    # The dunning run sends nothing for the held case: it is not due for any step.
    from collections_cases.dunning.services import dunning_run

    dunning_run(on=TODAY)
    assert not Letter.objects.filter(case=held).exists()
    assert not held.ledger_entries.exclude(kind=LedgerEntry.Kind.PRINCIPAL).exists()
    assert Letter.objects.filter(case=fresh.case).exists()


def test_the_daily_task_holds_time_barred_cases_before_the_dunning_run_and_the_command_too():
    from django.core.management import call_command

    from collections_cases.dunning.tasks import dunning_run_task

    case = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.filter(pk=case.pk).update(limitation_date=TODAY)

    result = dunning_run_task.delay().get()

    assert result["held_time_barred"] == 1
    case.refresh_from_db()
    assert limitation.case_is_held_time_barred(case)
    assert not Letter.objects.filter(case=case).exists()

    other = make_case(due=dt.date(2023, 4, 1))
    CollectionCase.objects.filter(pk=other.pk).update(limitation_date=TODAY)
    out = StringIO()
    call_command("limitation_check", "--date", "2026-03-16", stdout=out)
    assert "1 case(s) held" in out.getvalue()
    other.refresh_from_db()
    assert limitation.case_is_held_time_barred(other)


def test_an_invoice_released_later_never_joins_a_time_barred_case(creditor):
    from integrations.services.sync import SyncLog
    from integrations.services.sync_cases import sync_released_invoices

    connection = _go(creditor)
    debtor = collectable_debtor(creditor)
    barred = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2022, 12, 27), due_date=dt.date(2023, 1, 10)
    )
    sync_released_invoices(connection=connection, client=FakeGo(barred), log=SyncLog())
    barred.refresh_from_db()
    assert limitation.case_is_held_time_barred(barred.case)

    fresh = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2026, 1, 15), due_date=dt.date(2026, 2, 1)
    )
    sync_released_invoices(connection=connection, client=FakeGo(barred, fresh), log=SyncLog())

    fresh.refresh_from_db()
    assert fresh.case_id not in (None, barred.case_id)
    assert fresh.case.status == Status.ACTIVE
    # And the service itself refuses to add to a time-barred case.
    other = InvoiceFactory(
        debtor=debtor, invoice_date=dt.date(2026, 1, 15), due_date=dt.date(2026, 2, 2)
    )
    with pytest.raises(ApplicationError, match="foreldet"):
        case_services.case_add_invoices(case=barred.case, actor=None, invoices=[other])

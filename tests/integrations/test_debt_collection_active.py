"""``IsActiveDebtCollection``: while another agency holds the company in Go ("Inkassobyrå kan
opprette nye saker" is theirs), Go refuses to list released invoices and to create cases. The
sync asks once per run, skips that part (no retries), keeps the answer on the connection and
the integration page says what to do; when Go says true again, case creation resumes.

Through the sandbox over HTTP (``pogo_wsgi``); the sandbox refuses ``AvailableInvoices`` and
``POST DebtCollection`` while the flag is false, as Go's reference says.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from collections_cases.cases.services import case_create
from collections_cases.models import CollectionCase, Invoice
from integrations.models import OutboxMessage, PowerOfficeConnectionEvent, SyncRun
from integrations.services.outbox import deliver_outbox
from pogo_sandbox.domain.cases import set_other_agency_active
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from tests.factories import MembershipFactory
from tests.integrations.test_sync import connect, fast_clients

IS_ACTIVE = "/pogo/v1/DebtCollection/IsActiveDebtCollection"
AVAILABLE = "/pogo/v1/DebtCollection/Invoices/AvailableInvoices"
CREATE = "/pogo/v1/DebtCollection"
MESSAGE = "Et annet inkassobyrå er aktivt for dette selskapet i PowerOffice Go"


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    cache.clear()
    yield go
    cache.clear()


def page(client, go) -> str:
    user = MembershipFactory(creditor=go.creditor).user
    client.force_login(user)
    return client.get(reverse("creditor_poweroffice", args=[go.creditor.pk])).content.decode()


def test_another_agency_active_skips_case_creation_without_failing_or_retrying(go, client):
    go.invoice(go.customer())
    set_other_agency_active(go.subscription)

    run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert run.counts["released"] == {"other_agency_active": 1}
    assert go.http.statuses(IS_ACTIVE) == [200]  # asked once, not retried
    assert go.http.statuses(AVAILABLE) == []  # Go would refuse it
    assert Invoice.objects.filter(creditor=go.creditor).count() == 1  # the rest still syncs
    assert not CollectionCase.objects.exists()
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_active is False
    assert go.connection.debt_collection_checked_at is not None
    assert go.connection.last_error == ""
    assert (
        go.connection.events.filter(kind=PowerOfficeConnectionEvent.Kind.AGENCY_INACTIVE).count()
        == 1
    )
    html = page(client, go)
    assert MESSAGE in html
    assert "Innstillinger → Purring og inkasso" in html


def test_case_creation_resumes_and_the_message_goes_when_go_says_true_again(go, client):
    go.invoice(go.customer())
    set_other_agency_active(go.subscription)
    go.sync()
    go.sync()  # still false: asked again, once, and nothing else happens
    assert go.http.statuses(IS_ACTIVE) == [200, 200]
    assert (
        go.connection.events.filter(kind=PowerOfficeConnectionEvent.Kind.AGENCY_INACTIVE).count()
        == 1
    )  # a change is history, a repeat is not

    set_other_agency_active(go.subscription, False)
    run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert run.counts["released"]["cases_created"] == 1
    case = CollectionCase.objects.get()
    assert PogoCase.objects.get().pk == case.pogo_case_id
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_active is True
    assert go.connection.events.filter(kind=PowerOfficeConnectionEvent.Kind.AGENCY_ACTIVE).exists()
    assert MESSAGE not in page(client, go)


def test_a_case_started_by_hand_waits_for_go_instead_of_failing(go):
    """Kundeweb's «Klar for inkasso» queues the creation in Go; while another agency holds the
    company it is neither sent (Go would refuse it) nor counted as an attempt."""
    go.creditor.auto_start_released_invoices = False
    go.creditor.save(update_fields=["auto_start_released_invoices"])
    go.invoice(go.customer())
    go.sync()  # the invoice waits in «Klar for inkasso»
    set_other_agency_active(go.subscription)
    go.sync()
    invoice = Invoice.objects.get()
    case_create(
        creditor=go.creditor, debtor=invoice.debtor, invoices=[invoice], needs_approval=False
    )
    create = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CREATE_CASE)
    posts_before = len(go.http.statuses(CREATE))

    counts = deliver_outbox()

    create.refresh_from_db()
    assert counts.get("other_agency_active") == 1
    assert create.status == OutboxMessage.Status.PENDING
    assert create.attempts == 0 and create.last_error == ""
    assert len(go.http.statuses(CREATE)) == posts_before
    assert not PogoCase.objects.exists()

    set_other_agency_active(go.subscription, False)
    go.sync()

    create.refresh_from_db()
    assert create.status == OutboxMessage.Status.SENT
    assert PogoCase.objects.get().code == CollectionCase.objects.get().number


def test_an_unanswered_check_fails_the_run_and_lists_nothing(go):
    """Go down: the run fails like any other step (the transport's few bounded retries), and
    nothing is listed or created on a guess."""
    from pogo_sandbox import domain

    go.invoice(go.customer())
    domain.set_fault_rule(IS_ACTIVE, error_rate=1, faults=["503"])

    run = go.sync()

    assert run.status == SyncRun.Status.FAILED
    assert go.http.statuses(IS_ACTIVE) and all(s >= 500 for s in go.http.statuses(IS_ACTIVE))
    assert go.http.statuses(AVAILABLE) == []
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_active is None  # unknown, not «another agency»
    go.http.forget_violations()  # the planted 503 is not Go's v1 envelope, on purpose
    assert not CollectionCase.objects.exists()


def _asked(go) -> int:
    return len(go.http.statuses(IS_ACTIVE))


def test_a_yes_is_trusted_for_an_hour_so_a_cycle_costs_one_request_less(go):
    """Go's yes is kept for an hour (``DEBT_COLLECTION_MAX_AGE``): the syncs in between do not
    ask again (four requests a creditor a cycle, not five); then the next one asks."""
    import datetime as dt

    from integrations.models import PowerOfficeConnection
    from integrations.services.sync_cases import DEBT_COLLECTION_MAX_AGE

    go.invoice(go.customer())
    go.sync()
    asked = _asked(go)
    assert asked >= 1
    go.sync()
    go.sync()
    assert _asked(go) == asked  # trusted: not asked again
    assert len(go.http.statuses(AVAILABLE)) == 3  # still listed by every sync

    go.connection.refresh_from_db()
    PowerOfficeConnection.objects.filter(pk=go.connection.pk).update(
        debt_collection_checked_at=go.connection.debt_collection_checked_at
        - DEBT_COLLECTION_MAX_AGE
        - dt.timedelta(minutes=1)
    )
    run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert _asked(go) == asked + 1


def test_another_agency_taking_over_after_a_yes_is_found_by_the_refused_listing(go, client):
    go.sync()  # Go says yes: trusted for the hour
    asked = _asked(go)
    go.invoice(go.customer())
    set_other_agency_active(go.subscription)

    run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert run.counts["released"] == {"other_agency_active": 1}
    # Go refused the listing (v1: an error envelope), so the sync asked at once
    assert len(go.http.statuses(AVAILABLE)) == 2
    assert _asked(go) == asked + 1
    assert not CollectionCase.objects.exists()
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_active is False
    assert go.connection.last_error == ""
    assert go.connection.events.filter(
        kind=PowerOfficeConnectionEvent.Kind.AGENCY_INACTIVE
    ).exists()
    assert MESSAGE in page(client, go)
    go.sync()  # a no is asked again by every sync, and nothing is listed meanwhile
    assert _asked(go) == asked + 2
    assert len(go.http.statuses(AVAILABLE)) == 2


def test_a_refused_case_creation_makes_the_next_sync_ask(go):
    """Another agency took the company between our last yes and a case creation: Go refuses
    the creation, and the next sync asks again instead of trusting the yes for the hour."""
    go.creditor.auto_start_released_invoices = False
    go.creditor.save(update_fields=["auto_start_released_invoices"])
    go.invoice(go.customer())
    go.sync()  # yes, and the invoice waits in «Klar for inkasso»
    asked = _asked(go)
    set_other_agency_active(go.subscription)
    invoice = Invoice.objects.get()
    case_create(
        creditor=go.creditor, debtor=invoice.debtor, invoices=[invoice], needs_approval=False
    )

    deliver_outbox()

    create = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CREATE_CASE)
    assert "kan ikke opprette nye saker" in create.last_error  # Go refused it
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_checked_at is None
    go.sync()
    assert _asked(go) == asked + 1
    go.connection.refresh_from_db()
    assert go.connection.debt_collection_active is False

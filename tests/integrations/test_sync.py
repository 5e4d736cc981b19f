"""The sync with PowerOffice Go, against the in-process sandbox through real HTTP handling.

Sandbox rows play the creditor's Go company (customers, invoices, Inkasso → Godkjent, payments);
``sync_connection`` pulls them into debtors, invoices and cases.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from collections_cases.cases.selectors import case_principal_outstanding
from collections_cases.models import CaseEvent, CollectionCase, Invoice, LedgerEntry
from creditors.models import Creditor, Debtor
from integrations.clients import poweroffice_config
from integrations.models import (
    MatchedItem,
    OutboxMessage,
    PogoInvoiceState,
    PowerOfficeConnection,
    SyncCursor,
    SyncRun,
)
from integrations.poweroffice import PowerOfficeClient
from integrations.services.sync import sync_connection
from pogo_sandbox import domain
from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    GeneralLedgerAccount,
)
from pogo_sandbox.models import Customer as PogoCustomer
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import OutgoingInvoice as PogoInvoice
from tests.factories import CreditorFactory

TODAY = timezone.localdate()
LONG_AGO = TODAY - dt.timedelta(days=60)


@dataclass
class Go:
    """One creditor connected to its sandbox company."""

    company: Company
    subscription: ClientSubscription
    creditor: Creditor
    connection: PowerOfficeConnection
    http: object = None  # the pogo_wsgi state: exchanges seen
    next_number: int = 1

    def customer(self, name="Ola Nordmann", **fields) -> PogoCustomer:
        fields.setdefault("email_address", f"kunde{self.next_number}@example.no")
        customer = domain.create_customer(
            self.company, number=10000 + self.next_number, name=name, **fields
        )
        self.next_number += 1
        return customer

    def invoice(self, customer, amount="1000.00", *, due=LONG_AGO, invoice_no=None):
        invoice_no = invoice_no or 1000 + self.next_number
        self.next_number += 1
        return domain.create_invoice(
            customer,
            invoice_no=invoice_no,
            voucher_date=due - dt.timedelta(days=14),
            due_date=due,
            total_amount=Decimal(amount),
            cid=f"{invoice_no}5",
        )

    def sync(self) -> SyncRun:
        return sync_connection(connection_id=self.connection.pk)


def connect(settings, **company_fields) -> Go:
    application, _ = Application.objects.get_or_create(
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        defaults={
            "name": "Kravia Inkasso",
            "subscription_key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
            "redirect_uri_prefix": settings.SITE_URL,
        },
    )
    creditor = CreditorFactory()
    company_fields.setdefault("auto_transfer_to_agency", True)
    company = Company.objects.create(
        name=creditor.name, org_number=creditor.org_number, **company_fields
    )
    for account_no, name in ((1500, "Kundefordringer"), (1920, "Bankinnskudd")):
        GeneralLedgerAccount.objects.create(company=company, account_no=account_no, name=name)
    subscription = ClientSubscription.objects.create(
        application=application, company=company, privileges=list(DEFAULT_PRIVILEGES)
    )
    connection = PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key=subscription.client_key,
        client_name=company.name,
        client_org_number=company.org_number,
        connected_at=timezone.now(),
    )
    return Go(company, subscription, creditor, connection)


def fast_clients(monkeypatch, pogo_wsgi, settings):
    """Clients that talk to the sandbox and never really sleep (retries, rate limit)."""
    settings.POGO_SANDBOX_RATE_LIMIT = 10_000
    settings.POWEROFFICE_RATE_LIMIT_PER_SECOND = 10_000

    def build(*, client_key=None):
        return PowerOfficeClient(
            poweroffice_config(),
            client_key=client_key,
            session=pogo_wsgi.session(),
            sleep=lambda seconds: None,
        )

    import integrations.services.outbox
    import integrations.services.sync

    monkeypatch.setattr(integrations.services.sync, "poweroffice_client", build)
    monkeypatch.setattr(integrations.services.outbox, "poweroffice_client", build)


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch) -> Go:
    """Transactional: after-commit hooks (the status push) run as in production."""
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    return go


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (
            Debtor,
            Invoice,
            CollectionCase,
            LedgerEntry,
            CaseEvent,
            OutboxMessage,
            MatchedItem,
            PogoCase,
        )
    }


# --- customers, invoices, accounts ------------------------------------------------------------


def test_first_sync_mirrors_customers_invoices_and_chart_of_accounts(go):
    customer = go.customer("Kari Nordmann", is_person=True, phone_number="+47 912 34 567")
    go.invoice(customer, "1250.50")
    go.customer("Bedrift AS", transfer_to_debt_collection_agency=False)

    run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert run.counts["customers"] == {"fetched": 2, "created": 2}
    debtor = Debtor.objects.get(creditor=go.creditor, pogo_id=customer.pk)
    assert debtor.name == "Kari Nordmann"
    assert debtor.is_person
    assert debtor.phone == "+47 912 34 567"
    assert debtor.transfer_to_debt_collection_agency
    assert not Debtor.objects.get(name="Bedrift AS").transfer_to_debt_collection_agency
    invoice = Invoice.objects.get(creditor=go.creditor)
    assert invoice.debtor == debtor
    assert invoice.balance == Decimal("1250.50")
    assert invoice.due_date == LONG_AGO
    go.connection.refresh_from_db()
    assert go.connection.chart_of_accounts["1920"] == {"name": "Bankinnskudd", "is_active": True}
    assert go.connection.last_sync_at is not None
    assert run.duration is not None and run.request_count > 0


def test_running_the_sync_twice_changes_nothing(go):
    customer = go.customer()
    go.invoice(customer)
    go.invoice(customer)
    first = go.sync()
    before = snapshot()

    second = go.sync()
    third = go.sync()

    assert first.status == second.status == third.status == SyncRun.Status.OK
    assert snapshot() == before
    assert "created" not in second.counts["customers"]
    assert "updated" not in second.counts["customers"]
    # Go stamped the invoices when they moved to Åpne; that is all the second run saw.
    assert "created" not in second.counts["invoices"]
    assert "updated" not in third.counts["invoices"]
    assert second.counts["released"] == {"fetched": 0}
    assert second.counts["matched_items"] == {"fetched": 0}
    assert second.errors == third.errors == []


def test_incremental_sync_reads_only_what_changed_since_the_cursor(go):
    customers = [go.customer(f"Kunde {n}") for n in range(3)]
    for customer in customers:
        go.invoice(customer, due=TODAY + dt.timedelta(days=10))  # not overdue: no cases
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    PogoCustomer.objects.update(last_changed=an_hour_ago)
    PogoInvoice.objects.update(last_changed=an_hour_ago, balance_last_changed=an_hour_ago)
    first = go.sync()
    assert first.counts["customers"]["fetched"] == 3
    assert first.counts["invoices"]["fetched"] == 3
    cursor = SyncCursor.objects.get(connection=go.connection, resource="customers")
    assert an_hour_ago < cursor.value < timezone.now()

    PogoCustomer.objects.filter(pk=customers[1].pk).update(
        name="Kunde 1 Endret", last_changed=timezone.now()
    )
    domain.register_payment(customers[2].invoices.get(), amount=Decimal("100"), on=TODAY)
    seen = len(go.http.exchanges)
    second = go.sync()

    assert second.counts["customers"] == {"fetched": 1, "updated": 1}
    assert second.counts["invoices"] == {"fetched": 1, "updated": 1}
    assert Debtor.objects.get(pogo_id=customers[1].pk).name == "Kunde 1 Endret"
    assert Invoice.objects.get(debtor__pogo_id=customers[2].pk).balance == Decimal("900.00")
    assert second.request_count == len(go.http.exchanges) - seen
    customer_calls = [e for e in go.http.exchanges[seen:] if e.path == "/pogo/v2/Customers"]
    assert len(customer_calls) == 1


def test_a_bad_customer_is_skipped_with_its_reason_and_the_rest_syncs(go):
    go.customer("God Kunde")
    go.customer("Dårlig Kunde", email_address="ikke-en-epost")

    run = go.sync()

    assert run.status == SyncRun.Status.PARTIAL
    assert list(Debtor.objects.values_list("name", flat=True)) == ["God Kunde"]
    assert run.counts["customers"] == {"fetched": 2, "created": 1, "skipped": 1}
    [error] = run.errors
    assert error["resource"] == "customers"
    assert "ikke-en-epost" in error["reason"]


def test_invoice_of_a_customer_we_could_not_take_is_skipped(go):
    bad = go.customer("Dårlig Kunde", email_address="feil@")
    go.invoice(bad)

    run = go.sync()

    assert not Invoice.objects.exists()
    assert {e["resource"] for e in run.errors} == {"customers", "invoices", "released"}


# --- released invoices → cases ----------------------------------------------------------------


def test_released_invoices_of_a_debtor_merge_into_one_case_created_in_go(go, settings):
    customer = go.customer()
    first = go.invoice(customer, "1000.00")
    second = go.invoice(customer, "500.00")
    other = go.customer("Annen Kunde")
    go.invoice(other, "300.00")

    run = go.sync()

    assert run.counts["released"]["cases_created"] == 2
    case = CollectionCase.objects.get(debtor__pogo_id=customer.pk)
    assert case.status == CollectionCase.Status.ACTIVE
    assert set(case.invoices.values_list("pogo_id", flat=True)) == {first.pk, second.pk}
    assert case_principal_outstanding(case) == Decimal("1500.00")
    pogo_case = PogoCase.objects.get(code=case.number)
    assert case.pogo_case_id == pogo_case.pk
    assert pogo_case.external_case_url == f"{settings.SITE_URL}/saker/{case.pk}/"
    assert set(pogo_case.invoices.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert PogoCase.objects.count() == 2
    assert pogo_case.status_text  # the first status went out in the same sync
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 0


def test_an_invoice_released_later_joins_the_open_case(go):
    customer = go.customer()
    go.invoice(customer, "1000.00")
    go.sync()
    case = CollectionCase.objects.get()

    later = go.invoice(customer, "250.00")
    run = go.sync()

    assert run.counts["released"]["added_to_case"] == 1
    assert CollectionCase.objects.count() == 1
    assert case.invoices.count() == 2
    assert case_principal_outstanding(case) == Decimal("1250.00")
    pogo_case = PogoCase.objects.get()
    assert later.pk in set(pogo_case.invoices.values_list("pk", flat=True))
    assert OutboxMessage.objects.get(kind="add_invoices").status == "sent"


def test_a_customer_who_must_not_go_to_collection_never_gets_a_case(go):
    opted_out = go.customer("Ikke Inkasso", transfer_to_debt_collection_agency=False)
    invoice = go.invoice(opted_out)
    # Released in Go before the customer card was changed.
    PogoInvoice.objects.filter(pk=invoice.pk).update(debt_collection_status=domain.Status.APPROVED)
    ours = go.customer("Unntatt Her")
    go.invoice(ours)

    first = go.sync()
    second = go.sync()

    assert not CollectionCase.objects.filter(debtor__pogo_id=opted_out.pk).exists()
    assert not PogoCase.objects.filter(invoices=invoice).exists()
    assert CollectionCase.objects.filter(debtor__pogo_id=ours.pk).exists()
    [skipped] = first.errors
    assert skipped["resource"] == "released"
    assert "Ikke Inkasso" in skipped["record"]
    # Reported once, when first released; later syncs just count it.
    assert second.errors == []
    assert second.counts["released"]["opted_out"] == 1


def test_opt_out_in_kundeweb_blocks_the_case_too(go):
    customer = go.customer("Unntatt Her", transfer_to_debt_collection_agency=True)
    invoice = go.invoice(customer)
    PogoInvoice.objects.filter(pk=invoice.pk).update(debt_collection_status=domain.Status.DRAFT)
    go.sync()
    Debtor.objects.filter(pogo_id=customer.pk).update(collection_opt_out=True)
    domain.approve_drafts(go.company)

    run = go.sync()

    assert not CollectionCase.objects.exists()
    assert not PogoCase.objects.exists()
    assert [e["resource"] for e in run.errors] == ["released"]


def test_approve_cases_before_start_parks_the_case_awaiting_approval(go):
    Creditor.objects.filter(pk=go.creditor.pk).update(approve_cases_before_start=True)
    go.invoice(go.customer())

    go.sync()

    case = CollectionCase.objects.get()
    assert case.status == CollectionCase.Status.AWAITING_APPROVAL
    assert "Venter på kreditors godkjenning" in PogoCase.objects.get().status_text


def test_without_automatic_start_released_invoices_wait_for_the_creditor(go):
    Creditor.objects.filter(pk=go.creditor.pk).update(auto_start_released_invoices=False)
    invoice = go.invoice(go.customer())

    run = go.sync()

    assert not CollectionCase.objects.exists()
    assert not PogoCase.objects.exists()
    assert run.counts["released"]["waiting"] == 1
    state = PogoInvoiceState.objects.get(invoice__pogo_id=invoice.pk)
    assert state.released_at is not None
    assert Invoice.objects.get(pogo_id=invoice.pk).case is None


def test_a_case_started_by_hand_from_released_invoices_is_created_in_go(go):
    from collections_cases.cases.services import case_create

    Creditor.objects.filter(pk=go.creditor.pk).update(auto_start_released_invoices=False)
    go.invoice(go.customer())
    go.sync()
    debtor = Debtor.objects.get()

    case = case_create(
        creditor=Creditor.objects.get(pk=go.creditor.pk),
        debtor=debtor,
        invoices=list(debtor.invoices.all()),
        actor="Kreditor",
        needs_approval=False,
    )
    go.sync()

    case.refresh_from_db()
    assert case.pogo_case_id == PogoCase.objects.get(code=case.number).pk


def test_a_crash_between_creating_the_case_in_go_and_recording_it_does_not_duplicate(
    go, monkeypatch
):
    go.invoice(go.customer())
    import integrations.services.outbox as outbox

    create = PowerOfficeClient.dc_create_case

    def create_then_die(self, **kwargs):
        create(self, **kwargs)
        raise RuntimeError("the worker died before recording the answer")

    with monkeypatch.context() as patch:
        patch.setattr(PowerOfficeClient, "dc_create_case", create_then_die)
        with pytest.raises(RuntimeError):
            go.sync()
    case = CollectionCase.objects.get()
    assert case.pogo_case_id is None
    assert PogoCase.objects.count() == 1  # PoGo has it; we never recorded the answer
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED

    OutboxMessage.objects.update(next_attempt_at=timezone.now())  # the lease ran out
    outbox.deliver_outbox()

    case.refresh_from_db()
    assert PogoCase.objects.count() == 1
    assert case.pogo_case_id == PogoCase.objects.get().pk
    assert OutboxMessage.objects.get(kind="create_case").status == "sent"


# --- matched items ---------------------------------------------------------------------------


@pytest.fixture
def open_case(go):
    invoice = go.invoice(go.customer(), "1000.00")
    go.sync()
    return CollectionCase.objects.get(), invoice


def test_a_payment_in_go_reduces_the_principal_once(go, open_case):
    case, invoice = open_case
    domain.register_payment(invoice, amount=Decimal("400.00"), on=TODAY)

    run = go.sync()
    go.sync()

    assert run.counts["matched_items"]["applied"] == 1
    entry = LedgerEntry.objects.get(case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT)
    assert entry.amount == Decimal("-400.00")
    assert entry.invoice.pogo_id == invoice.pk
    assert case_principal_outstanding(case) == Decimal("600.00")
    assert MatchedItem.objects.get().outcome == MatchedItem.Outcome.APPLIED
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE


def test_a_full_payment_in_go_closes_the_case_as_paid_directly(go, open_case):
    case, invoice = open_case
    domain.register_payment(invoice, amount=Decimal("1000.00"), on=TODAY)

    go.sync()

    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.PAID_DIRECTLY
    assert LedgerEntry.objects.filter(case=case, kind="direct_payment").count() == 1


def test_a_partial_credit_note_reduces_and_a_full_credit_closes_as_credited(go, open_case):
    case, invoice = open_case
    domain.register_credit_note(invoice, amount=Decimal("200.00"), on=TODAY)
    go.sync()
    assert case_principal_outstanding(case) == Decimal("800.00")

    domain.register_credit_note(invoice, amount=Decimal("800.00"), on=TODAY)
    go.sync()

    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.CREDITED
    amounts = sorted(
        LedgerEntry.objects.filter(case=case, kind="credit_note").values_list("amount", flat=True)
    )
    assert amounts == [Decimal("-800.00"), Decimal("-200.00")]
    assert "Avsluttet" in PogoCase.objects.get().status_text or "avsluttet" in (
        PogoCase.objects.get().status_text
    )


def test_a_write_off_in_go_closes_the_case_as_written_off(go, open_case):
    case, invoice = open_case
    domain.write_off(invoice, on=TODAY)

    go.sync()

    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.WRITTEN_OFF
    assert LedgerEntry.objects.get(case=case, kind="write_off").amount == Decimal("-1000.00")
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status == PogoCase.Status.CLOSED
    assert "avskrevet" in pogo_case.status_text


def test_an_invoice_paid_in_go_without_a_matched_item_closes_its_part(go):
    customer = go.customer()
    paid = go.invoice(customer, "300.00")
    open_ = go.invoice(customer, "700.00")
    go.sync()
    case = CollectionCase.objects.get()
    # Balance 0 in Go, but no matched item reached us (e.g. settled before the case existed).
    Invoice.objects.filter(pogo_id=paid.pk).update(balance=0)

    from integrations.services.sync import SyncLog
    from integrations.services.sync_matches import settle_paid_invoices

    settle_paid_invoices(connection=go.connection, log=SyncLog())

    assert case_principal_outstanding(case) == Decimal("700.00")
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE
    assert open_.pk in set(case.invoices.values_list("pogo_id", flat=True))


# --- the command ---------------------------------------------------------------------------


def test_management_command_syncs_inline_and_prints_the_counts(go):
    go.invoice(go.customer())
    out = io.StringIO()

    call_command("poweroffice_sync", "--creditor", go.creditor.org_number, stdout=out)

    text = out.getvalue()
    assert go.creditor.name in text
    assert "customers: created 1, fetched 1" in text
    assert "released: cases_created 1, fetched 1" in text
    assert CollectionCase.objects.count() == 1


def test_management_command_refuses_an_unknown_creditor(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("poweroffice_sync", "--creditor", "999999999", stdout=io.StringIO())


def test_no_poweroffice_call_happens_inside_a_database_transaction(go, monkeypatch):
    from django.db import connection as db_connection

    customer = go.customer()
    invoice = go.invoice(customer)
    go.invoice(customer)
    go.sync()
    domain.register_payment(invoice, amount=Decimal("100.00"), on=TODAY)
    go.invoice(customer)  # joins the open case: AddInvoicesToCase
    calls = []
    send = go.http.adapter.send

    def watching(request, *args, **kwargs):
        calls.append((request.path_url.split("?")[0], db_connection.in_atomic_block))
        return send(request, *args, **kwargs)

    monkeypatch.setattr(go.http.adapter, "send", watching)

    go.sync()

    paths = {path for path, _ in calls}
    assert "/pogo/v1/DebtCollection/AddInvoicesToCase" in paths
    assert "/pogo/v1/DebtCollection/GetAllMatchedItems" in paths
    assert "/pogo/v1/DebtCollection/UpdateStatus" in paths
    assert [path for path, atomic in calls if atomic] == []

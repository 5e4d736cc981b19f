"""The batched dunning run against the same run with every case alone (a batch of one in its
own transaction, :func:`.dunning.dunning_run_per_case`): the same varied cases (every step,
creditors with and without VAT and payment-demand approval, business and consumer debtors, fee
and interest opt-outs, PoGo's own inkassovarsel, a postponed inkassovarsel, paused, disputed
and paid cases, deadlines over Christmas and New Year) run day by day in batches of 500, of 3
and of 1, and everything they write is compared: letters and their deliveries, ledger entries
to the øre, case events, next steps, status-push outbox rows, webhooks and notifications — a
case's step must not depend on the other cases of its batch. (What each step writes is
checked against the law's numbers in test_dunning_run and test_dunning_timeline.) Also: the
SQL of a batch does not grow with its size, a second run the same day changes nothing, and a
batch that fails to write leaves nothing half done."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from collections_cases.cases import services
from collections_cases.dunning import batch as dunning_batch
from collections_cases.dunning import services as dunning
from collections_cases.letters.tasks import deliver_letters_task
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    CreditorNotification,
    Invoice,
    LedgerEntry,
    Letter,
    LetterDelivery,
)
from collections_cases.signals import cases_changed
from integrations.models import OutboxMessage
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.tasks import deliver_webhook
from tests.collections_cases.dunning_support import on_day
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory, LedgerEntryFactory
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db

D = dt.date
OPENED = D(2025, 12, 1)
LAST_DAY = D(2026, 7, 10)


class _Rollback(Exception):
    pass


@pytest.fixture
def queued(monkeypatch):
    """Delivery and webhook tasks recorded instead of run (no PDFs, no HTTP)."""
    seen = {"letters": [], "webhooks": []}
    monkeypatch.setattr(deliver_letters_task, "delay", seen["letters"].extend)
    monkeypatch.setattr(deliver_webhook, "delay", seen["webhooks"].append)
    return seen


# --------------------------------------------------------------------------------------------
# The fixture: built the same way for both runs
# --------------------------------------------------------------------------------------------


def _creditor(n, **fields):
    return CreditorFactory(
        name=f"Kreditor {n} AS", email=f"kreditor{n}@example.no", org_number=f"9{n:08d}", **fields
    )


def _case(idx, creditor, dues, *, amount="10000.00", opened=OPENED, **debtor_fields):
    with on_day(opened, hour=10):
        debtor = DebtorFactory(
            creditor=creditor,
            name=f"Skyldner {idx}",
            email=f"skyldner{idx}@example.no",
            pogo_id=70_000 + idx,
            customer_number=70_000 + idx,
            **debtor_fields,
        )
        invoices = []
        for j, due in enumerate(dues):
            pogo = due.pop("pogo_iv", None) if isinstance(due, dict) else None
            due_date = due["due"] if isinstance(due, dict) else due
            invoice = InvoiceFactory(
                debtor=debtor,
                invoice_no=5000 + idx * 10 + j,
                invoice_date=due_date - dt.timedelta(days=14),
                due_date=due_date,
                total_amount=Decimal(amount) / (j + 1),
            )
            if pogo:
                invoice.last_reminder_voucher_type = dunning.POGO_IV_VOUCHER_TYPE
                invoice.last_reminder_due_date = pogo
                invoice.save()
            invoices.append(invoice)
        return services.case_create(
            creditor=creditor, debtor=debtor, invoices=invoices, needs_approval=False
        )


def build() -> list[CollectionCase]:
    vat = _creditor(1)
    no_vat_approves = _creditor(2, vat_registered=False, approve_payment_demands=True)
    no_vat = _creditor(3, vat_registered=False)
    WebhookEndpoint.objects.create(
        creditor=vat,
        url="https://hooks.example.no/kravia",
        events=["case.updated", "case.closed"],
        secret="whsec_test",  # noqa: S106
    )
    due = D(2025, 11, 14)
    cases = [
        _case(0, vat, [due]),
        _case(1, vat, [due, D(2025, 10, 20)], is_person=False),
        _case(2, no_vat_approves, [due]),
        _case(3, vat, [due], do_not_add_late_payment_fees=True),
        _case(4, vat, [due], do_not_add_late_payment_interest=True),
        _case(5, vat, [D(2025, 12, 5)]),  # not due yet: the inkassovarsel waits
        _case(6, vat, [{"due": due, "pogo_iv": D(2025, 11, 25)}]),  # PoGo's IV: BO at once
        _case(7, no_vat, [{"due": due, "pogo_iv": D(2025, 12, 10)}]),  # waits for its deadline
        _case(8, vat, [due]),  # paused until 18.12
        _case(9, vat, [due]),  # disputed
        _case(10, no_vat, [due], is_person=False),  # principal paid directly after the IV
        _case(11, no_vat, [due], amount="1234.56"),  # part paid directly
        _case(12, no_vat_approves, [due, D(2025, 11, 1)], is_person=False),
    ]
    with on_day(OPENED, hour=11):
        services.case_pause(
            case=cases[8], actor="Saksbehandler", reason="Avtale", until=D(2025, 12, 18)
        )
        services.case_mark_disputed(case=cases[9], actor="Saksbehandler", reason="Feil beløp")
        services.case_register_direct_payment(
            case=cases[11], actor="Saksbehandler", amount="234.56", paid_on=OPENED
        )
    # In PoGo (their status is pushed), except 4 and 5
    for i, case in enumerate(cases):
        if i not in (4, 5):
            CollectionCase.objects.filter(pk=case.pk).update(
                pogo_case_id=f"00000000-0000-0000-0000-{i:012d}"
            )
    return cases


def between_runs(day: dt.date, cases) -> None:
    """What people do between the runs, the same for both."""
    with on_day(day, hour=12):
        if day == D(2025, 12, 10):
            services.case_register_direct_payment(
                case=cases[10], actor="Saksbehandler", amount="10000.00", paid_on=day
            )
        if day == D(2025, 12, 19):
            services.case_approve(case=cases[2], actor="Kreditor")
        if day == D(2026, 1, 5):
            services.case_approve(case=cases[12], actor="Kreditor")


def timeline(run_function, batch_size: int, committed) -> list:
    """Run every day from the opening to ``LAST_DAY``; the results, with case indexes.
    ``committed()``: a block whose on-commit hooks run at its end, as after a commit."""
    with committed():
        cases = build()
    index = {case.pk: i for i, case in enumerate(cases)}
    results = []
    day = OPENED
    while day <= LAST_DAY:
        with on_day(day), committed():
            result = run_function(on=day, batch_size=batch_size)
        outcome = result.as_dict()
        outcome["errors"] = [(index[e["case_id"]], e["error"]) for e in outcome["errors"]]
        if outcome["steps"] or outcome["errors"] or outcome["skipped"]:
            results.append(outcome)
        with committed():
            between_runs(day, cases)
        day += dt.timedelta(days=1)
    return results, cases


# --------------------------------------------------------------------------------------------
# What both runs wrote, without ids
# --------------------------------------------------------------------------------------------


def everything(cases, queued) -> dict:
    index = {case.pk: i for i, case in enumerate(cases)}
    letter_key = {
        pk: (index[case_id], step)
        for pk, case_id, step in Letter.objects.values_list("pk", "case_id", "step")
    }
    invoice_no = dict(Invoice.objects.values_list("pk", "invoice_no"))
    delivery_key = {
        pk: letter_key[letter_id]
        for pk, letter_id in LetterDelivery.objects.values_list("pk", "letter_id")
    }

    def event_data(data):
        data = dict(data)
        if "letter_id" in data:
            data["letter_id"] = letter_key[data["letter_id"]]
        return data

    def dedupe(key):
        parts = key.split(":")
        return parts[0], len(parts)

    return {
        "cases": [
            (
                index[c.pk],
                c.status,
                c.stage,
                c.approval_kind,
                c.next_action,
                c.next_action_date,
                c.close_reason,
                c.held_status,
                c.paused_until,
            )
            for c in CollectionCase.objects.order_by("pk")
        ],
        "letters": sorted(
            (index[x.case_id], x.kind, x.step, x.sent_on, x.deadline, x.fee, x.amounts, x.status)
            for x in Letter.objects.all()
        ),
        "deliveries": sorted(
            (letter_key[x.letter_id], x.channel, x.recipient, x.reason, x.status)
            for x in LetterDelivery.objects.all()
        ),
        "delivery_tasks": sorted(delivery_key[pk] for pk in queued["letters"]),
        "ledger": sorted(
            (
                index[x.case_id],
                x.booked_on,
                x.kind,
                str(x.amount),
                x.description,
                invoice_no.get(x.invoice_id),
            )
            for x in LedgerEntry.objects.all()
        ),
        "events": [
            (
                index[x.case_id],
                x.kind,
                x.message,
                event_data(x.data),
                x.status_from,
                x.status_to,
                x.actor_label,
                x.at,
            )
            for x in CaseEvent.objects.order_by("case_id", "pk")
        ],
        "outbox": [
            (index[x.case_id], x.kind, x.payload, x.status, dedupe(x.dedupe_key))
            for x in OutboxMessage.objects.order_by("case_id", "pk")
        ],
        "webhooks": sorted(
            (x.payload["data"]["id"] in index and index[x.payload["data"]["id"]], x.event_type)
            for x in WebhookDelivery.objects.all()
        ),
        "webhook_tasks": len(queued["webhooks"]),
        "notifications": sorted(
            (index[x.case_id], x.kind, x.subject) for x in CreditorNotification.objects.all()
        ),
    }


def _run_and_capture(run_function, batch_size, queued, django_capture_on_commit_callbacks):
    queued["letters"].clear()
    queued["webhooks"].clear()
    try:
        with transaction.atomic():
            results, cases = timeline(
                run_function,
                batch_size,
                lambda: django_capture_on_commit_callbacks(execute=True),
            )
            found = everything(cases, queued)
            raise _Rollback
    except _Rollback:
        pass
    return results, found


def test_a_batch_writes_exactly_what_each_of_its_cases_writes_alone(
    queued, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.INFO, logger=dunning_batch.__name__):
        alone_results, alone = _run_and_capture(
            dunning.dunning_run_per_case, 3, queued, django_capture_on_commit_callbacks
        )
        batched = {
            size: _run_and_capture(
                dunning_batch.dunning_run_batched, size, queued, django_capture_on_commit_callbacks
            )
            for size in (500, 3)
        }

    # Every batch was written as a batch (one that fails is redone a case at a time, which
    # would hide a broken bulk write from the comparison), and no case failed
    assert not [r for r in caplog.records if "done case by case" in r.getMessage()]
    assert not [r for r in alone_results if r["errors"]]

    # The fixture reached every step and outcome (else the comparison proves little)
    steps = set().union(*(r["steps"] for r in alone_results))
    assert steps >= {
        "inkassovarsel",
        "betalingsoppfordring",
        "varsel_rettslig",
        "legal_approval_requested",
        "new_betalingsoppfordring",
        "rescheduled",
        "resumed",
        "closed_paid",
        "awaiting_payment_demand_approval",
        "waiting_for_pogo_inkassovarsel",
    }
    assert alone["outbox"] and alone["webhooks"] and alone["notifications"]
    assert any(entry[2] == LedgerEntry.Kind.INTEREST for entry in alone["ledger"])

    for size, (results, found) in batched.items():
        assert results == alone_results, size
        for key in alone:
            assert found[key] == alone[key], (size, key)


# --------------------------------------------------------------------------------------------
# SQL per batch, idempotency, a failed batch
# --------------------------------------------------------------------------------------------


def _due_cases(n: int, start: int = 0) -> list[CollectionCase]:
    creditor = _creditor(50 + start)
    cases = [_case(100 + start + i, creditor, [D(2025, 11, 14)]) for i in range(n)]
    for case in cases:
        CollectionCase.objects.filter(pk=case.pk).update(
            pogo_case_id=f"00000000-0000-0000-0001-{case.pk:012d}"
        )
    return cases


def _statements(n: int, queued, django_capture_on_commit_callbacks) -> int:
    _due_cases(n, start=n)
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            with on_day(OPENED):
                result = dunning_batch.dunning_run_batched(on=OPENED, batch_size=n)
    assert result.steps == {"inkassovarsel": n}
    return len(queries)


def test_the_sql_of_a_batch_does_not_grow_with_its_size(queued, django_capture_on_commit_callbacks):
    small = _statements(4, queued, django_capture_on_commit_callbacks)
    large = _statements(40, queued, django_capture_on_commit_callbacks)

    assert large == small
    assert large <= 30  # lock, reads, bulk writes, the status push and webhooks, one batch


def test_a_second_run_the_same_day_changes_nothing(queued, django_capture_on_commit_callbacks):
    cases = _due_cases(5)
    with django_capture_on_commit_callbacks(execute=True), on_day(OPENED):
        first = dunning_batch.dunning_run_batched(on=OPENED, batch_size=2)
        counts = (Letter.objects.count(), LedgerEntry.objects.count(), CaseEvent.objects.count())
        second = dunning_batch.dunning_run_batched(on=OPENED, batch_size=2)

    assert first.steps == {"inkassovarsel": 5}
    assert second.processed == 0 and second.skipped == 0
    assert (Letter.objects.count(), LedgerEntry.objects.count(), CaseEvent.objects.count()) == (
        counts
    )
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.UPDATE_STATUS).count() == len(cases)


def test_the_batched_status_push_queues_a_status_once_and_again_after_each_change():
    """The dunning batch's ``cases_changed``: one status row per case whose status differs
    from its last queued one — none for an unchanged case, a new one after A → B → A."""
    cases = _due_cases(3)
    ids = [case.pk for case in cases]

    def changed(*case_ids):
        cases_changed.send(sender=CollectionCase, changes=[(pk, "updated") for pk in case_ids])

    def pushed():
        return list(
            OutboxMessage.objects.filter(kind=OutboxMessage.Kind.UPDATE_STATUS)
            .order_by("pk")
            .values_list("case_id", "payload")
        )

    changed(*ids, ids[0])  # a case twice in one batch
    first = pushed()
    assert sorted(case_id for case_id, _payload in first) == sorted(ids)

    changed(*ids)  # nothing changed since
    assert pushed() == first

    LedgerEntryFactory(case=cases[1], kind=LedgerEntry.Kind.FEE, amount=Decimal("35.00"))
    changed(*ids)
    after_fee = pushed()
    assert [case_id for case_id, _payload in after_fee[len(first) :]] == [ids[1]]

    LedgerEntryFactory(case=cases[1], kind=LedgerEntry.Kind.REDUCTION, amount=Decimal("-35.00"))
    changed(*ids)  # back to the first status: queued again, its last row says otherwise
    again = pushed()
    assert again[len(after_fee) :] == [first[[pk for pk, _p in first].index(ids[1])]]
    assert after_fee[-1][1] != again[-1][1]


def test_a_batch_that_fails_to_write_is_done_case_by_case(
    queued, django_capture_on_commit_callbacks, monkeypatch
):
    # Given: one case of the batch already has its inkassovarsel (a concurrent run got there)
    cases = _due_cases(3)
    with on_day(OPENED):
        Letter.objects.create(
            case=cases[1], kind="inkassovarsel", step="inkassovarsel", sent_on=OPENED,
            deadline=OPENED,
        )  # fmt: skip

    # When: the batched run writes the batch (the letter insert fails on the unique step)
    with django_capture_on_commit_callbacks(execute=True), on_day(OPENED):
        result = dunning_batch.dunning_run_batched(on=OPENED, batch_size=10)

    # Then: nothing of the failed batch stayed half written; the others got their step once
    assert result.steps == {"inkassovarsel": 2}
    assert result.skipped == 1
    for case in (cases[0], cases[2]):
        assert Letter.objects.filter(case=case).count() == 1
        assert LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.FEE).count() == 1
    assert not LedgerEntry.objects.filter(case=cases[1], kind=LedgerEntry.Kind.FEE).exists()
    assert LetterDelivery.objects.filter(letter__case__in=[cases[0], cases[2]]).count() == 2


def test_a_batch_writes_its_texts_in_the_active_language(
    queued, django_capture_on_commit_callbacks
):
    # Given: due cases, the run started in English (translations are remembered per batch)
    cases = _due_cases(3)
    with translation.override("en"):
        fee_text = translation.gettext("Inkassovarselgebyr")
    assert fee_text != "Inkassovarselgebyr"

    # When
    with django_capture_on_commit_callbacks(execute=True), on_day(OPENED):
        with translation.override("en"):
            result = dunning_batch.dunning_run_batched(on=OPENED, batch_size=2)

    # Then: every batch's texts are English, and nothing remembered outlives the batch
    assert result.steps == {"inkassovarsel": 3}
    fees = LedgerEntry.objects.filter(case__in=cases, kind=LedgerEntry.Kind.FEE)
    assert sorted(fees.values_list("description", flat=True)) == [fee_text] * 3
    with translation.override("nb"):
        assert dunning._("Inkassovarselgebyr") == "Inkassovarselgebyr"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the unnest insert is PostgreSQL's")
def test_the_array_insert_keeps_every_character_and_refuses_too_long_a_text():
    from django.db import DataError

    case = _due_cases(1)[0]
    awkward = ['a "quoted", {braced} \\ back\nslash', "NULL", "", "æøå – «»", "{}", " x "]
    rows = [(case.pk, "note", text, {"text": text, "n": [1, None]}) for text in awkward]

    dunning_batch._insert(CaseEvent, ("case_id", "kind", "message", "data"), rows)

    found = list(CaseEvent.objects.filter(case=case, kind="note").order_by("pk"))
    assert [(e.message, e.data) for e in found] == [(r[2], r[3]) for r in rows]
    assert all(e.actor_label == "" and e.at is not None for e in found)  # the defaults
    with pytest.raises(DataError), transaction.atomic():
        dunning_batch._insert(
            LedgerEntry,
            ("case_id", "kind", "amount", "booked_on", "description"),
            [(case.pk, "fee", Decimal("1.00"), OPENED, "x" * 201)],
        )


def test_the_runs_status_moves_reach_the_receivers_in_the_batchs_one_signal(
    queued, django_capture_on_commit_callbacks
):
    """A move of the run (closing as paid, asking the creditor's approval) is made through
    the case services, and its change goes out with the batch's own in ``cases_changed``,
    not as a ``case_changed`` of its own: the creditor is still notified and the status
    still pushed, from the batch's few queries (issue 19)."""
    from collections_cases.signals import case_changed

    moves = {
        CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED,
        CaseEvent.Kind.LEGAL_APPROVAL_REQUESTED,
    }
    one, batched = [], []

    def on_one(sender, case_id, kind, **kwargs):
        one.append(kind)

    def on_batch(sender, changes, **kwargs):
        batched.extend(kind for _case_id, kind in changes)

    case_changed.connect(on_one, dispatch_uid="test-one")
    cases_changed.connect(on_batch, dispatch_uid="test-batch")
    try:
        _results, found = _run_and_capture(
            dunning_batch.dunning_run_batched, 500, queued, django_capture_on_commit_callbacks
        )
    finally:
        case_changed.disconnect(dispatch_uid="test-one")
        cases_changed.disconnect(dispatch_uid="test-batch")

    assert moves <= set(batched)
    assert not moves & set(one)
    kinds = {kind for _case, kind, _subject in found["notifications"]}
    assert {
        CreditorNotification.Kind.PAYMENT_DEMAND_APPROVAL,
        CreditorNotification.Kind.LEGAL_APPROVAL,
    } <= kinds


def test_a_move_that_rolls_back_sends_nothing(queued, django_capture_on_commit_callbacks):
    """The move was made, then its savepoint rolled back (as ``guarded`` does when the step
    fails after it): its change is not announced with the batch; a kept move's is."""
    batched = []
    cases_changed.connect(
        lambda sender, changes, **kw: batched.extend(changes), dispatch_uid="test-rb", weak=False
    )
    kept, dropped = _due_cases(2, start=900)

    def plan(case):
        class Plan:
            outcome = "paused"

            @staticmethod
            def move():
                services.case_pause(case=case, actor="Saksbehandler", reason="Avtale")

        return Plan

    try:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                moved: list = []
                dunning_batch._make_move(plan(kept), moved)
                with pytest.raises(_Rollback), transaction.atomic():
                    dunning_batch._make_move(plan(dropped), moved)
                    raise _Rollback
                transaction.on_commit(lambda: dunning_batch._announce(moved))
    finally:
        cases_changed.disconnect(dispatch_uid="test-rb")
    assert batched == [(kept.pk, CaseEvent.Kind.PAUSED)]

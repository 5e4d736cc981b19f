"""The set-based settlement run (``settle`` → ``settle_batch``) in batches of 200, of 3 and
with each creditor alone (``settle_creditor``: a batch of one in its own transaction, also the
fallback when a batch clashes with a concurrent run): same settlements, lines, invoice parts,
postings, links and events to the øre, and SQL per batch that does not grow with creditors or
cases. The amounts themselves are pinned in test_settlements.py."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    PaymentAllocation,
    Settlement,
    SettlementInvoicePart,
    SettlementLine,
)
from collections_cases.settlements import services
from collections_cases.signals import (
    settlement_committed,
    settlement_created,
)
from creditors.models import Creditor
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.collections_cases.test_settlements import SETTLE, creditor_with, owing, pay

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"O-\d{4}-\d{6}")
POGO_CASE = uuid.UUID(int=4711)


def _varied_fixture():
    """Creditors covering the rules: weekly/daily, VAT/no VAT, commission over/under the
    limit, interest to the creditor, a payout that would not be positive (waits), nothing
    waiting, several invoices per case, a payment after the date, an overpayment, an earlier
    settlement (period start), bookkeeping modes none and unposted."""
    made = []
    vat = creditor_with(vat_registered=True)
    pay(owing(vat, fee="70.00", salaer="525.00", interest="40.00"), "1635.00")
    pay(owing(vat, amounts=("333.33",), salaer="1.01"), "334.34")
    pay(owing(vat, amounts=("3000.00",)), "1000.00")
    PowerOfficeConnection.objects.create(
        creditor=vat, client_key="key", connected_at=timezone.now()
    )
    made.append(vat)

    rich = creditor_with(
        vat_registered=True,
        interest_to=Creditor.InterestTo.CREDITOR,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=20,
        settlement_frequency=Creditor.SettlementFrequency.DAILY,
        bookkeeping_mode=Creditor.BookkeepingMode.NONE,
    )
    pay(owing(rich, amounts=("1000.00", "234.50"), salaer="525.00", interest="12.34"), "1771.84")
    in_pogo = owing(rich, amounts=("600.00", "500.00"))
    pay(in_pogo, "700.00")
    pay(owing(rich, amounts=("99.99",)), "150.00")  # overpaid
    made.append(rich)
    CollectionCase.objects.filter(pk=in_pogo.pk).update(pogo_case_id=POGO_CASE)
    WebhookEndpoint.objects.create(
        creditor=rich, url="https://example.com/hook", events=["settlement.created"], secret="s"
    )

    gross = creditor_with(
        vat_registered=False,
        success_commission_percent=Decimal("7.5"),
        success_commission_min_days_overdue=90,  # invoices only 30 days overdue: none
        interest_to=Creditor.InterestTo.CREDITOR,
    )
    pay(owing(gross, salaer="656.25", interest="3.33"), "1659.58")
    late = owing(gross, amounts=("400.00",))
    pay(late, "400.00", on=SETTLE + dt.timedelta(days=1))  # after the date: waits
    Settlement.objects.create(
        creditor=gross,
        settled_on=dt.date(2026, 11, 13),
        period_start=dt.date(2026, 11, 9),
        period_end=dt.date(2026, 11, 13),
        bookkeeping_mode="none",
        vat_registered=False,
        interest_to="agency",
        vat_percent=Decimal("25"),
        **{name: Decimal("1.00") for name in services.MONEY_FIELDS},
    )
    made.append(gross)

    zero = creditor_with(vat_registered=True)
    pay(owing(zero, salaer="525.00"), "525.00")  # VAT 131.25, no principal: waits
    made.append(zero)

    idle = creditor_with(vat_registered=False)
    owing(idle)  # nothing paid
    made.append(idle)

    for i in range(3):  # a few plain ones, so batches hold several
        plain = creditor_with(vat_registered=bool(i % 2), settlement_frequency="daily")
        for amount in ("100.00", "250.55"):
            pay(owing(plain, amounts=(amount, "10.10")), amount)
        made.append(plain)
    return [c.pk for c in made]


def _snapshot(settlement_ids):
    """Everything the run wrote, keyed by creditor/case/invoice (not by pk or number)."""
    money = services.MONEY_FIELDS
    result = {"settlements": {}, "lines": {}, "parts": {}, "links": {}, "events": {}}
    result["vouchers"] = sorted(
        (
            m.creditor_id,
            m.kind,
            m.status,
            m.payload,
            m.dedupe_key == f"settlement_voucher:{m.settlement_id}",
        )
        for m in OutboxMessage.objects.filter(settlement_id__in=settlement_ids)
    )
    for s in Settlement.objects.filter(pk__in=settlement_ids):
        lines = [
            {**line, "description": NUMBER.sub("N", line["description"])}
            for line in s.voucher_lines
        ]
        result["settlements"][s.creditor_id] = (
            s.settled_on, s.period_start, s.period_end, s.bookkeeping_mode, s.vat_registered,
            s.interest_to, s.commission_percent, s.vat_percent, s.payout_account,
            s.voucher_status, s.voucher_error, lines, *(getattr(s, n) for n in money),
        )  # fmt: skip
    for line in SettlementLine.objects.filter(settlement_id__in=settlement_ids):
        result["lines"][line.case_id] = (
            line.settlement.creditor_id,
            line.days_overdue,
            *(getattr(line, n) for n in money),
        )
    for part in SettlementInvoicePart.objects.filter(line__settlement_id__in=settlement_ids):
        result["parts"][part.invoice_id] = (part.line.case_id, part.amount)
    for allocation in PaymentAllocation.objects.all():
        line = allocation.settlement_line
        result["links"][allocation.pk] = (
            (line.case_id, line.settlement.creditor_id) if line else None
        )
    for event in CaseEvent.objects.filter(kind=CaseEvent.Kind.SETTLEMENT):
        data = {k: v for k, v in event.data.items() if k != "settlement_id"}
        assert event.data["settlement_id"] in settlement_ids
        result["events"][event.case_id] = (NUMBER.sub("N", event.message), data)
    return result


class Rollback(Exception):
    pass


def _alone(creditor_ids, on):
    """Each creditor alone: ``settle_creditor``, a batch of one in its own transaction."""
    report = services.SettleReport(on=on)
    for creditor_id in creditor_ids:
        try:
            settlement, created = services.settle_creditor(creditor_id=creditor_id, on=on)
        except services.NothingToSettle as exc:
            report.skipped[creditor_id] = str(exc)
            continue
        (report.created if created else report.existing).append(settlement.pk)
    return report


def _in_batches_of(size):
    def run(creditor_ids, on):
        return services.settle(
            on=on, creditor_ids=creditor_ids, render_statements=False, batch_size=size
        )

    return run


RUNS = {
    "batches of 200": _in_batches_of(200),
    "each creditor alone": _alone,
    "batches of 3": _in_batches_of(3),
}


def _run_and_roll_back(run, due):
    """What ``run`` made (its report, its snapshot, a second run's report), then undone."""
    try:
        with transaction.atomic():
            report = run(due, SETTLE)
            made = _snapshot(report.created)
            # Every settled allocation points at its own case's line.
            for allocation in PaymentAllocation.objects.exclude(settlement_line=None):
                assert allocation.settlement_line.case_id == allocation.case_id
            again = run(due, SETTLE)
            raise Rollback
    except Rollback:
        pass
    assert not SettlementLine.objects.exists()
    return report, made, again


def test_batches_of_200_each_creditor_alone_and_batches_of_3_make_the_same():
    creditor_ids = _varied_fixture()
    due = services.settlement_due_creditor_ids(on=SETTLE)
    results = {name: _run_and_roll_back(run, due) for name, run in RUNS.items()}

    _report, expected, _again = results["batches of 200"]
    assert len(expected["settlements"]) == 6
    assert len(expected["vouchers"]) == 1  # the connected creditor's; the others say why
    assert len(expected["lines"]) == 13 and len(expected["events"]) == 13
    assert sum(link is not None for link in expected["links"].values()) > 13
    for name, (report, got, again) in results.items():
        assert len(report.created) == 6, name
        assert report.skipped == {creditor_ids[3]: report.skipped[creditor_ids[3]]}, name
        assert "mva." in report.skipped[creditor_ids[3]]  # zero payout; idle, late: not due
        for key in expected:
            assert got[key] == expected[key], (name, key)
        # Idempotent: a second run makes nothing new and finds what the first made.
        assert again.created == [] and sorted(again.existing) == sorted(report.created), name


def test_a_batch_that_clashes_with_a_concurrent_run_is_redone_creditor_by_creditor(
    monkeypatch,
):
    """The unique (creditor, settled_on) fails for the batch (a concurrent run, e.g. on SQLite
    without row locks): each creditor is settled alone, and what the other run made stands."""
    _varied_fixture()
    due = services.settlement_due_creditor_ids(on=SETTLE)
    _report, expected, _again = _run_and_roll_back(_in_batches_of(200), due)
    first, _sole = services.settle_creditor(creditor_id=due[0], on=SETTLE)  # "the other run"
    real, batches = services._settle_batch_locked, []

    def clashing(creditor_ids, on):
        batches.append(list(creditor_ids))
        if len(creditor_ids) > 1:
            raise IntegrityError("duplicate key (creditor_id, settled_on)")
        return real(creditor_ids, on)

    monkeypatch.setattr(services, "_settle_batch_locked", clashing)

    report = services.settle(on=SETTLE, creditor_ids=due, render_statements=False)

    assert batches == [due] + [[pk] for pk in due]
    assert report.existing == [first.pk] and len(report.created) == 5
    assert _snapshot([first.pk, *report.created]) == expected


def test_the_signals_fire_per_settlement(django_capture_on_commit_callbacks):
    _varied_fixture()
    created, committed = [], []

    def on_created(sender, settlement_id, **kwargs):
        assert transaction.get_connection().in_atomic_block
        created.append(settlement_id)

    def on_committed(sender, settlement_id, **kwargs):
        committed.append(settlement_id)

    settlement_created.connect(on_created, dispatch_uid="test-batch-created")
    settlement_committed.connect(on_committed, dispatch_uid="test-batch-committed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = services.settle(on=SETTLE, render_statements=False, batch_size=2)
    finally:
        settlement_created.disconnect(dispatch_uid="test-batch-created")
        settlement_committed.disconnect(dispatch_uid="test-batch-committed")
    assert sorted(created) == sorted(committed) == sorted(report.created)
    assert len(report.created) == 6
    # What their receivers write, for the batch: the webhook of the subscribed creditor, the
    # closing status of the manual settlement's case that is in PoGo, the voucher row of the
    # connected creditor.
    rich = Settlement.objects.get(pk__in=report.created, voucher_status="manual")
    deliveries = WebhookDelivery.objects.all()
    assert [(d.event_type, d.payload["data"]["id"]) for d in deliveries] == [
        ("settlement.created", rich.pk)
    ]
    statuses = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.UPDATE_STATUS)
    assert [m.case.pogo_case_id for m in statuses] == [POGO_CASE]
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER).count() == 1
    waiting = Settlement.objects.filter(pk__in=report.created, voucher_status="pending")
    assert waiting.exclude(voucher_error="").count() == 4


def _creditors_with_cases(count, cases):
    ids = []
    for i in range(count):
        creditor = creditor_with(
            vat_registered=bool(i % 2),
            settlement_frequency="daily",
            bookkeeping_mode=(Creditor.BookkeepingMode.NONE if i % 3 == 0 else "unposted"),
        )
        for _ in range(cases):
            pay(owing(creditor, amounts=("100.00", "50.00"), salaer="10.00"), "160.00")
        if i % 3 == 1:
            PowerOfficeConnection.objects.create(
                creditor=creditor, client_key=f"k{creditor.pk}", connected_at=timezone.now()
            )
        ids.append(creditor.pk)
    return ids


def _queries_of_one_batch(creditor_ids, execute_on_commit):
    with execute_on_commit(execute=True), CaptureQueriesContext(connection) as queries:
        report = services.settle(
            on=SETTLE, creditor_ids=creditor_ids, render_statements=False, batch_size=100
        )
    assert len(report.created) == len(creditor_ids)
    return len(queries)


def test_sql_per_batch_does_not_grow_with_creditors_or_cases(django_capture_on_commit_callbacks):
    small = _creditors_with_cases(3, 1)  # one of each: manual, connected, not connected
    large = _creditors_with_cases(9, 4)

    few = _queries_of_one_batch(small, django_capture_on_commit_callbacks)
    many = _queries_of_one_batch(large, django_capture_on_commit_callbacks)

    assert many == few, (few, many)
    assert many <= 40


def test_settle_task_fans_batches_out_to_tasks(monkeypatch):
    from collections_cases.settlements import tasks

    creditor_ids = _creditors_with_cases(3, 1)
    monkeypatch.setattr(services, "SETTLE_BATCH_SIZE", 2)
    batches, statements = [], []
    original = tasks.settle_creditors_task.delay
    monkeypatch.setattr(
        tasks.settle_creditors_task,
        "delay",
        lambda on, ids: batches.append(ids) or original(on, ids),
    )
    monkeypatch.setattr(tasks.settlement_statement_task, "delay", statements.append)

    result = tasks.settle_task.delay(SETTLE.isoformat()).get()

    assert result["due"] == 3 and result["batches_queued"] == 2
    assert batches == [creditor_ids[:2], creditor_ids[2:]]
    settled = Settlement.objects.filter(creditor_id__in=creditor_ids, settled_on=SETTLE)
    assert sorted(statements) == sorted(settled.values_list("pk", flat=True))
    assert settled.count() == 3
    assert not PaymentAllocation.objects.filter(
        settlement_line__isnull=True, component="principal"
    ).exists()
    # A redelivered run makes nothing new.
    again = tasks.settle_task.delay(SETTLE.isoformat()).get()
    assert again["created"] == 0 and Settlement.objects.count() == 3


def test_rows_inserted_in_one_statement_keep_text_numbers_and_json_exactly():
    case = owing(creditor_with())
    awkward = 'Sitat "x", skråstrek \\ {klammer} NULL, æøå «»\nny linje'
    data = {"settlement_id": 1, "amount": "1234.50", "text": awkward}

    services._insert_rows(
        CaseEvent,
        [
            {
                "case_id": case.pk,
                "kind": CaseEvent.Kind.SETTLEMENT,
                "message": awkward,
                "data": data,
            },
            {"case_id": case.pk, "kind": "settlement", "message": "", "data": {}},
        ],
    )
    lines = services._insert_rows(
        SettlementLine,
        [
            {
                "settlement_id": _a_settlement(case.creditor).pk,
                "case_id": case.pk,
                **{name: Decimal("0.10") for name in services.MONEY_FIELDS},
            }
        ],
        key="case_id",
    )

    first, second = CaseEvent.objects.filter(kind="settlement").order_by("pk")
    assert (first.message, first.data, first.actor_label) == (awkward, data, "")
    assert (second.message, second.data) == ("", {})
    assert SettlementLine.objects.get(pk=lines[case.pk]).payout == Decimal("0.10")


def _a_settlement(creditor):
    return Settlement.objects.create(
        creditor=creditor,
        settled_on=SETTLE,
        period_start=SETTLE,
        period_end=SETTLE,
        bookkeeping_mode="none",
        vat_registered=False,
        interest_to="agency",
        vat_percent=Decimal("25"),
        **{name: Decimal("1.00") for name in services.MONEY_FIELDS},
    )


def test_plans_of_the_foreign_key_checks_are_refreshed_between_batches(monkeypatch):
    """PostgreSQL: ANALYZE of the settlement tables before a further batch when they grew (the
    kept plans of the deferred checks were made for nearly empty tables)."""
    creditor_ids = _creditors_with_cases(3, 2)
    monkeypatch.setattr(services, "_planned_sizes", {})

    with CaptureQueriesContext(connection) as queries:
        services.settle(on=SETTLE, creditor_ids=creditor_ids, render_statements=False, batch_size=1)

    analyzed = [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed and "collections_cases_settlementline" in analyzed[0]
    else:
        assert analyzed == []

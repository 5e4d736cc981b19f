"""The counts of each creditor's cases per status (``CaseCount``) and the debtor's type stored
on the case (``debtor_is_person``) are kept by database triggers: whatever path writes a case
— a service, ``bulk_create``, ``update``, raw SQL, the dunning run — the counts equal a
``COUNT`` of the cases, the version grows with every committed change, and the stored type
equals the debtor's. On SQLite and PostgreSQL (docs/performance.md)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, F

from collections_cases.cases import services as case_services
from collections_cases.cases.counts import case_counts, sqlite_create_triggers
from collections_cases.dunning import services as dunning
from collections_cases.models import CaseCount, CollectionCase
from creditors.models import Debtor
from tests.collections_cases import dunning_support
from tests.collections_cases.factories import CollectionCaseFactory, DebtorFactory
from tests.collections_cases.factories_pages import open_case
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db
Status = CollectionCase.Status


def counted(creditor_id: int) -> dict[str, int]:
    rows = (
        CollectionCase.objects.filter(creditor_id=creditor_id)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def assert_counts_exact():
    creditors = set(CollectionCase.objects.values_list("creditor_id", flat=True))
    creditors |= set(CaseCount.objects.values_list("creditor_id", flat=True))
    assert creditors
    for creditor_id in creditors:
        assert case_counts(creditor_id=creditor_id).by_status == counted(creditor_id)


def assert_kinds_exact():
    assert CollectionCase.objects.exists()
    assert not CollectionCase.objects.exclude(debtor_is_person=F("debtor__is_person")).exists()


def test_every_write_path_keeps_the_counts_and_the_version_grows(creditor, user):
    versions = [case_counts(creditor_id=creditor.pk).version]

    def changed():
        version = case_counts(creditor_id=creditor.pk).version
        assert version > versions[-1]
        versions.append(version)
        assert_counts_exact()

    # Created through the service (awaiting approval), approved, paused, resumed, closed.
    case = open_case(creditor, needs_approval=True, actor=user)
    changed()
    assert case_counts(creditor_id=creditor.pk).by_status == {Status.AWAITING_APPROVAL: 1}
    case_services.case_approve(case=case, actor=user)
    changed()
    case_services.case_pause(case=case, actor=user, reason="Venter på svar")
    changed()
    case_services.case_resume(case=case, actor=user)
    changed()
    other = open_case(creditor, actor=user)
    changed()
    case_services.case_withdraw(case=other, actor=user, reason="Kreditor trakk saken")
    changed()
    assert case_counts(creditor_id=creditor.pk).by_status == {
        Status.ACTIVE: 1,
        Status.CLOSED: 1,
    }

    # A write that moves no case between statuses leaves the version alone.
    case.refresh_from_db()
    case.close_note = "en merknad"
    case.save()
    CollectionCase.objects.filter(pk=case.pk).update(next_action_date=dt.date(2030, 1, 1))
    assert case_counts(creditor_id=creditor.pk).version == versions[-1]

    # bulk_create, update of many rows, a move to another creditor, raw SQL, delete.
    debtor = DebtorFactory(creditor=creditor)
    CollectionCase.objects.bulk_create(
        [
            CollectionCaseFactory.build(creditor=creditor, debtor=debtor, status=Status.ACTIVE)
            for _ in range(3)
        ]
    )
    changed()
    CollectionCase.objects.filter(creditor=creditor, status=Status.ACTIVE).update(
        status=Status.DISPUTED
    )
    changed()
    elsewhere = CreditorFactory()
    moved = CollectionCase.objects.filter(creditor=creditor, status=Status.DISPUTED).first()
    CollectionCase.objects.filter(pk=moved.pk).update(creditor=elsewhere)
    changed()
    assert case_counts(creditor_id=elsewhere.pk).by_status == {Status.DISPUTED: 1}
    table = CollectionCase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s WHERE creditor_id = %s AND status = %s",  # noqa: S608
            [Status.LEGAL, creditor.pk, Status.DISPUTED],
        )
    changed()
    # Deletes (cases without a ledger or events: the others are protected).
    bare = [CollectionCaseFactory(creditor=creditor, debtor=debtor) for _ in range(3)]
    changed()
    CollectionCase.objects.filter(pk=bare[0].pk).delete()
    changed()
    CollectionCase.objects.filter(pk__in=[c.pk for c in bare[1:]]).delete()
    changed()
    assert case_counts(creditor_id=creditor.pk).by_status == {
        Status.LEGAL: 3,
        Status.CLOSED: 1,
    }
    assert case_counts(creditor_id=creditor.pk).total == 4


@pytest.mark.parametrize("run", [dunning.dunning_run, dunning.dunning_run_per_case])
def test_the_dunning_run_keeps_the_counts(run):
    """The batched run (raw SQL on PostgreSQL) and the per-case run alike: the steps that
    ask the creditor's approval move cases to *awaiting approval*."""
    due = dt.date(2026, 3, 2)
    approving = CreditorFactory(approve_payment_demands=True)
    debtors = [None, None, DebtorFactory(creditor=approving), DebtorFactory(creditor=approving)]
    for debtor, amount in zip(debtors, ("10000.00", "2500.55", "99.99", "800.00"), strict=True):
        dunning_support.open_case(
            opened_on=due + dt.timedelta(days=1), due=due, amount=amount, debtor=debtor
        )
    for days in (5, 20, 40, 60, 90, 120, 150):
        day = due + dt.timedelta(days=days)
        with dunning_support.on_day(day):
            run(on=day)
    # The run moved the cases on (the test is about those moves).
    assert CollectionCase.objects.filter(status=Status.AWAITING_APPROVAL).exists()
    assert_counts_exact()
    assert_kinds_exact()


def test_the_stored_debtor_type_follows_the_debtor(creditor):
    person = DebtorFactory(creditor=creditor, is_person=True)
    business = DebtorFactory(creditor=creditor, is_person=False)
    case = open_case(creditor, debtor=person)
    CollectionCaseFactory(creditor=creditor, debtor=business)
    CollectionCase.objects.bulk_create(
        [CollectionCaseFactory.build(creditor=creditor, debtor=person)]
    )
    assert CollectionCase.objects.get(pk=case.pk).debtor_is_person is True
    assert_kinds_exact()

    # The debtor changes type (the sync's update, a form's save): its cases follow.
    Debtor.objects.filter(pk=person.pk).update(is_person=False)
    assert CollectionCase.objects.get(pk=case.pk).debtor_is_person is False
    business.is_person = True
    business.save()
    assert_kinds_exact()

    # The case moves to another debtor; a stale instance saved never writes the stored type.
    stale = CollectionCase.objects.get(pk=case.pk)
    CollectionCase.objects.filter(pk=case.pk).update(debtor=business)
    assert CollectionCase.objects.get(pk=case.pk).debtor_is_person is True
    stale.debtor = business
    stale.debtor_is_person = False
    stale.save()
    assert CollectionCase.objects.get(pk=case.pk).debtor_is_person is True
    assert_kinds_exact()


def test_the_recompute_command_corrects_counts_and_types_and_bumps_the_version(creditor):
    from io import StringIO

    from django.core.management import call_command

    person = DebtorFactory(creditor=creditor, is_person=True)
    case = open_case(creditor, debtor=person)
    open_case(creditor)
    before = case_counts(creditor_id=creditor.pk).version
    # Counts set wrong by hand (as a loaded dump would); a stored type cannot be: the case's
    # trigger copies the debtor's over whatever an UPDATE writes.
    CaseCount.objects.filter(creditor=creditor).update(cases=9)
    table = CollectionCase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET debtor_is_person = %s WHERE id = %s",  # noqa: S608
            [False, case.pk],
        )
    assert CollectionCase.objects.get(pk=case.pk).debtor_is_person is True

    call_command("recompute_case_counts", stdout=StringIO())

    assert_counts_exact()
    assert_kinds_exact()
    assert case_counts(creditor_id=creditor.pk).version > before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers are made here")
def test_sqlite_recompute_corrects_counts_and_never_reuses_a_version(creditor):
    open_case(creditor)
    before = case_counts(creditor_id=creditor.pk).version
    CaseCount.objects.filter(creditor=creditor).update(cases=7)

    sqlite_create_triggers()

    assert_counts_exact()
    assert case_counts(creditor_id=creditor.pk).version > before


# --------------------------------------------------------------------------------------------
# The Saker list reads its hits from the counts
# --------------------------------------------------------------------------------------------


def _saker(client, query: str = ""):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as queries:
        response = client.get(f"/saker/{query}")
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    return response.content.decode(), len(queries), counts


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 4),
        ("?status=paused", 1),
        ("?status=active&sort=debtor", 3),
        ("?only_open=1", 4),
        ("?only_open=1&status=closed", 0),
    ],
)
def test_the_list_shows_the_counted_hits_without_counting(
    logged_in_client, creditor, user, query, expected
):
    cases = [open_case(creditor, actor=user) for _ in range(4)]
    case_services.case_pause(case=cases[0], actor=user, reason="Venter")

    html, statements, counts = _saker(logged_in_client, query)

    assert counts == []  # no COUNT(*) over the creditor's cases
    assert statements <= 12
    if expected:
        assert f"{expected} treff" in html
    else:
        assert "Ingen saker passer" in html


def test_the_list_counts_what_other_filters_narrow(logged_in_client, creditor, user):
    person = DebtorFactory(creditor=creditor, is_person=True)
    open_case(creditor, debtor=person)
    open_case(creditor, debtor=DebtorFactory(creditor=creditor, is_person=False))
    open_case(creditor, debtor=DebtorFactory(creditor=creditor, is_person=False))

    html, statements, counts = _saker(logged_in_client, "?debtor_kind=business&sort=next_action")

    assert len(counts) == 1 and statements <= 12
    # The stored type: no join of the debtors (neither for the filter nor the page's values).
    assert "creditors_debtor" not in counts[0]
    assert "2 treff" in html
    html, _statements, _counts = _saker(logged_in_client, "?debtor_kind=person")
    assert "1 treff" in html and person.name in html


def test_a_search_by_ids_counts_its_matches_without_a_query(logged_in_client, creditor):
    case = open_case(creditor)
    open_case(creditor)

    html, statements, counts = _saker(logged_in_client, f"?q={case.number}")

    assert counts == [] and statements <= 12
    assert "1 treff" in html and case.number in html


def test_the_list_is_never_stale_after_a_change(logged_in_client, creditor, user):
    cases = [open_case(creditor, actor=user) for _ in range(3)]
    html, _n, _c = _saker(logged_in_client, "?status=paused")
    assert "Ingen saker passer" in html

    case_services.case_pause(case=cases[1], actor=user, reason="Venter")

    html, _n, _c = _saker(logged_in_client, "?status=paused")
    assert "1 treff" in html and cases[1].number in html
    html, _n, _c = _saker(logged_in_client, "?status=active")
    assert "2 treff" in html

"""Counts of each creditor's cases per status (``CaseCount``) and the debtor's type stored on
each case (``CollectionCase.debtor_is_person``), kept by database triggers so every writer —
``create``, ``bulk_create``, ``update``, the dunning batch's raw SQL — keeps them.

PostgreSQL: created by migration 0025 — statement-level triggers with transition tables on
the case table (one grouped upsert per statement; nothing written unless a status or
creditor changed), a row-level ``BEFORE INSERT OR UPDATE OF debtor_id`` trigger copying the
debtor's ``is_person``, and a statement-level trigger on the debtor copying a changed
``is_person`` to its cases.

SQLite: row-level triggers created after every ``migrate`` and dropped before it
(:class:`collections_cases.sqlite_triggers.SqliteTriggers`, as for the ledger totals); after
creating them the counts and the stored debtor types are recomputed, so rows written while
the triggers were absent are counted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import Sum

from collections_cases.sqlite_triggers import SqliteTriggers

CASE = "collections_cases_collectioncase"
COUNT = "collections_cases_casecount"
DEBTOR = "creditors_debtor"
SQLITE_TRIGGERS = (
    "case_counts_insert",
    "case_counts_update",
    "case_counts_delete",
    "case_debtor_kind_update",
    "debtor_kind_update",
)


def _sqlite_upsert(creditor: str, status: str, change: int) -> str:
    return f"""
    INSERT INTO {COUNT} (creditor_id, slot, status, cases, changes)
    VALUES ({creditor}, 0, {status}, {change}, 1)
    ON CONFLICT (creditor_id, slot, status)
    DO UPDATE SET cases = cases + ({change}), changes = changes + 1;"""  # noqa: S608


def _sqlite_decrement(creditor: str, status: str) -> str:
    """One case less: an update of the row the case was counted in, never an insert — a case
    deleted after its creditor's counts (``flush`` empties the tables one by one) must not
    make a count row for a creditor that is gone."""
    return f"""
    UPDATE {COUNT} SET cases = cases - 1, changes = changes + 1
     WHERE creditor_id = {creditor} AND slot = 0 AND status = {status};"""  # noqa: S608


_SQLITE_KIND = f"COALESCE((SELECT d.is_person FROM {DEBTOR} AS d WHERE d.id = NEW.debtor_id), 0)"  # noqa: S608

SQLITE_CREATE = (
    f"""CREATE TRIGGER IF NOT EXISTS case_counts_insert AFTER INSERT ON {CASE}
        BEGIN
        {_sqlite_upsert("NEW.creditor_id", "NEW.status", 1)}
        UPDATE {CASE} SET debtor_is_person = {_SQLITE_KIND} WHERE id = NEW.id;
        END;""",  # noqa: S608
    f"""CREATE TRIGGER IF NOT EXISTS case_counts_update AFTER UPDATE OF status, creditor_id
        ON {CASE}
        WHEN OLD.status IS NOT NEW.status OR OLD.creditor_id IS NOT NEW.creditor_id
        BEGIN
        {_sqlite_decrement("OLD.creditor_id", "OLD.status")}
        {_sqlite_upsert("NEW.creditor_id", "NEW.status", 1)}
        END;""",
    f"""CREATE TRIGGER IF NOT EXISTS case_counts_delete AFTER DELETE ON {CASE}
        BEGIN {_sqlite_decrement("OLD.creditor_id", "OLD.status")} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS case_debtor_kind_update
        AFTER UPDATE OF debtor_id, debtor_is_person ON {CASE}
        BEGIN
        UPDATE {CASE} SET debtor_is_person = {_SQLITE_KIND}
         WHERE id = NEW.id AND debtor_is_person IS NOT {_SQLITE_KIND};
        END;""",  # noqa: S608
    f"""CREATE TRIGGER IF NOT EXISTS debtor_kind_update AFTER UPDATE OF is_person ON {DEBTOR}
        WHEN OLD.is_person IS NOT NEW.is_person
        BEGIN
        UPDATE {CASE} SET debtor_is_person = NEW.is_person WHERE debtor_id = NEW.id;
        END;""",  # noqa: S608
)

#: Every count set from the cases; ``changes`` goes up on every row (also the ones that
#: drop to 0), so a creditor's version never comes back to a value it had.
SQLITE_RECOMPUTE = (
    f"UPDATE {COUNT} SET cases = 0, changes = changes + 1",  # noqa: S608
    f"""INSERT INTO {COUNT} (creditor_id, slot, status, cases, changes)
        SELECT creditor_id, 0, status, COUNT(*), 1 FROM {CASE} WHERE true
         GROUP BY creditor_id, status
        ON CONFLICT (creditor_id, slot, status)
        DO UPDATE SET cases = excluded.cases, changes = changes + 1""",  # noqa: S608
    f"""UPDATE {CASE} SET debtor_is_person = COALESCE(
            (SELECT d.is_person FROM {DEBTOR} AS d WHERE d.id = {CASE}.debtor_id), 0)""",  # noqa: S608
)


TRIGGERS = SqliteTriggers(
    names=SQLITE_TRIGGERS,
    create=SQLITE_CREATE,
    recompute=SQLITE_RECOMPUTE,
    tables=frozenset((CASE, COUNT, DEBTOR)),
)
sqlite_drop_triggers = TRIGGERS.drop
#: Create the SQLite triggers (if the tables exist) and recompute the counts.
sqlite_create_triggers = TRIGGERS.install


POSTGRESQL_RECOMPUTE = (
    SQLITE_RECOMPUTE[0],
    f"""INSERT INTO {COUNT} AS t (creditor_id, slot, status, cases, changes)
        SELECT creditor_id, 0, status, COUNT(*), 1 FROM {CASE}
         GROUP BY creditor_id, status
        ON CONFLICT (creditor_id, slot, status)
        DO UPDATE SET cases = EXCLUDED.cases, changes = t.changes + 1""",  # noqa: S608
    f"""UPDATE {CASE} AS c SET debtor_is_person = d.is_person
          FROM {DEBTOR} AS d
         WHERE d.id = c.debtor_id AND c.debtor_is_person IS DISTINCT FROM d.is_person""",  # noqa: S608
)


def case_counts_recompute(*, using: str = "default") -> None:
    """Set every count from the cases and every stored debtor type from the debtors. The
    triggers keep them; this is for after writes that bypass them — ``loaddata`` of a dump
    holding both cases and counts, a restore with triggers disabled. Every creditor's
    version goes up (nothing cached before stays valid)."""
    connection = connections[using]
    statements = POSTGRESQL_RECOMPUTE if connection.vendor == "postgresql" else SQLITE_RECOMPUTE
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseCounts:
    """A creditor's cases per status, and the version of these counts: it grows with every
    committed change of them (a case created, deleted, or moved to another status)."""

    by_status: dict[str, int]
    version: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def of(self, statuses) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)


def case_counts(*, creditor_id: int) -> CaseCounts:
    """The creditor's counts, one query (a few rows per status, read by the unique index)."""
    from collections_cases.models import CaseCount

    rows = (
        CaseCount.objects.filter(creditor_id=creditor_id)
        .order_by()
        .values_list("status")
        .annotate(cases=Sum("cases"), changes=Sum("changes"))
    )
    by_status: dict[str, int] = {}
    version = 0
    for status, cases, changes in rows:
        if cases:
            by_status[status] = int(cases)
        version += int(changes)
    return CaseCounts(by_status=by_status, version=version)

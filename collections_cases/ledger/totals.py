"""The ledger's totals stored on each case (``stored_balance``, ``stored_principal``,
``stored_paid``), kept by database triggers on the ledger table.

PostgreSQL: statement-level triggers created by migration 0018. SQLite: row-level triggers
created after every ``migrate`` and dropped before it
(:class:`collections_cases.sqlite_triggers.SqliteTriggers`: Django rebuilds a SQLite table to
alter it, and a trigger naming another table makes that fail). After creating them the
totals are recomputed from the ledger, so rows written while the triggers were absent (during
the migrations) are counted too.

A writer of many entries may keep the totals itself instead (the dunning batch, issue 19):
on PostgreSQL :func:`trigger_skipped` turns the trigger off for the statements inside it
(the transaction-local setting ``kravia.ledger_totals``, migration 0024) and the writer adds
:func:`deltas` of the same rows to ``stored_*`` in its own ``UPDATE`` of the cases — one
rewrite of each case row instead of two. Everything outside the block is counted by the
trigger. SQLite has no such setting: there the trigger counts the writer's rows too, and the
writer must not add them (``trigger_skipped`` yields ``False``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections

from collections_cases.sqlite_triggers import SqliteTriggers

CASE = "collections_cases_collectioncase"
LEDGER = "collections_cases_ledgerentry"
#: What the debtor has paid: payments (less the bank's reversals of them, migration 0021) and
#: direct payments to the creditor.
PAID_KINDS = "('payment', 'direct_payment', 'payment_reversal')"
#: The same kinds for Python (:func:`deltas`).
PAID_KIND_VALUES = frozenset(("payment", "direct_payment", "payment_reversal"))
SETTING = "kravia.ledger_totals"
ORE = Decimal("0.01")
SQLITE_TRIGGERS = ("ledger_totals_insert", "ledger_totals_update", "ledger_totals_delete")


def _sqlite_change(sign: str, row: str) -> str:
    # ROUND to øre: SQLite adds decimals as floats.
    return f"""
    UPDATE {CASE} SET
        stored_balance = ROUND(stored_balance {sign} {row}.amount, 2),
        stored_principal = ROUND(stored_principal
            {sign} CASE WHEN {row}.kind = 'principal' THEN {row}.amount ELSE 0 END, 2),
        stored_paid = ROUND(stored_paid
            {sign} CASE WHEN {row}.kind IN {PAID_KINDS} THEN {row}.amount ELSE 0 END, 2)
    WHERE id = {row}.case_id;"""  # noqa: S608


SQLITE_CREATE = (
    f"""CREATE TRIGGER IF NOT EXISTS ledger_totals_insert AFTER INSERT ON {LEDGER}
        BEGIN {_sqlite_change("+", "NEW")} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS ledger_totals_update AFTER UPDATE ON {LEDGER}
        BEGIN {_sqlite_change("-", "OLD")} {_sqlite_change("+", "NEW")} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS ledger_totals_delete AFTER DELETE ON {LEDGER}
        BEGIN {_sqlite_change("-", "OLD")} END;""",
)


def _sum(where: str = "") -> str:
    return (
        f"ROUND(COALESCE((SELECT SUM(amount) FROM {LEDGER} AS l "  # noqa: S608
        f"WHERE l.case_id = {CASE}.id{where}), 0), 2)"
    )


SQLITE_RECOMPUTE = f"""
UPDATE {CASE} SET
    stored_balance = {_sum()},
    stored_principal = {_sum(" AND l.kind = 'principal'")},
    stored_paid = {_sum(f" AND l.kind IN {PAID_KINDS}")}
"""  # noqa: S608


POSTGRESQL_RECOMPUTE = f"""
UPDATE {CASE} AS c
   SET stored_balance = COALESCE(d.balance, 0),
       stored_principal = COALESCE(d.principal, 0),
       stored_paid = COALESCE(d.paid, 0)
  FROM {CASE} AS k
  LEFT JOIN (
      SELECT case_id,
             SUM(amount) AS balance,
             SUM(amount) FILTER (WHERE kind = 'principal') AS principal,
             SUM(amount) FILTER (WHERE kind IN {PAID_KINDS}) AS paid
        FROM {LEDGER} GROUP BY case_id
  ) AS d ON d.case_id = k.id
 WHERE c.id = k.id
   AND (c.stored_balance, c.stored_principal, c.stored_paid)
       IS DISTINCT FROM (COALESCE(d.balance, 0), COALESCE(d.principal, 0), COALESCE(d.paid, 0))
"""  # noqa: S608


def ledger_totals_recompute(*, using: str = "default") -> int:
    """Set every case's stored totals from its ledger; returns the cases corrected. The
    triggers keep them; this is for after writes that bypass them — ``loaddata`` of a dump
    that holds the totals *and* the entries (the entries' triggers add them again), or a
    session with triggers disabled."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            POSTGRESQL_RECOMPUTE if connection.vendor == "postgresql" else SQLITE_RECOMPUTE
        )
        return cursor.rowcount


@contextmanager
def trigger_skipped(*, using: str = "default") -> Iterator[bool]:
    """Inside: on PostgreSQL the ledger trigger skips the statements (yields ``True``; the
    caller must add their :func:`deltas` to the cases itself, in the same transaction).
    Elsewhere yields ``False`` and changes nothing. Needs a transaction: the setting is
    transaction-local, so an error that rolls the transaction (or savepoint) back also
    undoes it; it is not reset in a ``finally`` (an aborted transaction refuses statements)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield False
        return
    if not connection.in_atomic_block:
        raise RuntimeError("trigger_skipped needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'batch', true)", [SETTING])
    yield True
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, '', true)", [SETTING])


def deltas(rows: Iterable[tuple[str, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
    """What ``(kind, amount)`` ledger rows add to ``(stored_balance, stored_principal,
    stored_paid)``, as the trigger counts them."""
    balance = principal = paid = Decimal("0.00")
    for kind, amount in rows:
        kind = str(kind)  # noqa: PLW2901 (a Kind member or its value)
        # As the column stores it (numeric(_, 2) rounds half away from zero)
        amount = Decimal(amount).quantize(ORE, rounding=ROUND_HALF_UP)  # noqa: PLW2901
        balance += amount
        if kind == "principal":
            principal += amount
        elif kind in PAID_KIND_VALUES:
            paid += amount
    return balance, principal, paid


def _has_stored_totals(connection) -> bool:
    columns = {
        column.name
        for column in connection.introspection.get_table_description(connection.cursor(), CASE)
    }
    return "stored_balance" in columns  # not when migrated backwards past 0018


TRIGGERS = SqliteTriggers(
    names=SQLITE_TRIGGERS,
    create=SQLITE_CREATE,
    recompute=(SQLITE_RECOMPUTE,),
    tables=frozenset((CASE, LEDGER)),
    ready=_has_stored_totals,
)
sqlite_drop_triggers = TRIGGERS.drop
#: Create the SQLite triggers (if the tables exist) and recompute every case's totals.
sqlite_create_triggers = TRIGGERS.install

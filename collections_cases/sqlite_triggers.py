"""Row-level triggers on SQLite that are kept outside the migrations.

PostgreSQL gets its triggers from migrations (statement-level, with transition tables). On
SQLite the same data is kept by row-level triggers that are created after every ``migrate``
and dropped before it: Django alters a SQLite table by rebuilding it (new table, copy, drop,
rename), and a trigger that names another table makes that rename fail (``error in trigger
…: no such table``). Rows written while the triggers were absent (during the migrations) are
counted by the recompute that runs right after they are created.

One :class:`SqliteTriggers` per set of triggers: the stored ledger totals
(``ledger/totals.py``) and the case counts (``cases/counts.py``), connected to
``pre_migrate`` / ``post_migrate`` in ``collections_cases/apps.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections


def table_names(connection) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@dataclass(frozen=True)
class SqliteTriggers:
    #: The triggers' names (what :meth:`drop` drops).
    names: tuple[str, ...]
    #: ``CREATE TRIGGER IF NOT EXISTS`` statements.
    create: tuple[str, ...]
    #: Statements that set the kept data from scratch, run after the triggers are created.
    recompute: tuple[str, ...]
    #: The tables the triggers name: nothing is created until all of them exist.
    tables: frozenset[str]
    #: A further check on the schema (e.g. a column added by a later migration), or ``None``.
    ready: Callable[[object], bool] | None = None

    def drop(self, *, using: str = "default") -> None:
        connection = connections[using]
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            for name in self.names:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")

    def install(self, *, using: str = "default") -> None:
        """Create the triggers (when the schema has what they name) and recompute."""
        connection = connections[using]
        if connection.vendor != "sqlite" or not self.tables <= table_names(connection):
            return
        if self.ready is not None and not self.ready(connection):
            return
        with connection.cursor() as cursor:
            for sql in (*self.create, *self.recompute):
                cursor.execute(sql)

    def before_migrate(self, sender, using: str = "default", **kwargs) -> None:
        self.drop(using=using)

    def after_migrate(self, sender, using: str = "default", **kwargs) -> None:
        self.install(using=using)

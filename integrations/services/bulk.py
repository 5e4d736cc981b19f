"""PostgreSQL bulk writes for the sync: a page of rows in a handful of statements.

``upsert_copy`` ``COPY``s a page's rows into a temporary staging table and then writes them
with one ``INSERT … ON CONFLICT … DO UPDATE … WHERE (a value differs)``: new rows are
inserted, rows that differ are updated (``updated_at`` only then), identical rows are left
alone (no dead tuple, no ``updated_at``). The arbiter is the partial unique index on
``(creditor, pogo_id) WHERE pogo_id IS NOT NULL`` (Django's conditional ``UniqueConstraint``),
which PostgreSQL accepts when the ``ON CONFLICT`` clause repeats its predicate.

Why: the ORM path (select per batch, ``bulk_create``, ``bulk_update``) spent most of a big
first sync preparing every field value in Python (``get_db_prep_save`` per value) and
looking rows up by ``pogo_id IN (…)``; here Python only writes one line of text per row.
SQLite keeps the ORM path (:func:`integrations.services.sync.upsert`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
from collections.abc import Iterable

from django.db import connection as default_connection
from django.db.models import Model

#: Row counts above which a write is followed by ``ANALYZE`` of the table (see ``analyze``).
ANALYZE_AFTER_ROWS = 10_000


def supported(connection=default_connection) -> bool:
    return connection.vendor == "postgresql"


def _csv(rows: Iterable[tuple]) -> io.StringIO:
    """Rows as ``COPY … (FORMAT csv)`` reads them: every value quoted (so an empty string
    stays one), ``None`` written as an empty quoted value that ``FORCE_NULL`` turns back into
    NULL in the columns where an empty string cannot occur (all but text). Values are written
    with ``str()`` in C by the csv module: ``True``, ``2026-03-01``, ``2026-03-01
    12:00:00+00:00`` (the client only hands over aware datetimes), ``1250.50``, a UUID."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    return buffer


def _copy(cursor, table: str, columns: list[str], nullable: list[str], buffer) -> None:
    options = "FORMAT csv"
    if nullable:
        options += f", FORCE_NULL ({', '.join(nullable)})"
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
    raw = cursor.cursor  # Django's CursorWrapper → the driver's cursor
    if hasattr(raw, "copy_expert"):  # psycopg2
        raw.copy_expert(sql, buffer)
    else:  # psycopg 3
        with raw.copy(sql) as copy:
            copy.write(buffer.getvalue())


def _qn(name: str) -> str:
    return default_connection.ops.quote_name(name)


def upsert_copy(
    model: type[Model], *, creditor, key: str, rows: dict, now: dt.datetime, connection=None
) -> tuple[int, int]:
    """Insert or update ``rows`` (``{key value: {attname: value}}``) of ``creditor`` on
    PostgreSQL, in one ``COPY`` and one ``INSERT … ON CONFLICT``. Returns (created, updated).

    Same result as the ORM path: a row is *updated* (and its ``updated_at`` set to ``now``)
    only when one of the given values differs from the stored one; new rows get ``now`` as
    ``created_at`` and ``updated_at`` and every other field its model default.
    """
    if not rows:
        return 0, 0
    connection = connection or default_connection
    meta = model._meta
    fields = {f.attname: f for f in meta.concrete_fields}
    value_names = list(next(iter(rows.values())))
    key_field = fields[key]
    creditor_field = fields["creditor_id"]
    stage = f"sync_stage_{meta.db_table}"
    staged = [key_field, *(fields[name] for name in value_names)]
    staged_cols = [_qn(f.column) for f in staged]

    # Every other column gets its model default on insert (the table has no DB defaults).
    skip = {meta.pk.attname, "creditor_id", key, "created_at", "updated_at", *value_names}
    default_fields = [f for f in meta.concrete_fields if f.attname not in skip]
    default_params = [f.get_db_prep_save(f.get_default(), connection) for f in default_fields]

    value_cols = [_qn(fields[name].column) for name in value_names]
    insert_cols = [
        _qn(creditor_field.column),
        *staged_cols,
        *(_qn(f.column) for f in default_fields),
        _qn(fields["created_at"].column),
        _qn(fields["updated_at"].column),
    ]
    select = [
        "%s",
        *(f"s.{c}" for c in staged_cols),
        *("%s" for _ in default_fields),
        "%s",
        "%s",
    ]
    updated_at = _qn(fields["updated_at"].column)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*value_cols, updated_at])
    differs = (
        f"({', '.join(f't.{c}' for c in value_cols)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in value_cols)})"
    )
    key_col = _qn(key_field.column)
    upsert_sql = (
        # Identifiers from the model's meta, quoted; values are parameters or COPY'd.
        f"INSERT INTO {_qn(meta.db_table)} AS t ({', '.join(insert_cols)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM {stage} s "
        f"ON CONFLICT ({_qn(creditor_field.column)}, {key_col}) WHERE {key_col} IS NOT NULL "
        f"DO UPDATE SET {sets} WHERE {differs} "
        # xmax is 0 on a freshly inserted row version and the locker's id on an updated one.
        "RETURNING (t.xmax = 0)"
    )
    row_values = operator.itemgetter(*value_names)
    if len(value_names) == 1:
        buffer = _csv((k, row_values(values)) for k, values in rows.items())
    else:
        buffer = _csv((k, *row_values(values)) for k, values in rows.items())
    text_types = {"CharField", "TextField", "EmailField", "SlugField", "URLField", "FileField"}
    nullable = [_qn(f.column) for f in staged if f.get_internal_type() not in text_types]
    creditor_id = creditor.pk if isinstance(creditor, Model) else creditor
    with connection.cursor() as cursor:
        column_types = ", ".join(
            f"{_qn(f.column)} {f.db_type(connection) if not f.is_relation else f.target_field.rel_db_type(connection)}"
            for f in staged
        )
        # ON COMMIT DROP: the page's transaction takes it away; dropped first in case this
        # transaction (a test's, say) already made one.
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(f"CREATE TEMP TABLE {stage} ({column_types}) ON COMMIT DROP")
        _copy(cursor, stage, staged_cols, nullable, buffer)
        cursor.execute(upsert_sql, [creditor_id, *default_params, now, now])
        written = cursor.fetchall()
    created = sum(1 for (inserted,) in written if inserted)
    return created, len(written) - created


def pks_by_key(model: type[Model], *, creditor_id: int, key: str, values, connection=None):
    """``{key value: pk}`` of ``creditor_id``'s rows whose ``key`` is one of ``values``: one
    array parameter instead of thousands of ``IN (…)`` placeholders for the ORM to compile."""
    connection = connection or default_connection
    field = model._meta.get_field(key)
    table = _qn(model._meta.db_table)
    column = _qn(field.column)
    sql = (
        f"SELECT {column}, {_qn(model._meta.pk.column)} FROM {table} "  # noqa: S608
        f"WHERE {_qn(model._meta.get_field('creditor').column)} = %s "
        f"AND {column} = ANY(%s::{field.db_type(connection)}[])"
    )
    if field.get_internal_type() == "UUIDField":
        values = [str(v) for v in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, [creditor_id, list(values)])
        return dict(cursor.fetchall())


def record_match_ids(*, creditor_id: int, match_ids: dict, connection=None) -> None:
    """Keep PoGo's ``MatchId`` per invoice (``{invoice pogo_id: match_id}``) in one statement,
    changing only the states whose match id differs."""
    from collections_cases.models import Invoice
    from integrations.models import PogoInvoiceState

    if not match_ids:
        return
    connection = connection or default_connection
    state = _qn(PogoInvoiceState._meta.db_table)
    invoice = _qn(Invoice._meta.db_table)
    sql = (
        f"INSERT INTO {state} AS st (invoice_id, creditor_id, match_id, released_at) "  # noqa: S608
        f"SELECT i.id, i.creditor_id, m.match_id, NULL "
        f"FROM unnest(%s::uuid[], %s::bigint[]) AS m(pogo_id, match_id) "
        f"JOIN {invoice} i ON i.pogo_id = m.pogo_id "
        # Repeated as an index condition: joined on m.pogo_id alone, PostgreSQL hashes every
        # invoice of the creditor for each page (160 ms of 220 at 100 000 invoices, EXPLAIN).
        "WHERE i.creditor_id = %s AND i.pogo_id = ANY(%s::uuid[]) "
        "ON CONFLICT (invoice_id) DO UPDATE SET match_id = EXCLUDED.match_id "
        "WHERE st.match_id IS DISTINCT FROM EXCLUDED.match_id"
    )
    with connection.cursor() as cursor:
        pogo_ids = [str(k) for k in match_ids]
        cursor.execute(sql, [pogo_ids, list(match_ids.values()), creditor_id, pogo_ids])


def commit_without_waiting(connection=None) -> None:
    """Let this transaction's ``COMMIT`` return before its WAL is on disk.

    For a page of a big sync only: a crash of PostgreSQL may lose the last few pages' writes
    (within ``wal_writer_delay``), never half of one, and the cursor still points before them,
    because moving it is an ordinary commit later on, and an ordinary commit waits for all the
    WAL before it. The next run re-reads those pages; the upsert makes that harmless. Saves
    waiting for a disk flush per 5 000 rows.
    """
    connection = connection or default_connection
    # Only in the outermost block: SET LOCAL lasts to the end of the whole transaction, and a
    # caller's enclosing transaction may hold writes that must be durable when it returns.
    if supported(connection) and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def analyze(*models: type[Model], connection=None) -> None:
    """Refresh the planner's statistics after a large first load: until then PostgreSQL
    estimates the new creditor's rows from statistics taken when it had none (one row), and
    plans the next steps' and the pages' queries by creditor for that, until autovacuum gets
    round to the table."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {_qn(model._meta.db_table)}")

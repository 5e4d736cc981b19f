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

import datetime as dt
import io
from collections.abc import Iterable

from django.db import connection as default_connection
from django.db.models import Model

#: Row counts above which a write is followed by ``ANALYZE`` of the table (see ``analyze``).
ANALYZE_AFTER_ROWS = 10_000


def supported(connection=default_connection) -> bool:
    return connection.vendor == "postgresql"


def _copy_text(value) -> str:
    """One value in ``COPY … FROM STDIN`` text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            # The ORM would read a naive datetime in the default time zone (with a warning);
            # the client only hands over aware ones, so refuse rather than guess.
            raise ValueError(f"naive datetime in a synced row: {value!r}")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _copy(cursor, table: str, columns: list[str], lines: Iterable[str]) -> None:
    buffer = io.StringIO("".join(lines))
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
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
    lines = (
        "\t".join([_copy_text(k), *(_copy_text(values[name]) for name in value_names)]) + "\n"
        for k, values in rows.items()
    )
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
        _copy(cursor, stage, staged_cols, lines)
        cursor.execute(upsert_sql, [creditor_id, *default_params, now, now])
        written = cursor.fetchall()
    created = sum(1 for (inserted,) in written if inserted)
    return created, len(written) - created


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
        f"JOIN {invoice} i ON i.creditor_id = %s AND i.pogo_id = m.pogo_id "
        "ON CONFLICT (invoice_id) DO UPDATE SET match_id = EXCLUDED.match_id "
        "WHERE st.match_id IS DISTINCT FROM EXCLUDED.match_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[str(k) for k in match_ids], list(match_ids.values()), creditor_id])


def commit_without_waiting(connection=None) -> None:
    """Let this transaction's ``COMMIT`` return before its WAL is on disk.

    For a page of a big sync only: a crash of PostgreSQL may lose the last few pages' writes
    (within ``wal_writer_delay``), never half of one, and the cursor still points before them,
    because moving it is an ordinary commit later on, and an ordinary commit waits for all the
    WAL before it. The next run re-reads those pages; the upsert makes that harmless. Saves a
    disk flush per 5 000 rows (a third of a second a page on a busy machine).
    """
    connection = connection or default_connection
    # Only in the outermost block: SET LOCAL lasts to the end of the whole transaction, and a
    # caller's enclosing transaction may hold writes that must be durable when it returns.
    if supported(connection) and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def analyze(*models: type[Model], connection=None) -> None:
    """Refresh the planner's statistics after a large first load: tables analysed while (nearly)
    empty make PostgreSQL plan lookups by creditor as scans until autovacuum catches up."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {_qn(model._meta.db_table)}")

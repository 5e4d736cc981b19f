"""Set-based writes on PostgreSQL: many rows in one statement, without Django's per-value work.

``bulk_create`` spends most of a big batch's time building model instances and preparing each
of their values in Python (cProfiles of the dunning and settlement runs, docs/performance.md).
For plain rows (numbers, dates, text, a JSON document) the database does that work as well:
each column goes as one array literal and the rows come out of ``unnest``. PostgreSQL only —
callers keep ``bulk_create`` elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from enum import Enum

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone


def pg_array(values) -> str:
    """A PostgreSQL array literal (``'{1,"a b",NULL}'``) of numbers, dates and text: one string
    constant the server reads with ``array_in``. (psycopg2 sends a list as ``ARRAY[…]``, one
    constant per element, which the server takes far longer to parse than to insert the
    rows.)"""
    values = list(values)
    types = set(map(type, values))
    if types <= {int, Decimal}:
        return "{" + ",".join(map(str, values)) + "}"
    if types <= {dt.date}:
        return "{" + ",".join([value.isoformat() for value in values]) + "}"
    if types <= {str}:
        return "{" + ",".join([_text(value) for value in values]) + "}"
    items = []
    for value in values:
        if isinstance(value, Enum):
            value = value.value
        if value is None:
            items.append("NULL")
        elif isinstance(value, bool):
            items.append("t" if value else "f")
        elif isinstance(value, int | Decimal):
            items.append(str(value))
        else:
            items.append(_text(value.isoformat() if isinstance(value, dt.date) else str(value)))
    return "{" + ",".join(items) + "}"


def _text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cast_type(model_field) -> str:
    """The column's type for a cast: ``text``, not ``varchar(n)``, so a value too long fails
    as in ``bulk_create`` (a cast to ``varchar(n)`` would silently cut it)."""
    db_type = model_field.db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


def insert_unnest(model, columns, rows, *, returning: str = "") -> dict:
    """Insert ``rows`` (tuples of the ``columns`` attnames' values) with one ``INSERT … SELECT
    FROM unnest(column arrays)``; the model's other fields get their defaults (``auto_now``
    fields: now), evaluated once and sent once for all rows. Returns ``{row's returning value:
    new pk}`` when ``returning`` names a column, else ``{}``."""
    if not rows:
        return {}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    names, arrays, casts = [], [], []
    for index, attname in enumerate(columns):
        model_field = fields[attname]
        values = [row[index] for row in rows]
        if isinstance(model_field, JSONField):
            encoder = model_field.encoder
            values = [None if v is None else json.dumps(v, cls=encoder) for v in values]
        names.append(quote(model_field.column))
        arrays.append(pg_array(values))
        casts.append(f"%s::{cast_type(model_field)}[]")
    now = timezone.now()
    constants, constant_casts = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.attname in columns:
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value = now
        elif isinstance(model_field, JSONField):
            value = json.dumps(model_field.get_default(), cls=model_field.encoder)
        else:
            value = model_field.get_db_prep_save(model_field.get_default(), connection)
        names.append(quote(model_field.column))
        constants.append(value)
        constant_casts.append(f", %s::{cast_type(model_field)}")
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608 (names from the model)
        f"SELECT v.*{''.join(constant_casts)} FROM unnest({', '.join(casts)}) AS v({aliases})"
    )
    if returning:
        sql += f" RETURNING {quote(fields[returning].column)}, {quote(model._meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*constants, *arrays])
        return dict(cursor.fetchall()) if returning else {}

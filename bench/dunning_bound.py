"""A lower bound on the dunning run's writes: plain set-based SQL, no rules.

For the due cases in one transaction: lock them; a letter (and its e-mail delivery) for each
case whose step is a letter — chosen in SQL from its next action, its creditor's approval
setting and its stored totals, so the bound writes as many letters as the run (the benchmark
checks it) —, a fee entry per letter and an interest entry per invoice of its case, an event
per case, and one ``UPDATE`` of the cases with the next step and the entries' sums (the
ledger trigger skipped, as the run does). No amounts, texts or dates are computed, no status
pushes queued. Whatever the run does beyond this is the cost of its rules and side effects.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.utils import timezone

from collections_cases.ledger import totals
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Letter,
    LetterDelivery,
)
from creditors.models import Creditor, Debtor
from kravia_web.pg_bulk import cast_type

LETTER_ACTIONS = ("send_inkassovarsel", "send_betalingsoppfordring", "send_varsel_rettslig")


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _insert_select(cursor, model, exprs: dict, tail: str, params: list) -> int:
    """``INSERT INTO model (…) SELECT <exprs>, <the other fields' defaults> <tail>``; an
    expression is SQL, or ``(SQL, its parameters)``."""
    names, selects, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.attname in exprs:
            expr = exprs[field.attname]
            sql, args = expr if isinstance(expr, tuple) else (expr, [])
            selects.append(sql)
            values += args
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = timezone.now()
        elif field.get_internal_type() == "JSONField":
            value = json.dumps(field.get_default())
        else:
            value = field.get_db_prep_save(field.get_default(), connection)
        selects.append(f"%s::{cast_type(field)}")
        values.append(value)
    sql = f"INSERT INTO {_t(model)} ({', '.join(names)}) SELECT {', '.join(selects)} {tail}"  # noqa: S608
    cursor.execute(sql, [*values, *params])
    return cursor.rowcount


def write_set_based(ids: list[int], on: dt.date) -> dict[str, int]:
    case, creditor = _t(CollectionCase), _t(Creditor)
    deadline = on + dt.timedelta(days=14)
    rows = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {case} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608
            [ids],
        )
        cursor.execute(
            f"""CREATE TEMP TABLE bound_due ON COMMIT DROP AS
                SELECT c.id, c.debtor_id,
                       (c.status = 'awaiting_approval'
                        OR (c.next_action = ANY(%s) AND NOT (cr.approve_payment_demands
                            AND c.next_action = 'send_betalingsoppfordring')))
                       AND c.stored_principal + c.stored_paid > 0 AS letter
                  FROM {case} c JOIN {creditor} cr ON cr.id = c.creditor_id
                 WHERE c.id = ANY(%s)""",  # noqa: S608
            [list(LETTER_ACTIONS), ids],
        )
        rows["letters"] = _insert_select(
            cursor,
            Letter,
            {
                "case_id": "d.id",
                "kind": "'inkassovarsel'",
                "step": "'bound'",
                "sent_on": ("%s::date", [on]),
                "deadline": ("%s::date", [deadline]),
                "fee": "35.00",
                "amounts": "'{}'::jsonb",
            },
            "FROM bound_due d WHERE d.letter",
            [],
        )
        rows["deliveries"] = _insert_select(
            cursor,
            LetterDelivery,
            {
                "letter_id": "l.id",
                "channel": "'email'",
                "recipient": "db.email",
                "reason": "'initial'",
            },
            f"FROM {_t(Letter)} l JOIN bound_due d ON d.id = l.case_id AND l.step = 'bound' "
            f"JOIN {_t(Debtor)} db ON db.id = d.debtor_id",
            [],
        )
        with totals.trigger_skipped():
            rows["entries"] = _insert_select(
                cursor,
                LedgerEntry,
                {
                    "case_id": "x.case_id",
                    "invoice_id": "x.invoice_id",
                    "kind": "x.kind",
                    "amount": "x.amount",
                    "booked_on": ("%s::date", [on]),
                    "description": "'bound'",
                },
                f"FROM (SELECT d.id AS case_id, NULL::bigint AS invoice_id, 'fee' AS kind, "
                f"35.00 AS amount FROM bound_due d WHERE d.letter UNION ALL "
                f"SELECT i.case_id, i.id, 'interest', 1.00 FROM {_t(Invoice)} i "
                f"JOIN bound_due d ON d.id = i.case_id WHERE d.letter) x",
                [],
            )
        rows["events"] = _insert_select(
            cursor,
            CaseEvent,
            {"case_id": "d.id", "kind": "'letter'", "message": "'bound'"},
            "FROM bound_due d",
            [],
        )
        ledger = _t(LedgerEntry)
        cursor.execute(
            f"""UPDATE {case} c
                   SET status = 'active', next_action = 'send_betalingsoppfordring',
                       next_action_date = %s, updated_at = now(),
                       stored_balance = c.stored_balance + s.amount
                  FROM (SELECT d.id, COALESCE(SUM(e.amount), 0) AS amount
                          FROM bound_due d LEFT JOIN {ledger} e
                            ON e.case_id = d.id AND e.booked_on = %s AND e.description = 'bound'
                         GROUP BY d.id) s
                 WHERE c.id = s.id""",  # noqa: S608
            [on + dt.timedelta(days=17), on],
        )
        rows["cases"] = cursor.rowcount
    return rows

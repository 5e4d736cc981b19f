"""The ledger's totals per case (``stored_balance``, ``stored_principal``, ``stored_paid``),
kept by triggers on the ledger table so the Saker list can sort and filter by balance with an
index instead of summing every case's entries (1.5 s at 100 000 cases, docs/performance.md).

The ledger is written by many services, often with ``bulk_create``; a trigger sees every
write, whatever the path. PostgreSQL: statement-level triggers with transition tables (one
``UPDATE`` per statement, grouped by case, so a bulk insert is one set-based update).
Both also follow updates and deletes, which the append-only model refuses anyway. Filled
from the ledger here.

SQLite gets its triggers from ``collections_cases.ledger_totals`` after every ``migrate``
instead (dropped before it): Django rebuilds a SQLite table to alter it, and a trigger on the
ledger that names the case table makes that rebuild fail.
"""

from decimal import Decimal

from django.db import migrations, models

CASE = "collections_cases_collectioncase"
LEDGER = "collections_cases_ledgerentry"
PAID_KINDS = "('payment', 'direct_payment')"

# Sums of (case_id, amount, kind) rows in ROWS, per case, as (case_id, balance, principal, paid).
_TOTALS = f"""
SELECT case_id,
       SUM(amount) AS balance,
       COALESCE(SUM(amount) FILTER (WHERE kind = 'principal'), 0) AS principal,
       COALESCE(SUM(amount) FILTER (WHERE kind IN {PAID_KINDS}), 0) AS paid
  FROM ROWS GROUP BY case_id
"""  # noqa: S608

_APPLY = f"""
UPDATE {CASE} AS c
   SET stored_balance = c.stored_balance + d.balance,
       stored_principal = c.stored_principal + d.principal,
       stored_paid = c.stored_paid + d.paid
  FROM (TOTALS) AS d
 WHERE c.id = d.case_id;
"""  # noqa: S608


def _apply(rows: str) -> str:
    return _APPLY.replace("TOTALS", _TOTALS.replace("ROWS", rows))


POSTGRESQL_FORWARD = [
    f"""
CREATE FUNCTION collections_cases_ledger_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply("new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply("(SELECT case_id, -amount AS amount, kind FROM old_rows) AS o")}
    ELSE
        {
        _apply(
            "(SELECT case_id, amount, kind FROM new_rows UNION ALL "
            "SELECT case_id, -amount, kind FROM old_rows) AS u"
        )
    }
    END IF;
    RETURN NULL;
END
$$;
""",  # noqa: S608
    f"""CREATE TRIGGER ledger_totals_insert AFTER INSERT ON {LEDGER}
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION collections_cases_ledger_totals();""",
    f"""CREATE TRIGGER ledger_totals_update AFTER UPDATE ON {LEDGER}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION collections_cases_ledger_totals();""",
    f"""CREATE TRIGGER ledger_totals_delete AFTER DELETE ON {LEDGER}
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION collections_cases_ledger_totals();""",
    # Fill from the ledger (cases without entries keep 0).
    f"""UPDATE {CASE} AS c
           SET stored_balance = d.balance, stored_principal = d.principal, stored_paid = d.paid
          FROM ({_TOTALS.replace("ROWS", LEDGER)}) AS d
         WHERE c.id = d.case_id;""",  # noqa: S608
    # Statistics for the new columns (and the rewritten rows), so the planner uses the new
    # indexes right away rather than after autovacuum's next visit.
    f"ANALYZE {CASE};",
]

POSTGRESQL_BACKWARD = [
    f"DROP TRIGGER IF EXISTS ledger_totals_insert ON {LEDGER};",
    f"DROP TRIGGER IF EXISTS ledger_totals_update ON {LEDGER};",
    f"DROP TRIGGER IF EXISTS ledger_totals_delete ON {LEDGER};",
    "DROP FUNCTION IF EXISTS collections_cases_ledger_totals();",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, ()):
            schema_editor.execute(sql, params=None)

    return run


forward = _run({"postgresql": POSTGRESQL_FORWARD})
backward = _run({"postgresql": POSTGRESQL_BACKWARD})


def _total_field(verbose_name):
    return models.DecimalField(
        decimal_places=2,
        default=Decimal("0"),
        editable=False,
        max_digits=14,
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0017_case_creditor_next_index"),
    ]

    operations = [
        migrations.AddField("collectioncase", "stored_balance", _total_field("saldo")),
        migrations.AddField("collectioncase", "stored_principal", _total_field("hovedstol")),
        migrations.AddField("collectioncase", "stored_paid", _total_field("innbetalt")),
        migrations.RunPython(forward, backward, elidable=False),
        migrations.AddIndex(
            model_name="collectioncase",
            index=models.Index(
                fields=["creditor", "stored_balance", "id"], name="case_creditor_balance_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="collectioncase",
            index=models.Index(
                fields=["creditor", "created_at", "id"], name="case_creditor_created_idx"
            ),
        ),
    ]

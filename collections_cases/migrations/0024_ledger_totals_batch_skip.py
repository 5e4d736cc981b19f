"""The dunning batch keeps the stored ledger totals itself (issue 19): the trigger function of
migrations 0018/0021 returns at once while the transaction-local setting
``kravia.ledger_totals`` is ``'batch'``. The batch turns it on only around its own ledger
insert (``set_config(…, true)``: gone at the transaction's end or a rollback) and adds the
same amounts to ``stored_*`` in its one ``UPDATE`` of the cases (next steps), so each case
row is rewritten once per batch instead of twice. Every other write — the case services'
moves made in savepoints of the same batch included — runs with the setting off and is
counted by the trigger as before. PostgreSQL only; SQLite's row triggers
(``collections_cases.ledger.totals``) count every write, the batch's too.
"""

from django.db import migrations

CASE = "collections_cases_collectioncase"
PAID_KINDS = "('payment', 'direct_payment', 'payment_reversal')"


def _function(*, batch_skip: bool) -> str:
    totals = f"""
SELECT case_id,
       SUM(amount) AS balance,
       COALESCE(SUM(amount) FILTER (WHERE kind = 'principal'), 0) AS principal,
       COALESCE(SUM(amount) FILTER (WHERE kind IN {PAID_KINDS}), 0) AS paid
  FROM ROWS GROUP BY case_id
"""  # noqa: S608
    apply = f"""
UPDATE {CASE} AS c
   SET stored_balance = c.stored_balance + d.balance,
       stored_principal = c.stored_principal + d.principal,
       stored_paid = c.stored_paid + d.paid
  FROM (TOTALS) AS d
 WHERE c.id = d.case_id;
"""  # noqa: S608

    def on(rows: str) -> str:
        return apply.replace("TOTALS", totals.replace("ROWS", rows))

    changed = (
        "(SELECT case_id, amount, kind FROM new_rows UNION ALL "
        "SELECT case_id, -amount, kind FROM old_rows) AS u"
    )
    skip = (
        "IF current_setting('kravia.ledger_totals', true) = 'batch' THEN RETURN NULL; END IF;"
        if batch_skip
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION collections_cases_ledger_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {skip}
    IF TG_OP = 'INSERT' THEN
        {on("new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {on("(SELECT case_id, -amount AS amount, kind FROM old_rows) AS o")}
    ELSE
        {on(changed)}
    END IF;
    RETURN NULL;
END
$$;
"""  # noqa: S608


def _replace_function(*, batch_skip: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_function(batch_skip=batch_skip), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("collections_cases", "0023_notification_digest")]

    operations = [
        migrations.RunPython(
            _replace_function(batch_skip=True), _replace_function(batch_skip=False)
        ),
    ]

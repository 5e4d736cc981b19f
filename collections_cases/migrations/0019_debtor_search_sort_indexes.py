"""PostgreSQL indexes on debtors for the Saker list (nothing on SQLite): the search looks a
whole term up as an org number among every debtor, which without an index is a sequential
scan of the debtor table (≈ 35 ms of a 41 ms search at 250 000 debtors), and sorting by debtor
sorted every debtor by name (docs/performance.md).
Built CONCURRENTLY so a large production table stays writable, as
``creditors/0006_list_search_indexes``. Also vacuums the case table after 0018's backfill."""

from django.db import migrations

INDEXES = [
    ("debtor_org_number_idx", "creditors_debtor (org_number)"),
    # Saker sorted by debtor: the debtors in name order, each one's cases by index, until a
    # page is full (an incremental sort), instead of sorting every debtor (200 ms).
    ("debtor_name_idx", "creditors_debtor (name)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}")
    # 0018 rewrote every case row (its backfill): clean up after it now (outside a
    # transaction, as VACUUM must be) so index-only scans and fresh statistics are there
    # from the start rather than after autovacuum's next visit.
    schema_editor.execute("VACUUM (ANALYZE) collections_cases_collectioncase")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _target in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("collections_cases", "0018_case_stored_ledger_totals"),
        ("creditors", "0006_list_search_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""PostgreSQL indexes for the Kundeweb list searches (nothing on SQLite).

Django writes ``name__icontains`` as ``UPPER("name"::text) LIKE UPPER('%term%')``: a trigram
GIN index on that same expression serves it for debtor names and case numbers. Invoice numbers
are looked up exactly. Built CONCURRENTLY so a large production table stays writable; kept in
one migration (here, after both apps' tables exist) because they serve one feature.
"""

from django.db import migrations

INDEXES = [
    (
        "debtor_name_trgm_idx",
        "creditors_debtor USING gin ((UPPER(name::text)) gin_trgm_ops)",
    ),
    (
        "case_number_trgm_idx",
        "collections_cases_collectioncase USING gin ((UPPER(number::text)) gin_trgm_ops)",
    ),
    ("invoice_no_idx", "collections_cases_invoice (invoice_no)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _target in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("creditors", "0005_team_and_audit"),
        ("collections_cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

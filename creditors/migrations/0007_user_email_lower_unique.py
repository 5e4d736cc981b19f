"""Log-in e-mail addresses are unique whatever their case (``Ola@Example.no`` is
``ola@example.no``).

Merges nothing: when two users' addresses differ only in case, the migration stops and lists
them; an administrator decides which user to keep (memberships, audit trail) and changes or
deletes the other in the admin, then runs ``migrate`` again. Otherwise it lower-cases the
stored addresses (sign-up and invitations already did) and adds the unique index on
``LOWER(email)``.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


class DuplicateEmails(Exception):
    pass


def duplicate_emails(User) -> dict[str, list[tuple[int, str]]]:
    lowered = (
        User.objects.annotate(lowered=Lower("email"))
        .values("lowered")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("lowered", flat=True)
    )
    groups: dict[str, list[tuple[int, str]]] = {}
    for pk, email in (
        User.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=list(lowered))
        .order_by("lowered", "pk")
        .values_list("pk", "email")
    ):
        groups.setdefault(email.lower(), []).append((pk, email))
    return groups


def refuse_duplicates_then_lower_case(apps, schema_editor):
    User = apps.get_model("creditors", "User")
    groups = duplicate_emails(User)
    if groups:
        lines = [
            f"  {lowered}: " + ", ".join(f"user #{pk} {email!r}" for pk, email in users)
            for lowered, users in sorted(groups.items())
        ]
        raise DuplicateEmails(
            "Cannot make log-in e-mail addresses case-insensitive: these users have the same "
            "address apart from upper/lower case. Nothing was changed or merged. Decide which "
            "user to keep, change or delete the others (admin → Brukere), then run migrate "
            "again.\n" + "\n".join(lines)
        )
    User.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("creditors", "0006_list_search_indexes"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates_then_lower_case, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                name="creditors_user_email_lower_unique",
                violation_error_message="Det finnes allerede en bruker med denne e-postadressen.",
            ),
        ),
    ]

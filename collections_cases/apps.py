from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsCasesConfig(AppConfig):
    name = "collections_cases"
    verbose_name = _("Inkassosaker")

    def ready(self):
        # SQLite's ledger-total and case-count triggers live outside the migrations
        # (ledger/totals.py, cases/counts.py).
        from django.db.models.signals import post_migrate, pre_migrate

        # Admin registrations, signal receivers and Celery tasks of the subdomain packages
        # (Django's and Celery's discovery look only at top-level ``admin``/``tasks`` modules).
        from collections_cases.cases import admin as _cases_admin  # noqa: F401
        from collections_cases.cases import counts as case_counts
        from collections_cases.dunning import tasks as _dunning_tasks  # noqa: F401
        from collections_cases.ledger import totals as ledger_totals
        from collections_cases.letters import admin as _letters_admin  # noqa: F401
        from collections_cases.letters import receivers as _letters_receivers  # noqa: F401
        from collections_cases.letters import tasks as _letters_tasks  # noqa: F401
        from collections_cases.notifications import admin as _notifications_admin  # noqa: F401
        from collections_cases.notifications import receivers as _notes_receivers  # noqa: F401
        from collections_cases.notifications import tasks as _notifications_tasks  # noqa: F401
        from collections_cases.payments import admin as _payments_admin  # noqa: F401
        from collections_cases.plans import admin as _plans_admin  # noqa: F401
        from collections_cases.plans import tasks as _plans_tasks  # noqa: F401
        from collections_cases.settlements import admin as _settlements_admin  # noqa: F401
        from collections_cases.settlements import tasks as _settlements_tasks  # noqa: F401

        for triggers in (ledger_totals.TRIGGERS, case_counts.TRIGGERS):
            pre_migrate.connect(triggers.before_migrate, sender=self, weak=False)
            post_migrate.connect(triggers.after_migrate, sender=self, weak=False)

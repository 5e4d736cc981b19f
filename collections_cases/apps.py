from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsCasesConfig(AppConfig):
    name = "collections_cases"
    verbose_name = _("Inkassosaker")

    def ready(self):
        # SQLite's ledger-total triggers live outside the migrations (ledger_totals.py).
        from django.db.models.signals import post_migrate, pre_migrate

        from collections_cases import (
            admin_delivery,  # noqa: F401  (deliveries, print queue, notifications)
            admin_letters,  # noqa: F401  (registers the Letter admin)
            admin_payments,  # noqa: F401  (payments, queue, imports)
            admin_plans,  # noqa: F401  (payment-plan admin)
            admin_settlements,  # noqa: F401  (settlements, payout file)
            ledger_totals,
            receivers,  # noqa: F401  (letter delivery, creditor notifications)
        )
        from collections_cases.portal import tasks  # noqa: F401  (payment-plan check task)

        pre_migrate.connect(ledger_totals.before_migrate, sender=self)
        post_migrate.connect(ledger_totals.after_migrate, sender=self)

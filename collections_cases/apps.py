from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsCasesConfig(AppConfig):
    name = "collections_cases"
    verbose_name = _("Inkassosaker")

    def ready(self):
        from collections_cases import (
            admin_delivery,  # noqa: F401  (deliveries, print queue, notifications)
            admin_letters,  # noqa: F401  (registers the Letter admin)
            admin_payments,  # noqa: F401  (payments, queue, imports)
            admin_plans,  # noqa: F401  (payment-plan admin)
            admin_settlements,  # noqa: F401  (settlements, payout file)
            receivers,  # noqa: F401  (letter delivery, creditor notifications)
        )
        from collections_cases.portal import tasks  # noqa: F401  (payment-plan check task)

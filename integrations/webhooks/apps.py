from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "integrations.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from integrations.webhooks import receivers  # noqa: F401  (case and settlement events)

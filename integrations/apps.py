from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrasjoner")

    def ready(self):
        from integrations import receivers  # noqa: F401  (connects the signal receivers)

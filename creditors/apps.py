from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditorsConfig(AppConfig):
    name = "creditors"
    verbose_name = _("Kreditorer og brukere")

    def ready(self):
        from creditors import receivers  # noqa: F401 (connects the signal receivers)

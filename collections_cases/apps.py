from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsCasesConfig(AppConfig):
    name = "collections_cases"
    verbose_name = _("Inkassosaker")

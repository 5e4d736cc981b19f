from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KraviaWebConfig(AppConfig):
    name = "kravia_web"
    verbose_name = "Kravia Kundeweb"

    def ready(self):
        # Connects the per-address failed-login counter (user_login_failed).
        from kravia_web import login_throttle  # noqa: F401


class AxesConfig(AxesAppConfig):
    """django-axes under a Norwegian heading in the admin (its own config has none, so the
    admin showed «Axes» among the case handlers' Norwegian sections)."""

    verbose_name = _("Innloggingssperre")

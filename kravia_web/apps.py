from django.apps import AppConfig


class KraviaWebConfig(AppConfig):
    name = "kravia_web"
    verbose_name = "Kravia Kundeweb"

    def ready(self):
        # Connects the per-address failed-login counter (user_login_failed).
        from kravia_web import login_throttle  # noqa: F401

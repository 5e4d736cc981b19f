from django.apps import AppConfig


class KraviaWebConfig(AppConfig):
    name = "kravia_web"
    verbose_name = "Kravia Kundeweb"

from django.apps import AppConfig


class PogoSandboxConfig(AppConfig):
    name = "pogo_sandbox"
    verbose_name = "PowerOffice Go (sandkasse)"

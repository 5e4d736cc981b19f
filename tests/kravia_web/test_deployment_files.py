"""docker-compose.yml and the Procfile name real services whose commands point at real modules.

Docker cannot run on CI's machine, so this checks what can be checked without it.
"""

import importlib
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _assert_command_targets_exist(command: list[str]) -> None:
    program = command[0]
    if program == "gunicorn":
        module, _, attribute = command[1].partition(":")
        assert hasattr(importlib.import_module(module), attribute)
    elif program == "celery":
        app_module = command[command.index("-A") + 1]
        assert hasattr(importlib.import_module(app_module), "celery_app")
        if "--scheduler" in command:
            module, _, attribute = command[command.index("--scheduler") + 1].partition(":")
            assert hasattr(importlib.import_module(module), attribute)
    elif program == "python":
        assert command[1] == "manage.py"
        assert (ROOT / "manage.py").exists()
        from django.core.management import get_commands

        assert command[2] in get_commands()
    else:  # pragma: no cover - a new kind of command needs a check here
        raise AssertionError(f"unknown program {program}")


def test_compose_names_the_services():
    services = _compose()["services"]

    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_compose_commands_point_at_modules_that_exist():
    services = _compose()["services"]

    for name in ("web", "worker", "beat", "migrate"):
        _assert_command_targets_exist(services[name]["command"])


def test_compose_app_services_use_production_settings_and_real_services():
    services = _compose()["services"]

    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "kravia_web.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    assert "5432" not in str(services["postgres"].get("ports", ""))


def test_worker_listens_on_the_poweroffice_queue():
    command = _compose()["services"]["worker"]["command"]

    queues = next(arg for arg in command if arg.startswith("--queues="))
    assert "poweroffice" in queues


def test_procfile_starts_web_worker_and_beat():
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )

    assert set(processes) == {"web", "worker", "beat"}
    for name in ("worker", "beat"):
        _assert_command_targets_exist(shlex.split(processes[name]))
    assert "runserver" in processes["web"]

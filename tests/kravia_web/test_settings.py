"""The production module fails fast without secrets and passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "k" * 20 + "-Vq9#mZ2!pL7@xR4$wT8%nB1^cF6&hJ3*"
FERNET_KEY = "n99IM2blTf28X12iI6lcwcgA9_ph-CkWG8lC2rsLMoM="


def _run(args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "POWEROFFICE",
                "SECRET_KEY",
                "FIELD_ENCRYPTION_KEY",
                "DATABASE_URL",
                "AGENCY_",
                "REDIS_URL",
            )
        )
    }
    env["DJANGO_SETTINGS_MODULE"] = "kravia_web.settings.production"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "SECRET_KEY": STRONG_SECRET,
    "FIELD_ENCRYPTION_KEY": FERNET_KEY,
    "DATABASE_URL": "sqlite:////tmp/kravia-deploy-check.sqlite3",
    "ALLOWED_HOSTS": "kundeweb.kravia.example",
    "AGENCY_NAME": "Kravia Inkasso AS",
    "AGENCY_ORG_NUMBER": "923609016",
    "AGENCY_ACCOUNT_NUMBER": "86011117947",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "DATABASE_URL",
        "AGENCY_NAME",
        "AGENCY_ORG_NUMBER",
        "AGENCY_ACCOUNT_NUMBER",
        "REDIS_URL",
    ],
)
def test_production_refuses_to_start_without_a_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = _run(["check"], **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_says_why_it_needs_redis():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}

    result = _run(["check"], **env)

    assert result.returncode != 0
    assert "REDIS_URL is required in production" in result.stderr
    assert "each gunicorn worker" in result.stderr


def test_production_trusts_one_proxy_unless_told_otherwise():
    code = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"

    assert _run(["shell", "-c", code], **PRODUCTION_ENV).stdout.splitlines()[-1] == "1"
    result = _run(["shell", "-c", code], TRUSTED_PROXY_COUNT="2", **PRODUCTION_ENV)
    assert result.stdout.splitlines()[-1] == "2"


def test_production_refuses_the_sandbox():
    result = _run(["check"], POWEROFFICE_SANDBOX="true", **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "POWEROFFICE_SANDBOX" in result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_does_not_install_or_route_the_sandbox():
    code = (
        "import django; django.setup();"
        "from django.conf import settings; from django.urls import resolve, Resolver404;\n"
        "assert 'pogo_sandbox' not in settings.INSTALLED_APPS\n"
        "try:\n    resolve('/pogo/v2/Customers')\nexcept Resolver404:\n    print('no-sandbox')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWEROFFICE", "DATABASE_URL"))}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="kravia_web.settings.production")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "no-sandbox" in result.stdout

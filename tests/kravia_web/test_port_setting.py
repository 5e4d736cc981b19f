"""One port setting for `make run`: KRAVIA_PORT, and SITE_URL derived from it unless set."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRINT_URLS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.KRAVIA_PORT, settings.SITE_URL, settings.POWEROFFICE_V2_BASE_URL)"
)


def _settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"KRAVIA_PORT", "SITE_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("POWEROFFICE_V")}
    env["DJANGO_SETTINGS_MODULE"] = "kravia_web.settings.base"
    env.update(overrides)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_URLS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_site_url_defaults_to_port_8000():
    assert _settings() == ["8000", "http://127.0.0.1:8000", "http://127.0.0.1:8000/pogo/v2"]


def test_site_url_follows_kravia_port():
    port, site_url, pogo = _settings(KRAVIA_PORT="8123")
    assert (port, site_url) == ("8123", "http://127.0.0.1:8123")
    # The sandbox's API URLs follow SITE_URL, so the sync reaches the server on that port.
    assert pogo == "http://127.0.0.1:8123/pogo/v2"


def test_an_explicit_site_url_wins_over_the_port():
    port, site_url, _pogo = _settings(KRAVIA_PORT="8123", SITE_URL="https://kravia.example.no/")
    assert (port, site_url) == ("8123", "https://kravia.example.no")


def test_procfile_web_listens_on_kravia_port():
    web = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    assert "runserver 127.0.0.1:${KRAVIA_PORT:-8000}" in web


def _make_run_dry(cwd: Path, *args: str, **env_overrides) -> str:
    # A copy of the project's Makefile in an empty folder: `make -n` only prints the recipe.
    shutil.copy(ROOT / "Makefile", cwd / "Makefile")
    (cwd / "pyproject.toml").touch()
    env = {k: v for k, v in os.environ.items() if k != "KRAVIA_PORT"}
    env.update(env_overrides)
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("dotenv", "args", "env", "port"),
    [
        (None, (), {}, "8000"),
        (None, (), {"KRAVIA_PORT": "8123"}, "8123"),
        (None, ("KRAVIA_PORT=8124",), {}, "8124"),
        ("KRAVIA_PORT=8125\n", (), {}, "8125"),
        ("KRAVIA_PORT=8125\n", (), {"KRAVIA_PORT": "8126"}, "8126"),
    ],
)
def test_make_run_prints_and_exports_the_port(tmp_path, dotenv, args, env, port):
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    out = _make_run_dry(tmp_path, *args, **env)
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)/", out)
    assert urls and set(urls) == {port}, out

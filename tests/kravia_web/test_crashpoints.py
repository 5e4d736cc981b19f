"""Crash points never fire unless the settings switch them on (only the test settings do)."""

import os
import subprocess
import sys

from kravia_web.crashpoints import crash_point
from tests.kravia_web.test_settings import PRODUCTION_ENV, _run


def test_a_crash_point_is_inert_when_switched_off(settings, tmp_path, monkeypatch):
    settings.CRASH_POINTS_ENABLED = False
    marker = tmp_path / "crashed"
    monkeypatch.setenv("KRAVIA_CRASH_POINT", "here")
    monkeypatch.setenv("KRAVIA_CRASH_MARKER", str(marker))

    crash_point("here")  # still alive

    assert not marker.exists()


def test_a_crash_point_kills_the_process_when_on_and_named(tmp_path):
    marker = tmp_path / "crashed"
    code = (
        "import django; django.setup();"
        "from kravia_web.crashpoints import crash_point;"
        "crash_point('elsewhere'); crash_point('here'); print('survived')"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kravia_web.settings.test",
        "KRAVIA_CRASH_POINT": "here",
        "KRAVIA_CRASH_MARKER": str(marker),
    }

    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)

    assert first.returncode == -9 and "survived" not in first.stdout
    assert marker.read_text() == "here"
    assert second.returncode == 0 and "survived" in second.stdout  # the marker lets it pass


def test_production_settings_switch_crash_points_off():
    result = _run(
        [
            "shell",
            "-c",
            "from django.conf import settings; print(settings.CRASH_POINTS_ENABLED)",
        ],
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"

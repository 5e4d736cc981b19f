"""bin/check-system: `make run` checks Python, venv and Pango before installing anything."""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bin" / "check-system"


def _module():
    loader = importlib.machinery.SourceFileLoader("check_system", str(SCRIPT))
    spec = importlib.util.spec_from_loader("check_system", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _run(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "KRAVIA_CHECK_SYSTEM_PRETEND_MISSING"}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_passes_where_the_libraries_are_installed():
    # This machine renders letters (the letter tests need Pango too): the check agrees.
    result = _run()
    assert result.returncode == 0, result.stderr
    assert "Pango" in result.stdout


def test_a_missing_pango_fails_with_the_fix_for_every_platform():
    check = _module()
    result = _run(KRAVIA_CHECK_SYSTEM_PRETEND_MISSING="pango,pangoft2")
    assert result.returncode == 1
    assert "cannot load pango, pangoft2" in result.stderr
    # This platform's fix first, on its own line; the others after it.
    fix_line = result.stderr.splitlines()[1].strip()
    assert fix_line == check.FIXES[check.platform_key()]
    for command in (
        "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0",
        "sudo dnf install pango",
        "brew install pango",
    ):
        assert command in result.stderr


def test_loadable_really_dlopens():
    check = _module()
    assert check.loadable(check.LIBRARIES["pango"])
    assert not check.loadable(["libkravia-no-such-library-1.0.so.0", "kravia-no-such-library"])


@pytest.mark.parametrize(
    ("os_release", "system", "key"),
    [
        ('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', "linux", "debian"),
        ("ID=debian\n", "linux", "debian"),
        ("ID=fedora\nVERSION_ID=41\n", "linux", "fedora"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "linux", "fedora"),
        (None, "linux", "debian"),
        (None, "darwin", "macos"),
    ],
)
def test_platform_detection(tmp_path, os_release, system, key):
    path = tmp_path / "os-release"
    if os_release is not None:
        path.write_text(os_release)
    assert _module().platform_key(path, system) == key


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_stops_before_creating_the_venv(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "bin").mkdir()
    shutil.copy(SCRIPT, tmp_path / "bin" / "check-system")
    (tmp_path / "pyproject.toml").touch()
    env = dict(os.environ, KRAVIA_CHECK_SYSTEM_PRETEND_MISSING="pangoft2")
    result = subprocess.run(
        ["make", "run", f"PYTHON={sys.executable}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "cannot load pangoft2" in result.stderr
    assert not (tmp_path / ".venv").exists()

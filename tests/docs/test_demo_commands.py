"""docs/demo.md, run: every command it shows, in order, against a fresh database.

The convention (stated in docs/demo.md): a line starting with ``$ `` inside a ```` ```console ````
block is a command the reader runs; a line ``<!-- docs-test: NAME -->`` marks a step done in a browser,
played by ``tests/docs/browser_steps.py``. Each command is classified:

- ``.venv/bin/python manage.py …``: run as written (through bash, so ``$(date …)`` expands), with
  this interpreter and the project's manage.py, in a temporary folder (``var/betaling.xml`` lands
  there), and checked against the outcome the page describes (``EXPECT`` below);
- ``make run``: not run (it installs and then never returns); the test does its part itself:
  migrate a fresh SQLite database, ``seed_demo``, and the web server on a free ``KRAVIA_PORT``
  with ``SITE_URL`` left to follow it (the sync reaches the sandbox through it). Celery tasks
  run inline (``CELERY_TASK_ALWAYS_EAGER``) instead of a worker and beat;
- anything else fails the test: decide whether it can run here and add it.

Case numbers carry the year (``K-2026-000003``): the documented number is read with this year's.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from collections_cases import rules

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "demo.md"
MANAGE = ".venv/bin/python manage.py"
MARKER = re.compile(r"<!--\s*docs-test:\s*([\w-]+)\s*-->")


def doc_steps(text: str) -> list[tuple[str, str]]:
    """("command", line) for each ``$ `` line in a console block, ("browser", name) per marker."""
    steps: list[tuple[str, str]] = []
    fence = None  # the open fence's language, None outside a fence
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            fence = None if fence is not None else (line[3:].strip() or "text")
            continue
        if fence == "console" and line.startswith("$ "):
            steps.append(("command", line[2:].strip()))
        elif fence is None and (marker := MARKER.fullmatch(line)):
            steps.append(("browser", marker.group(1)))
    return steps


def _count(pattern: str, out: str) -> int:
    match = re.search(pattern, out)
    return int(match.group(1)) if match else 0


def expect_sync(args, out, err):
    if "--creditor" in args:
        # The settlement's voucher proposal (and the status pushes) went to Go.
        assert _count(r"outbox: sent (\d+)", out) > 0, out
    else:
        assert _count(r"cases_created (\d+)", out) > 0, out


def expect_dunning(args, out, err):
    on = dt.date.fromisoformat(re.search(r"Dunning run (\d{4}-\d\d-\d\d)", out).group(1))
    assert _count(r"errors: (\d+)", out) == 0, out + err
    if "--date" not in args:
        assert on == dt.date.today()
        assert _count(r"inkassovarsel: (\d+)", out) > 0, out
        return
    known_until = min(table.known_until for table in rules.ENDING_TABLES)
    if on > known_until:
        # As the page says: past the rate tables, the step is held, with the reason.
        assert _count(r"held: (\d+)", out) > 0, out
        assert f"the table ends {known_until.isoformat()}" in err, err
    else:
        assert _count(r"betalingsoppfordring: (\d+)", out) > 0, (
            f"docs/demo.md's later date ({on}) reaches no betalingsoppfordring:\n{out}"
        )


def expect_payment_file(args, out, err):
    assert "1 payment(s)" in out, out


def expect_import(args, out, err):
    assert "1 new" in out and "1 allocated" in out, out


def expect_settle(args, out, err):
    assert "1 new" in out and "Fjordkaffe Demo AS: payout" in out, out


EXPECT = {
    "poweroffice_sync": expect_sync,
    "dunning_run": expect_dunning,
    "demo_payment_file": expect_payment_file,
    "import_payments": expect_import,
    "settle": expect_settle,
}

# After the last command: what the page says the reader now has, read from the database.
FINAL_CHECK = """
from collections_cases.models import CollectionCase, Letter, Settlement
from pogo_sandbox.models import JournalVoucher
case = CollectionCase.objects.get(number=NUMBER)
assert (case.status, case.close_reason) == ("closed", "paid"), (case.status, case.close_reason)
assert Letter.objects.filter(kind="inkassovarsel").count() >= 1
settlement = Settlement.objects.get(creditor__org_number="999100007")
assert JournalVoucher.objects.exists(), "no voucher proposal reached the sandbox"
print("final check ok", settlement.pk)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, port: int) -> dict[str, str]:
    dropped = ("DATABASE_URL", "SITE_URL", "REDIS_URL", "CELERY_", "POWEROFFICE_", "EMAIL_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        DJANGO_SETTINGS_MODULE="kravia_web.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        KRAVIA_PORT=str(port),
        CELERY_TASK_ALWAYS_EAGER="true",
        EMAIL_URL="memorymail://",
        PYTHONPATH=str(ROOT),
    )
    return env


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    manage = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'manage.py'))}"
    result = subprocess.run(
        ["bash", "-c", command.replace(MANAGE, manage, 1)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"$ {command}\n{result.stdout}\n{result.stderr}"
    return result


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the web server stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the web server did not answer {url}:\n{log.read_text()}")


def test_doc_steps_follow_the_convention():
    text = "\n".join(
        [
            "```console",
            "$ .venv/bin/python manage.py a",
            "not a command",
            "```",
            "```sh",
            "$ not run: not a console block",
            "```",
            "<!-- docs-test: connect-x -->",
            "Prose that names `<!-- docs-test: NAME -->` is not a marker.",
            "```console",
            "<!-- docs-test: inside-a-block -->",
            "$ make run",
            "```",
        ]
    )
    assert doc_steps(text) == [
        ("command", ".venv/bin/python manage.py a"),
        ("browser", "connect-x"),
        ("command", "make run"),
    ]


def _gnu_date() -> bool:
    probe = subprocess.run(["date", "-d", "+1 days", "+%F"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.live
@pytest.mark.skipif(not _gnu_date(), reason="the page's dates use GNU date -d (Linux, CI)")
def test_every_command_in_the_demo_runs_against_a_fresh_database(tmp_path):
    steps = doc_steps(DOC.read_text())
    assert steps[0] == ("command", "make run"), "docs/demo.md starts with `make run`"
    assert sum(kind == "command" for kind, _ in steps) >= 8, steps
    year = dt.date.today().year
    port = _free_port()
    env = _environment(tmp_path, port)
    (tmp_path / "var").mkdir()
    log = tmp_path / "runserver.log"
    server = None
    ran: list[str] = []
    try:
        for kind, step in steps:
            if kind == "browser":
                _run(
                    f"{MANAGE} shell -c "
                    + shlex.quote(f"from tests.docs.browser_steps import run; run({step!r})"),
                    tmp_path,
                    env,
                )
                ran.append(f"browser: {step}")
                continue
            if step == "make run":
                _run(f"{MANAGE} migrate --noinput -v 0", tmp_path, env)
                seeded = _run(f"{MANAGE} seed_demo", tmp_path, env)
                # The seed prints the address SITE_URL derived from KRAVIA_PORT.
                assert f"http://127.0.0.1:{port}/" in seeded.stdout, seeded.stdout
                with log.open("w") as out:
                    server = subprocess.Popen(
                        [sys.executable, str(ROOT / "manage.py"), "runserver"]
                        + [f"127.0.0.1:{port}", "--noreload"],
                        cwd=tmp_path,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                _wait_for(f"http://127.0.0.1:{port}/healthz", server, log)
                ran.append(step)
                continue
            if not step.startswith(MANAGE + " "):
                pytest.fail(f"docs/demo.md shows `{step}`: teach tests/docs how to run it")
            args = shlex.split(step[len(MANAGE) :], posix=True)
            if args[0] not in EXPECT:
                pytest.fail(f"no documented outcome checked for `{step}`: add it to EXPECT")
            command = re.sub(r"\bK-20\d\d-", f"K-{year}-", step)
            result = _run(command, tmp_path, env)
            EXPECT[args[0]](args, result.stdout, result.stderr)
            ran.append(step)
        number = re.search(r"K-20\d\d-\d{6}", DOC.read_text()).group(0)
        number = f"K-{year}-" + number.split("-", 2)[2]
        script = f"NUMBER = {number!r}\n" + FINAL_CHECK
        final = _run(f"{MANAGE} shell -c {shlex.quote(script)}", tmp_path, env)
        assert "final check ok" in final.stdout, final.stdout + final.stderr
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    assert "browser: connect-fjordkaffe" in ran and "browser: approve-all-fjordkaffe" in ran

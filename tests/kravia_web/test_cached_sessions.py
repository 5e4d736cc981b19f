"""Sessions read from the shared cache (``cached_db``, used when REDIS_URL is set): a page reads
no session row, and a session ended anywhere (logout, the timeouts) is ended for every process."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
CACHED_DB = "django.contrib.sessions.backends.cached_db"


def _session_engine(**env_overrides) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="kravia_web.settings.base", **env_overrides)
    code = (
        "from django.conf import settings;"
        "print(settings.SESSION_ENGINE, settings.CACHES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return tuple(result.stdout.splitlines()[-1].split())


def test_sessions_are_cached_only_in_a_cache_every_process_shares():
    assert _session_engine(REDIS_URL="redis://127.0.0.1:6379/15") == (
        CACHED_DB,
        "kravia_web.cache.ReusedClientRedisCache",
    )
    # A local-memory cache is per process: another worker would keep a logged-out session.
    assert _session_engine() == (
        "django.contrib.sessions.backends.db",
        "django.core.cache.backends.locmem.LocMemCache",
    )


@pytest.fixture
def cached_sessions(settings):
    settings.SESSION_ENGINE = CACHED_DB


def _session_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_page_reads_the_session_from_the_cache(cached_sessions, client, creditor, user):
    client.force_login(user)
    assert client.get(reverse("case_list")).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("case_list"))

    assert response.status_code == 200
    assert _session_queries(queries) == []


def test_a_logout_ends_the_session_for_every_client(cached_sessions, client, creditor, user):
    client.force_login(user)
    other = Client()  # another browser tab, another worker: the same cookie
    other.cookies[client.cookies["sessionid"].key] = client.cookies["sessionid"].value
    assert other.get(reverse("case_list")).status_code == 200

    client.post(reverse("logout"))
    response = other.get(reverse("case_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


START = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def test_an_idle_cached_session_expires_after_the_timeout(cached_sessions, client, creditor, user):
    page = reverse("case_list")
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(user)
        assert client.get(page).status_code == 200
        clock.move_to(START + dt.timedelta(hours=1, minutes=59))
        assert client.get(page).status_code == 200  # used: the idle clock restarts
        clock.move_to(START + dt.timedelta(hours=4, minutes=0, seconds=1))  # 2 h 1 s idle

        response = client.get(page)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_busy_cached_session_still_ends_after_its_lifetime(
    cached_sessions, client, creditor, user
):
    page = reverse("case_list")
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(user)
        for hours in range(1, 12):
            clock.move_to(START + dt.timedelta(hours=hours, minutes=50))
            assert client.get(page).status_code == 200, hours
        clock.move_to(START + dt.timedelta(hours=12, minutes=1))

        response = client.get(page)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

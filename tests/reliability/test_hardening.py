"""Hardening that fails loudly if it breaks: the CSP's form-action (and that «Gi tilgang» still
reaches Go under it), one-time tokens out of the URL and out of every log, sessions that end,
and one user per e-mail address whatever its case.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from collections_cases.portal.access import access_issue
from integrations.models import PowerOfficeConnection
from kravia_web.log_redaction import redact
from tests.collections_cases.factories_pages import open_case
from tests.conftest import PASSWORD
from tests.integrations.test_onboarding_flow import (  # noqa: F401  (fixtures)
    accept,
    callback_path,
    company,
    go,
    start,
)

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
User = get_user_model()


def csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def form_action_allows(url: str, sources: list[str], *, page_origin: str) -> bool:
    """Whether a form (or its redirect) may go to ``url`` under ``form-action sources`` (the
    CSP source expressions this policy uses: 'self', an origin, https://*.host)."""
    target = urlsplit(url if "://" in url else page_origin + url)
    origin = f"{target.scheme}://{target.netloc}"
    for source in sources:
        if source == "'self'" and origin == page_origin:
            return True
        if source == origin:
            return True
        if "*." in source:
            scheme, _, host = source.partition("://*.")
            if target.scheme == scheme and (target.hostname or "").endswith("." + host):
                return True
    return False


# --- CSP form-action --------------------------------------------------------------------------


def test_every_kind_of_page_restricts_form_action(client, creditor, user):
    client.force_login(user)
    for url in [
        reverse("login"),
        reverse("portal_lookup"),
        reverse("case_list"),
        reverse("creditor_poweroffice", args=[creditor.pk]),
        "/api/v1/cases/",
        reverse("api_docs"),
        reverse("admin:index"),
    ]:
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert csp(response)["form-action"][0] == "'self'", url
        assert "*" not in csp(response)["form-action"], url


def test_gi_tilgang_may_redirect_to_go_under_the_pages_form_action(
    logged_in_client,
    creditor,
    go,  # noqa: F811
):
    page = logged_in_client.get(reverse("creditor_poweroffice", args=[creditor.pk]))
    assert 'action="' + reverse("creditor_poweroffice_connect", args=[creditor.pk]) in (
        page.content.decode()
    )
    sources = csp(page)["form-action"]

    response = logged_in_client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))

    assert response.status_code == 302
    # The sandbox's TemporaryUrl (development, tests) …
    assert form_action_allows(response["Location"], sources, page_origin="http://testserver")
    # … and PowerOffice Go's own onboarding pages in production; nothing else.
    assert form_action_allows(
        "https://go.poweroffice.net/onboarding/abc", sources, page_origin="https://kundeweb.no"
    )
    assert not form_action_allows(
        "https://evil.example/collect", sources, page_origin="https://kundeweb.no"
    )


# --- Tokens out of the URL --------------------------------------------------------------------


def test_the_callback_with_a_token_redirects_to_one_without_it(
    logged_in_client,
    creditor,
    company,  # noqa: F811
    go,  # noqa: F811
):
    session = start(logged_in_client, creditor)
    back = callback_path(accept(session, go.user, company))
    assert "token=" in back

    first = logged_in_client.get(back)

    assert first.status_code == 302
    assert first["Location"] == reverse("poweroffice_callback")
    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()  # not yet

    second = logged_in_client.get(first["Location"])

    assert second.status_code == 302
    assert second["Location"] == reverse("creditor_poweroffice", args=[creditor.pk])
    assert PowerOfficeConnection.objects.get(creditor=creditor).is_connected
    # The answer was used once: a reload of the token-free URL has nothing to finish.
    assert logged_in_client.get(first["Location"]).status_code == 400


def test_password_reset_link_redirects_to_a_token_free_url(client, user):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    response = client.get(reverse("password_reset_confirm", args=[uid, token]))

    assert response.status_code == 302
    assert token not in response["Location"]
    assert response["Location"].endswith("/set-password/")


@pytest.mark.parametrize(
    ("logged", "secret"),
    [
        (
            "GET /passord/nytt/MQ/cz8bq1-0123456789abcdef0123/ HTTP/1.1",
            "cz8bq1-0123456789abcdef0123",
        ),
        ("GET /invitasjon/Zk3-secretinvite/ HTTP/1.1", "Zk3-secretinvite"),
        ("/integrasjon/poweroffice/tilbake/?state=S7ate&status=Success&token=T0ken", "T0ken"),
        ("/integrasjon/poweroffice/tilbake/?state=S7ate&status=Success&token=T0ken", "S7ate"),
        (
            "/logg-inn/?next=/integrasjon/poweroffice/tilbake/%3Fstate%3DS7ate%26token%3DT0ken",
            "T0ken",
        ),
        ("/logg-inn/?next=%2Fpassord%2Fnytt%2FMQ%2Fcz8bq1-abc%2F", "cz8bq1-abc"),
        ("Not Found: /invitasjon/Zk3-secretinvite/", "Zk3-secretinvite"),
    ],
)
def test_redaction_covers_every_form_a_token_takes(logged, secret):
    assert secret not in redact(logged)
    assert "[redacted]" in redact(logged)


def test_redaction_keeps_what_is_not_secret():
    line = "GET /passord/nytt/MQ/set-password/ HTTP/1.1"
    assert redact(line) == line
    assert redact("/api/v1/cases/?status=active&cursor=cD0x") == (
        "/api/v1/cases/?status=active&cursor=cD0x"
    )
    assert "status=Success" in redact("/x/?state=a&status=Success&token=b")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SECRET_REQUESTS = [
    ("/passord/nytt/MQ/SECRET-RESET-1/", {}),
    (
        "/integrasjon/poweroffice/tilbake/?state=SECRET-STATE-2&status=Success&token=SECRET-TOKEN-3",
        {},
    ),
    (
        "/koble-til-poweroffice/tilbake/?state=SECRET-STATE-4&status=Success&token=SECRET-TOKEN-5",
        {},
    ),
    ("/invitasjon/SECRET-INVITE-6/", {}),
    (
        "/logg-inn/?next=%2Fintegrasjon%2Fpoweroffice%2Ftilbake%2F%3Fstate%3Dx%26token%3DSECRET-TOKEN-7",
        {},
    ),
    ("/logg-inn/", {"Referer": "https://kundeweb.example/passord/nytt/MQ/SECRET-RESET-8/"}),
]


def _gunicorn_log(tmp_path, *extra_args) -> str:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kravia_web.settings.test",
        # An empty database: every request is answered (503, "database unavailable") and
        # logged, which is all this test needs.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    log = tmp_path / f"gunicorn-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "kravia_web.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--access-logfile", "-", "--error-logfile", "-", *extra_args,
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            for path, headers in SECRET_REQUESTS:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                conn.getresponse().read()
                conn.close()
            time.sleep(0.5)  # let the access log line reach the file
        finally:
            server.terminate()
            server.wait(timeout=30)
    return log.read_text()


def test_gunicorn_access_log_and_django_logs_hold_no_one_time_token(tmp_path):
    plain = _gunicorn_log(tmp_path)
    ours = _gunicorn_log(tmp_path, "--logger-class", "kravia_web.log_redaction.GunicornLogger")

    # gunicorn's default logger writes the tokens (the reason for the logger class) …
    assert "SECRET-TOKEN-3" in plain and "SECRET-RESET-1" in plain
    # … ours: every request is logged, none of its secrets.
    for path, _headers in SECRET_REQUESTS:
        assert path.split("?")[0].split("SECRET")[0] in ours
    leaked = sorted({word for word in ours.split() if "SECRET-" in word})
    assert leaked == [], leaked
    print(f"[reliability] gunicorn log, redacted: {ours.count('[redacted]')} values")


# --- Sessions end ------------------------------------------------------------------------------

START = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def test_an_idle_session_expires_after_the_timeout(client, creditor, user, settings):
    assert settings.SESSION_IDLE_TIMEOUT == 2 * 60 * 60
    page = reverse("case_list")
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(user)
        assert client.get(page).status_code == 200
        clock.move_to(START + dt.timedelta(hours=1, minutes=59))
        assert client.get(page).status_code == 200  # used: the idle clock restarts

        clock.move_to(START + dt.timedelta(hours=3, minutes=59))  # 2 h 0 min idle: still in
        assert client.get(page).status_code == 200
        clock.move_to(START + dt.timedelta(hours=6, minutes=0, seconds=1))  # 2 h 1 s idle

        response = client.get(page)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"])
    assert "ikke har vært aktiv" in login_page.content.decode()


def test_a_busy_session_still_ends_after_its_lifetime(client, creditor, user, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    page = reverse("case_list")
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(user)
        for hours in range(1, 12):
            clock.move_to(START + dt.timedelta(hours=hours, minutes=50))
            assert client.get(page).status_code == 200, hours
        clock.move_to(START + dt.timedelta(hours=12, minutes=1))

        response = client.get(page)
        api = client.get("/api/v1/cases/")

    assert response.status_code == 302
    assert api.status_code in (401, 403)


def test_min_side_session_expires_when_idle_too(client, creditor, settings):
    case = open_case(creditor)
    with time_machine.travel(START, tick=False) as clock:
        code = access_issue(case=case).code
        lookup = client.post(reverse("portal_lookup"), {"number": case.number, "code": code})
        assert lookup.status_code == 302
        settings.SESSION_IDLE_TIMEOUT = 10 * 60  # shorter than Min side's own 30 minutes
        clock.move_to(START + dt.timedelta(minutes=11))

        response = client.get(reverse("portal_case"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal_lookup")


# --- One user per e-mail, whatever its case ------------------------------------------------------


def _signup(client, email):
    return client.post(
        reverse("signup"),
        {"email": email, "password1": "Et-sterkt-passord-91", "password2": "Et-sterkt-passord-91"},
    )


def test_the_same_address_in_another_case_cannot_sign_up_twice(client, db):
    from django.test import Client

    assert _signup(client, "Ola@Example.no").status_code == 302
    second = _signup(Client(), "ola@example.no")

    assert second.status_code == 200
    assert "Det finnes allerede en bruker" in second.content.decode()
    assert list(User.objects.values_list("email", flat=True)) == ["ola@example.no"]


def test_the_database_refuses_a_second_user_with_the_address_in_another_case(db):
    User.objects.create_user(email="ola@example.no", password=PASSWORD)

    with pytest.raises(ValidationError, match="Det finnes allerede en bruker"):
        User(email="OLA@Example.NO").validate_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Ola@Example.no")  # not through create_user: no lower()


def test_login_is_case_insensitive(client, db):
    User.objects.create_user(email="ola@example.no", password=PASSWORD)

    response = client.post(reverse("login"), {"username": "Ola@EXAMPLE.no", "password": PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


MIGRATION = ("creditors", "0007_user_email_lower_unique")
BEFORE = ("creditors", "0006_list_search_indexes")


def test_the_migration_refuses_duplicates_and_lists_them(transactional_db):
    from creditors.migrations import __name__ as package  # noqa: F401

    duplicate_emails_error = __import__(
        "creditors.migrations.0007_user_email_lower_unique", fromlist=["DuplicateEmails"]
    ).DuplicateEmails
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([BEFORE])
        old_user = executor.loader.project_state([BEFORE]).apps.get_model("creditors", "User")
        first = old_user.objects.create(email="Ola@Example.no", password="x")
        second = old_user.objects.create(email="ola@example.no", password="x")
        old_user.objects.create(email="Kari@Example.no", password="x")

        executor = MigrationExecutor(connection)
        with pytest.raises(duplicate_emails_error) as refused:
            executor.migrate([MIGRATION])

        message = str(refused.value)
        assert f"user #{first.pk} 'Ola@Example.no'" in message
        assert f"user #{second.pk} 'ola@example.no'" in message
        assert "kari" not in message.lower()
        assert "Nothing was changed or merged" in message
        assert old_user.objects.count() == 3  # nothing merged, nothing deleted

        # The administrator resolves it by hand; then the migration goes through.
        old_user.objects.filter(pk=second.pk).delete()
        executor = MigrationExecutor(connection)
        executor.migrate([MIGRATION])
        assert sorted(User.objects.values_list("email", flat=True)) == [
            "kari@example.no",
            "ola@example.no",
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaves)

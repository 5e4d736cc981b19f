"""Security headers on every response, and templates the Content-Security-Policy can serve."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.IGNORECASE)


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("url_name", ["login", "signup", "healthz"])
def test_public_pages_send_a_strict_policy_and_the_other_security_headers(client, db, url_name):
    response = client.get(reverse(url_name))

    csp = policy(response)
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"].split()[0] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_logged_in_pages_and_the_api_carry_the_policy_too(client, db):
    from tests.factories import MembershipFactory

    member = MembershipFactory()
    client.force_login(member.user)

    for url in (reverse("case_list"), "/api/v1/cases/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response)["script-src"] == "'self'", url


@pytest.mark.parametrize("url_name", ["api_docs", "api_redoc"])
def test_only_the_api_docs_may_run_their_viewer_inline(client, db, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert policy(response)["script-src"] == "'self' 'unsafe-inline'"
    assert policy(response)["form-action"].split()[0] == "'self'"


def test_the_policy_comes_from_django_csp(client, db, settings):
    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"][0] == "'self'"


def test_form_action_allows_our_origin_and_powerOffice_onboarding_only(client, db, settings):
    from kravia_web.security_headers import content_security_policy

    built = content_security_policy(
        site_url="https://kundeweb.example.no", onboarding_origins=["https://*.poweroffice.net"]
    )
    assert built["DIRECTIVES"]["form-action"] == [
        "'self'",
        "https://kundeweb.example.no",
        "https://*.poweroffice.net",
    ]
    csp = policy(client.get(reverse("login")))
    assert csp["form-action"] == f"'self' {settings.SITE_URL} https://*.poweroffice.net"


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JAVASCRIPT_URL):
                offenders += [
                    f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)
                ]
    assert offenders == []

"""Min side opens only with the letter's link or code (issue 15, point 1).

The code printed on the letter and the personal link in the e-mail open the case; case number
+ KID open nothing; a tampered, foreign or expired link is refused; a revoked or rotated code
is refused (and ends open sessions); a re-sent letter carries a new code; only an HMAC of a
code is stored; the limits slow guessing without locking out the debtor with the right code.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail, signing
from django.core.cache import cache
from django.db import models
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from collections_cases.dunning.tasks import dunning_run_task  # noqa: F401  (registers the tasks)
from collections_cases.letters import documents
from collections_cases.letters import services as delivery_services
from collections_cases.models import CaseEvent, Letter, LetterDelivery, PortalAccess
from collections_cases.portal import access as portal_access
from collections_cases.portal import services as portal_services
from kravia_web.log_redaction import redact
from tests.collections_cases.delivery_support import fake_renderer, iv_case, small_pdf
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

LOOKUP = reverse("portal_lookup")
CASE = reverse("portal_case")
LINK = reverse("portal_link")
NO_MATCH = "Vi fant ingen sak med dette saksnummeret og denne koden."
CODE_IN_TEXT = re.compile(r"tilgangskoden ([A-Z0-9]{5}-[A-Z0-9]{5})")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(db):
    return open_case(MembershipFactory().creditor)


def login(client, number, code, ip="10.0.0.1", **extra):
    return client.post(LOOKUP, {"number": number, "code": code}, REMOTE_ADDR=ip, **extra)


def opens(client) -> bool:
    return client.get(CASE).status_code == 200


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def link_of(message) -> str:
    found = re.search(r"https?://\S+/min-side/lenke/\?token=\S+", message.body)
    assert found, "the e-mail carries the personal link"
    return found.group(0)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# --- the letter's code and the e-mail's link, end to end ------------------------------------


def test_the_letters_code_and_the_e_mails_link_open_the_case_and_the_kid_does_not(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")
    [message] = mail.outbox
    [(_name, pdf, _type)] = message.attachments
    code = CODE_IN_TEXT.search(pdf_text(pdf)).group(1)
    link = link_of(message)

    # The e-mail carries the link, not the code; the letter explains the login in a sentence.
    assert code not in message.body and code.replace("-", "") not in message.body
    assert "med saksnummer" in pdf_text(pdf) and "gir ikke tilgang" in pdf_text(pdf)
    # Case number + KID: nothing.
    by_kid = Client()
    assert NO_MATCH in login(by_kid, case.number, case.kid).content.decode()
    assert not opens(by_kid)
    # The code from the letter.
    by_code = Client()
    assert login(by_code, case.number, code).status_code == 302
    assert opens(by_code)
    # The link from the e-mail: opens and lands on a URL without the token.
    by_link = Client()
    response = by_link.get(path_of(link))
    assert response.status_code == 302
    assert response["Location"] == CASE and "token" not in response["Location"]
    page = by_link.get(CASE)
    assert page.status_code == 200 and case.number in page.content.decode()
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert token not in page.content.decode()
    # The link never reaches a log line.
    assert token not in redact(f'"GET {path_of(link)} HTTP/1.1" 302')


def test_only_an_hmac_of_the_code_is_stored_anywhere_in_the_database(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")
    [(_name, pdf, _type)] = mail.outbox[0].attachments
    code = CODE_IN_TEXT.search(pdf_text(pdf)).group(1)
    forms_of_code = {code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()}

    text_types = (models.CharField, models.TextField, models.JSONField, models.FileField)
    for model in (PortalAccess, Letter, LetterDelivery, CaseEvent):
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, text_types)]
        for row in model.objects.filter(**_of_case(model, case)).values(*fields):
            stored = repr(row)
            assert not any(form in stored for form in forms_of_code), (model.__name__, row)
    access = PortalAccess.objects.get(case=case)
    assert len(access.code_hash) == 64 and access.salt
    assert portal_access.code_matches(access, code.replace("-", ""))


def _of_case(model, case) -> dict:
    if model is LetterDelivery:
        return {"letter__case": case}
    return {"case": case}


# --- links ------------------------------------------------------------------------------------


def _issued(case):
    return portal_access.access_issue(case=case)


def test_a_tampered_link_is_refused(case):
    token = portal_access.link_token(_issued(case).access)
    tampered = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        "x" + token,  # payload
        signing.dumps({"c": case.pk, "a": _issued(case).access.pk}, salt="another.salt"),
        "",
    ]
    for bad in tampered:
        client = Client()
        response = client.get(LINK, {"token": bad})
        assert response.status_code == 302 and response["Location"] == LOOKUP
        assert not opens(client)
        assert "Lenken er ikke gyldig" in client.get(LOOKUP).content.decode()


def test_a_link_naming_another_cases_access_is_refused(case):
    other = open_case(MembershipFactory().creditor)
    theirs = _issued(other).access
    # Even signed by us, a token whose case and access do not belong together opens nothing.
    forged = signing.dumps({"c": case.pk, "a": theirs.pk}, salt=portal_access.LINK_SALT)
    client = Client()
    client.get(LINK, {"token": forged})
    assert not opens(client)


def test_an_expired_link_is_refused_but_its_code_still_works(case):
    issued = _issued(case)
    token = portal_access.link_token(issued.access)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=portal_access.LINK_MAX_AGE + 60)
    with time_machine.travel(later, tick=False):
        client = Client()
        client.get(LINK, {"token": token})
        assert not opens(client)
        assert "Lenken virker ikke lenger" in client.get(LOOKUP).content.decode()
        assert login(Client(), case.number, issued.code).status_code == 302


def test_a_genuine_link_opens_even_for_an_address_over_its_limit(case):
    issued = _issued(case)
    client = Client()
    for _ in range(portal_services.ADDRESS_FAILURES):
        client.get(LINK, {"token": "forged"}, REMOTE_ADDR="10.9.9.9")
    # Forged links count: the address may no longer try codes …
    assert login(client, case.number, issued.code, ip="10.9.9.9").status_code == 429
    # … but the debtor's real link (a mobile network shares addresses) still opens.
    client.get(LINK, {"token": portal_access.link_token(issued.access)}, REMOTE_ADDR="10.9.9.9")
    assert opens(client)


# --- revoking, rotating -----------------------------------------------------------------------


def test_a_revoked_code_and_its_link_are_refused_and_open_sessions_end(case):
    issued = _issued(case)
    session = Client()
    assert login(session, case.number, issued.code).status_code == 302
    handler = UserFactory(is_staff=True)

    count = portal_access.access_revoke_case(case=case, actor=handler, reason="Brev på avveie")

    assert count == 1
    assert not opens(session)  # the open session ended
    assert NO_MATCH in login(Client(), case.number, issued.code).content.decode()
    client = Client()
    client.get(LINK, {"token": portal_access.link_token(issued.access)})
    assert not opens(client)
    event = case.events.get(kind=CaseEvent.Kind.PORTAL_ACCESS)
    assert event.actor == handler and "Brev på avveie" in event.message


def test_the_newest_codes_stay_valid_and_older_ones_are_rotated_out(case):
    codes = [_issued(case).code for _ in range(portal_access.KEEP_VALID + 1)]

    assert NO_MATCH in login(Client(), case.number, codes[0]).content.decode()
    for code in codes[1:]:
        assert login(Client(), case.number, code).status_code == 302


def test_a_resent_letter_carries_a_new_code_and_the_old_one_stops_working(
    django_capture_on_commit_callbacks, monkeypatch
):
    """Rotation on re-send: the delivery gets a copy of its own with a new code (and its own
    link); the letter's earlier code — on the copy that may have gone astray — is revoked. A
    retry of the re-send sends the same copy and code, not a third."""
    fake_renderer(monkeypatch)
    printed = []

    def letter_document(letter, *, access_code):
        printed.append(access_code)
        return small_pdf()

    monkeypatch.setattr(documents, "letter_document", letter_document)
    case = iv_case(django_capture_on_commit_callbacks, email="ola@example.no")
    letter = Letter.objects.get(case=case)
    first = portal_access.letter_access(letter)
    first_link = link_of(mail.outbox[0])
    assert first is not None and printed == []  # the first delivery sends the stored PDF

    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    fail_once = {"n": 0}

    def flaky(self, messages):
        fail_once["n"] += 1
        if fail_once["n"] == 1:
            raise ConnectionError("SMTP down")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_services.delivery_resend(
            letter=letter,
            channel=LetterDelivery.Channel.EMAIL,
            recipient="ola.ny@example.no",
            actor=UserFactory(is_staff=True),
        )
    resent = LetterDelivery.objects.get(letter=letter, reason=LetterDelivery.Reason.RESEND)
    assert resent.status == LetterDelivery.Status.FAILED and resent.pdf
    LetterDelivery.objects.filter(pk=resent.pk).update(next_attempt_at=dt.datetime.now(dt.UTC))
    delivery_services.delivery_send(delivery_id=resent.pk)

    [new_code] = printed  # rendered once, the retry sent the stored copy
    resent.refresh_from_db()
    assert resent.status == LetterDelivery.Status.SENT
    first.refresh_from_db()
    assert first.revoked_at is not None
    old = Client()
    old.get(path_of(first_link))
    assert not opens(old)
    assert login(Client(), case.number, new_code).status_code == 302
    new = Client()
    new.get(path_of(link_of(mail.outbox[-1])))
    assert opens(new)
    assert PortalAccess.objects.filter(case=case).valid().count() == 1


def test_a_letter_whose_code_was_revoked_before_it_left_gets_a_new_one(
    django_capture_on_commit_callbacks, monkeypatch
):
    fake_renderer(monkeypatch)
    printed = []
    monkeypatch.setattr(
        documents,
        "letter_document",
        lambda letter, *, access_code: printed.append(access_code) or small_pdf(),
    )
    case = open_case(MembershipFactory().creditor)
    case.debtor.email = "ola@example.no"
    case.debtor.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=False):
        letter = Letter.objects.create(
            case=case,
            kind=Letter.Kind.INKASSOVARSEL,
            step="inkassovarsel",
            sent_on=dt.date(2026, 11, 2),
            deadline=dt.date(2026, 11, 16),
        )
    # Rendered (a preview) and its code revoked before the delivery runs.
    documents.letter_pdf(letter)
    portal_access.access_revoke_case(case=case, actor=None, reason="Brev på avveie")

    delivery_services.delivery_send(delivery_id=letter.deliveries.get().pk)

    assert len(printed) == 1
    assert login(Client(), case.number, printed[0]).status_code == 302


# --- admin ------------------------------------------------------------------------------------


def test_the_case_handler_revokes_and_issues_a_code_shown_once(case, client):
    old = _issued(case)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    changelist = reverse("admin:collections_cases_collectioncase_changelist")
    selected = {"_selected_action": [str(case.pk)]}

    client.post(
        changelist,
        {"action": "revoke_portal_access", "apply": "1", "reason": "Ringte: brev på avveie"}
        | selected,
    )
    assert NO_MATCH in login(Client(), case.number, old.code).content.decode()

    response = client.post(
        changelist, {"action": "issue_portal_code", "apply": "1", "reason": "Telefon"} | selected
    )
    assert response.status_code == 200
    assert "no-store" in response.get("Cache-Control", "")
    shown = re.search(r'class="portal-code">([A-Z0-9-]+)<', response.content.decode()).group(1)
    assert login(Client(), case.number, shown).status_code == 302
    events = list(case.events.filter(kind=CaseEvent.Kind.PORTAL_ACCESS).order_by("id"))
    assert [e.actor for e in events] == [staff, staff]
    assert "Ringte: brev på avveie" in events[0].message
    assert all(shown.replace("-", "") not in repr(e.message) + repr(e.data) for e in events)
    # The case page lists the codes without them.
    page = client.get(reverse("admin:collections_cases_collectioncase_change", args=[case.pk]))
    assert page.status_code == 200 and shown not in page.content.decode()


# --- limits -----------------------------------------------------------------------------------


def test_wrong_guesses_from_others_do_not_lock_out_the_debtor_with_the_right_code(case):
    code = _issued(case).code
    attackers = [f"203.0.113.{n}" for n in range(portal_services.CASE_FAILURES)]
    for ip in attackers:
        assert login(Client(), case.number, "ABCDE-FGHJK", ip=ip).status_code == 200

    # The case is under guessing: an address that failed on it is slowed down (refused for
    # the window) even with the right code …
    assert login(Client(), case.number, code, ip=attackers[0]).status_code == 429
    # … a new address gets its one try (a wrong one counts) …
    assert login(Client(), case.number, "ABCDE-FGHJ2", ip="203.0.113.200").status_code == 200
    assert login(Client(), case.number, "ABCDE-FGHJ3", ip="203.0.113.200").status_code == 429
    # … and the debtor, from their own address, gets in with the right code.
    debtor = Client()
    assert login(debtor, case.number, code, ip="198.51.100.7").status_code == 302
    assert opens(debtor)
    # Another case is not affected at all.
    other = open_case(MembershipFactory().creditor)
    other_code = _issued(other).code
    assert login(Client(), other.number, other_code, ip=attackers[0]).status_code == 302


def test_an_address_guessing_across_many_cases_is_refused(case):
    code = _issued(case).code
    for n in range(portal_services.ADDRESS_FAILURES):
        login(Client(), f"K-2026-{n:06d}", "ABCDE-FGHJK", ip="203.0.113.9")

    assert login(Client(), case.number, code, ip="203.0.113.9").status_code == 429
    assert login(Client(), case.number, code, ip="203.0.113.10").status_code == 302


def test_the_limits_count_the_real_address_behind_the_proxy(case, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    code = _issued(case).code

    def behind_proxy(visitor, code):
        return login(
            Client(),
            case.number,
            code,
            ip="10.0.0.254",
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, {visitor}",
        )

    for _ in range(portal_services.CASE_FAILURES):
        behind_proxy("203.0.113.66", "ABCDE-FGHJK")

    assert behind_proxy("203.0.113.66", code).status_code == 429
    # Everyone else behind the same proxy is somebody else.
    assert behind_proxy("198.51.100.7", code).status_code == 302


def test_a_session_moved_to_another_case_opens_nothing(case):
    other = open_case(MembershipFactory().creditor)
    client = Client()
    assert login(client, case.number, _issued(case).code).status_code == 302
    session = client.session
    session[portal_services.SESSION_KEY] = {
        **session[portal_services.SESSION_KEY],
        "case_id": other.pk,
    }
    session.save()

    assert not opens(client)
    # A session from before the codes (a case id, no access) opens nothing either.
    session = client.session
    session[portal_services.SESSION_KEY] = {"case_id": case.pk, "expires": 9e12}
    session.save()
    assert not opens(client)

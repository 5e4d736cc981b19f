import pytest
from django.core import mail
from django.urls import reverse

from creditors.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _signup(client, **overrides):
    data = {
        "email": "kari@bedrift.no",
        "first_name": "Kari",
        "last_name": "Nordmann",
        "password1": "Fjord-kaffe-2026",
        "password2": "Fjord-kaffe-2026",
    } | overrides
    return client.post(reverse("signup"), data)


def test_signup_creates_user_logs_in_and_asks_for_a_creditor(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("creditor_add")
    user = User.objects.get(email="kari@bedrift.no")
    assert user.check_password("Fjord-kaffe-2026")
    assert client.get(reverse("creditor_add")).status_code == 200


def test_signup_applies_django_password_validators(client):
    response = _signup(client, password1="12345678", password2="12345678")

    assert response.status_code == 200
    assert not User.objects.exists()
    assert response.context["form"].errors["password1"]


def test_signup_refuses_mismatched_passwords(client):
    response = _signup(client, password2="Something-else-2026")

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_refuses_an_existing_email_case_insensitively(client, user):
    response = _signup(client, email=user.email.upper())

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert User.objects.count() == 1


def test_login_with_email_and_password(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_shows_an_error_and_does_not_log_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_lock_the_account_out(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.email, "password": "wrong"})

    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "For mange mislykkede innlogginger" in response.content.decode()


def test_logout_is_a_post(logged_in_client):
    response = logged_in_client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in logged_in_client.session


def test_password_reset_sends_a_working_link(client, user):
    client.post(reverse("password_reset"), {"email": user.email})

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/passord/nytt/" in line).strip()
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Nytt-fjordpassord-9", "new_password2": "Nytt-fjordpassord-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Nytt-fjordpassord-9")


@pytest.mark.parametrize("url_name", ["home", "settings_index", "creditor_add"])
def test_kundeweb_pages_require_login(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_english_is_available_through_the_language_switch(logged_in_client):
    logged_in_client.post(reverse("set_language"), {"language": "en", "next": "/"})

    response = logged_in_client.get(reverse("creditor_add"))

    assert response.status_code == 200
    assert "Add creditor" in response.content.decode()


def test_pages_speak_norwegian_even_to_an_english_browser(client):
    response = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    content = response.content.decode()
    assert '<html lang="nb">' in content
    assert "Passordet ditt må bestå av minst 8 tegn." in content

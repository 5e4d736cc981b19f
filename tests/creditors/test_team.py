"""Team: invitations by e-mail (hashed, 7 days, once), roles, removal with an owner always
left, members who may look but not manage, and the Logg page."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from collections_cases.models import CaseEvent
from creditors.models import AuditEntry, Invitation, Membership
from creditors.team import services as team_services
from tests.collections_cases.factories import CollectionCaseFactory
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def invite(client, creditor, email="regnskap@example.no", role="member"):
    return client.post(reverse("team", args=[creditor.pk]), {"email": email, "role": role})


def link_from_mail() -> str:
    match = re.search(r"https?://\S+/invitasjon/(\S+)/", mail.outbox[-1].body)
    return match.group(0), match.group(1)


def test_owner_invites_by_email_with_a_single_use_hashed_token(
    logged_in_client, creditor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(logged_in_client, creditor, "Regnskap@Example.no", "owner")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("regnskap@example.no", "owner")
    week = invitation.expires_at - invitation.created_at
    assert abs(week - dt.timedelta(days=7)) < dt.timedelta(seconds=1)
    url, token = link_from_mail()
    assert mail.outbox[-1].to == ["regnskap@example.no"]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert AuditEntry.objects.get().action == AuditEntry.Action.INVITATION_SENT


def test_new_user_sets_a_password_and_joins(client, creditor, django_capture_on_commit_callbacks):
    owner = creditor.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email="ny@example.no", role="member"
        )
    _url, token = link_from_mail()
    path = reverse("invitation_accept", args=[token])
    assert "Velg passord" in client.get(path).content.decode()
    response = client.post(
        path, {"password1": "Et-godt-passord-42", "password2": "Et-godt-passord-42"}
    )
    assert response["Location"] == reverse("dashboard")
    membership = Membership.objects.get(user__email="ny@example.no")
    assert (membership.creditor, membership.role) == (creditor, Role.MEMBER)
    # Logged in now, and the link is spent: a replay changes nothing.
    assert client.get(reverse("dashboard")).status_code == 200
    replay = client.post(path, {"password1": "x", "password2": "x"})
    assert replay.status_code == 410
    assert Membership.objects.filter(user__email="ny@example.no").count() == 1


def test_existing_user_logs_in_then_accepts_and_holds_many_creditors(
    client, creditor, django_capture_on_commit_callbacks
):
    accountant = MembershipFactory().user  # already has a creditor of their own
    owner = creditor.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email=accountant.email, role="member"
        )
    _url, token = link_from_mail()
    path = reverse("invitation_accept", args=[token])
    response = client.get(path)
    assert response["Location"].startswith(reverse("login"))
    client.force_login(accountant)
    assert "Godta invitasjonen" in client.get(path).content.decode()
    client.post(path)
    assert set(accountant.creditors.all()) >= {creditor}
    assert accountant.creditors.count() == 2


def test_someone_else_cannot_use_the_link(client, creditor):
    owner = creditor.memberships.get().user
    team_services.invitation_create(
        creditor=creditor, actor=owner, email="a@example.no", role="member"
    )
    token = "not-the-token"
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 410
    invitation = Invitation.objects.get()
    other = UserFactory()
    with pytest.raises(Exception, match="Invitasjonen ble sendt til a@example.no"):
        # The right token, the wrong user.
        Invitation.objects.filter(pk=invitation.pk).update(token_hash=team_services.token_hash("t"))
        team_services.invitation_accept(token="t", user=other)
    assert not Membership.objects.filter(user=other).exists()


def test_expired_invitation_is_refused(client, creditor, django_capture_on_commit_callbacks):
    owner = creditor.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email="sen@example.no", role="member"
        )
    _url, token = link_from_mail()
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        response = client.get(reverse("invitation_accept", args=[token]))
        assert response.status_code == 410
        assert "utløpt" in response.content.decode()
        with pytest.raises(Exception, match="utløpt"):
            team_services.invitation_accept_new_user(token=token, password="Et-godt-passord-42")
    assert not Membership.objects.filter(user__email="sen@example.no").exists()


def test_a_new_invitation_replaces_the_old_link(creditor, django_capture_on_commit_callbacks):
    owner = creditor.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email="x@example.no", role="member"
        )
    _url, first = link_from_mail()
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email="x@example.no", role="owner"
        )
    assert team_services.invitation_for_token(first).revoked_at is not None


def test_members_see_the_team_but_cannot_manage(client, creditor):
    member = MembershipFactory(creditor=creditor, role=Role.MEMBER)
    owner_membership = creditor.memberships.get(role=Role.OWNER)
    client.force_login(member.user)
    html = client.get(reverse("team", args=[creditor.pk])).content.decode()
    assert owner_membership.user.email in html
    assert "Bare eiere kan invitere" in html
    assert invite(client, creditor).status_code == 403
    remove = reverse("team_member_remove", args=[creditor.pk, owner_membership.pk])
    assert client.post(remove).status_code == 403
    role = reverse("team_member_role", args=[creditor.pk, owner_membership.pk])
    assert client.post(role, {"role": "member"}).status_code == 403
    assert not Invitation.objects.exists()
    assert Membership.objects.filter(creditor=creditor).count() == 2


def test_the_last_owner_cannot_be_removed_or_demoted(logged_in_client, creditor, user):
    own = Membership.objects.get(user=user, creditor=creditor)
    response = logged_in_client.post(
        reverse("team_member_remove", args=[creditor.pk, own.pk]), follow=True
    )
    assert "siste eieren kan ikke fjernes" in response.content.decode()
    response = logged_in_client.post(
        reverse("team_member_role", args=[creditor.pk, own.pk]), {"role": "member"}, follow=True
    )
    assert "minst én eier" in response.content.decode()
    own.refresh_from_db()
    assert own.role == Role.OWNER


def test_owner_changes_roles_and_removes_access(logged_in_client, creditor, user):
    other = MembershipFactory(creditor=creditor, role=Role.MEMBER)
    logged_in_client.post(
        reverse("team_member_role", args=[creditor.pk, other.pk]), {"role": "owner"}
    )
    other.refresh_from_db()
    assert other.role == Role.OWNER
    # Now there are two owners: I may step down.
    own = Membership.objects.get(user=user, creditor=creditor)
    logged_in_client.post(
        reverse("team_member_role", args=[creditor.pk, own.pk]), {"role": "member"}
    )
    own.refresh_from_db()
    assert own.role == Role.MEMBER
    client_as_other = logged_in_client.__class__()
    client_as_other.force_login(other.user)
    client_as_other.post(reverse("team_member_remove", args=[creditor.pk, own.pk]))
    assert not Membership.objects.filter(pk=own.pk).exists()
    actions = list(AuditEntry.objects.filter(creditor=creditor).values_list("action", flat=True))
    assert actions.count("role_changed") == 2 and "member_removed" in actions


def test_team_pages_of_another_creditor_are_404(logged_in_client):
    stranger = MembershipFactory()
    assert logged_in_client.get(reverse("team", args=[stranger.creditor.pk])).status_code == 404
    url = reverse("team_member_remove", args=[stranger.creditor.pk, stranger.pk])
    assert logged_in_client.post(url).status_code == 404
    assert (
        logged_in_client.get(reverse("audit_log", args=[stranger.creditor.pk])).status_code == 404
    )


def test_logg_lists_team_settings_and_case_events_newest_first(logged_in_client, creditor, user):
    logged_in_client.post(reverse("creditor_settings", args=[creditor.pk]), {})  # invalid: no entry
    from creditors.services import creditor_update_settings

    creditor_update_settings(
        creditor=creditor, actor=user, cleaned_data={"approve_payment_demands": True}
    )
    case = CollectionCaseFactory(creditor=creditor, debtor__creditor=creditor)
    CaseEvent.objects.create(
        case=case, actor=user, kind=CaseEvent.Kind.NOTE, message="Ringte skyldner"
    )
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.LETTER, message="Systemet sendte brev")
    other = MembershipFactory()
    team_services.audit_record(
        creditor=other.creditor,
        actor=other.user,
        action="settings_changed",
        summary="Hemmelig endring",
    )
    html = logged_in_client.get(reverse("audit_log", args=[creditor.pk])).content.decode()
    assert "Ringte skyldner" in html
    assert "Systemet sendte brev" not in html  # no user did that
    assert "Hemmelig endring" not in html
    assert "Endret: Jeg ønsker å godkjenne alle betalingsoppfordringer før utsendelse." in html
    assert html.index("Ringte skyldner") < html.index("Endret:")


def test_logg_is_paginated_in_constant_queries(
    logged_in_client, creditor, user, django_assert_max_num_queries
):
    case = CollectionCaseFactory(creditor=creditor, debtor__creditor=creditor)
    for i in range(60):
        CaseEvent.objects.create(
            case=case, actor=user, kind=CaseEvent.Kind.NOTE, message=f"Notat {i}"
        )
        team_services.audit_record(
            creditor=creditor, actor=user, action="settings_changed", summary=f"Endring {i}"
        )
    with django_assert_max_num_queries(10):
        first = logged_in_client.get(reverse("audit_log", args=[creditor.pk])).content.decode()
    assert "Side 1 av 3" in first
    last = logged_in_client.get(
        reverse("audit_log", args=[creditor.pk]) + "?side=3"
    ).content.decode()
    assert "Notat 0" in last or "Endring 0" in last


def test_audit_entries_are_append_only(creditor, user):
    entry = team_services.audit_record(
        creditor=creditor, actor=user, action="settings_changed", summary="x"
    )
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_login_with_password_still_works_for_invited_user(
    client, creditor, django_capture_on_commit_callbacks
):
    owner = creditor.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_create(
            creditor=creditor, actor=owner, email="p@example.no", role="member"
        )
    _url, token = link_from_mail()
    client.post(
        reverse("invitation_accept", args=[token]), {"password1": PASSWORD, "password2": PASSWORD}
    )
    user = Membership.objects.get(user__email="p@example.no").user
    assert user.check_password(PASSWORD)

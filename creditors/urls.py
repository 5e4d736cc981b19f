from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from creditors import views
from creditors.forms import EmailAuthenticationForm
from creditors.team import views as team_views

urlpatterns = [
    path("", views.home, name="home"),
    path("registrer/", views.signup, name="signup"),
    path(
        "logg-inn/",
        login_not_required(
            auth_views.LoginView.as_view(
                authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "passord/glemt/",
        login_not_required(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "passord/glemt/sendt/",
        login_not_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "passord/nytt/<uidb64>/<token>/",
        login_not_required(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "passord/nytt/ferdig/",
        login_not_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("innstillinger/", views.settings_index, name="settings_index"),
    path("innstillinger/kreditorer/ny/", views.creditor_add, name="creditor_add"),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/",
        views.creditor_settings,
        name="creditor_settings",
    ),
    path("kreditor/velg/", views.creditor_switch, name="creditor_switch"),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/kontonummer/bekreft/",
        views.payout_account_confirm,
        name="payout_account_confirm",
    ),
    path("innstillinger/kreditorer/<int:creditor_id>/team/", team_views.team, name="team"),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/team/<int:membership_id>/rolle/",
        team_views.team_member_role,
        name="team_member_role",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/team/<int:membership_id>/fjern/",
        team_views.team_member_remove,
        name="team_member_remove",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/invitasjoner/<int:invitation_id>/trekk-tilbake/",
        team_views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("invitasjon/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
]

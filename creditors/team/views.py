"""*Team*: who has access to a creditor, invitations by e-mail, roles and removal (thin)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from creditors import selectors
from creditors.models import User
from creditors.team import selectors as team_selectors
from creditors.team import services as team_services
from creditors.team.forms import AcceptNewUserForm, InviteForm, RoleForm
from kravia_web.errors import ApplicationError


def team(request, creditor_id):
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    is_owner = team_services.is_owner(user=request.user, creditor=creditor)
    form = InviteForm(request.POST or None) if is_owner else None
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied(_("Bare eiere kan invitere."))
        if form.is_valid():
            try:
                invitation = team_services.invitation_create(
                    creditor=creditor, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error("email", exc.message)
            else:
                messages.success(
                    request,
                    _("Invitasjonen er sendt til %(email)s. Lenken virker i 7 dager.")
                    % {"email": invitation.email},
                )
                return redirect("team", creditor_id=creditor.pk)
    return render(
        request,
        "creditors/team.html",
        {
            "creditor": creditor,
            "is_owner": is_owner,
            "form": form,
            "members": team_selectors.team_members(creditor=creditor),
            "invitations": team_selectors.team_invitations_pending(creditor=creditor),
            "roles": RoleForm.base_fields["role"].choices,
        },
    )


@require_POST
def team_member_role(request, creditor_id, membership_id):
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    membership = team_selectors.membership_get(creditor=creditor, membership_id=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Velg en rolle."))
        return redirect("team", creditor_id=creditor.pk)
    try:
        team_services.membership_change_role(
            membership=membership, actor=request.user, role=form.cleaned_data["role"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Rollen er endret."))
    return redirect("team", creditor_id=creditor.pk)


@require_POST
def team_member_remove(request, creditor_id, membership_id):
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    membership = team_selectors.membership_get(creditor=creditor, membership_id=membership_id)
    try:
        team_services.membership_remove(membership=membership, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("team", creditor_id=creditor.pk)
    messages.success(
        request, _("Tilgangen til %(email)s er fjernet.") % {"email": membership.user.email}
    )
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("team", creditor_id=creditor.pk)


@require_POST
def team_invitation_revoke(request, creditor_id, invitation_id):
    creditor = selectors.creditor_get_for_user(user=request.user, creditor_id=creditor_id)
    invitation = team_selectors.invitation_get(creditor=creditor, invitation_id=invitation_id)
    team_services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, _("Invitasjonen er trukket tilbake."))
    return redirect("team", creditor_id=creditor.pk)


@login_not_required
def invitation_accept(request, token):
    """The link in the invitation e-mail: accept as the logged-in user, log in first, or
    choose a password for a new user with the invited address."""
    invitation = team_services.invitation_for_token(token)
    context = {"invitation": invitation}
    if invitation is None or not invitation.is_pending:
        return render(request, "creditors/invitation_accept.html", context, status=410)
    user = request.user
    existing = User.objects.filter(email__iexact=invitation.email).exists()
    if user.is_authenticated:
        if request.method == "POST":
            try:
                membership = team_services.invitation_accept(token=token, user=user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect("invitation_accept", token=token)
            return _welcome(request, membership)
        return render(request, "creditors/invitation_accept.html", context)
    if existing:
        return redirect_to_login(request.get_full_path())
    form = AcceptNewUserForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = team_services.invitation_accept_new_user(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invitation_accept", token=token)
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        return _welcome(request, membership)
    context["form"] = form
    return render(request, "creditors/invitation_accept.html", context)


def _welcome(request, membership):
    request.session[selectors.ACTIVE_CREDITOR_SESSION_KEY] = membership.creditor_id
    messages.success(
        request,
        _("Velkommen! Du har nå tilgang til %(name)s.") % {"name": membership.creditor.name},
    )
    return redirect("dashboard")

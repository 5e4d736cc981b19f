from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from creditors.models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-post"), max_length=254)
    role = forms.ChoiceField(
        label=_("Rolle"),
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text=_(
            "Medlemmer ser og følger opp sakene. Eiere kan i tillegg invitere, endre roller og "
            "fjerne tilgang."
        ),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Rolle"), choices=Membership.Role.choices)


class AcceptNewUserForm(forms.Form):
    first_name = forms.CharField(label=_("Fornavn"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Etternavn"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Velg passord"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Gjenta passordet"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Passordene er ikke like."))
        elif p1:
            from creditors.models import User

            try:
                password_validation.validate_password(p1, User(email=self.email))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data

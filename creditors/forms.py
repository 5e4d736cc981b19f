from typing import NamedTuple

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor
from creditors.validators import (
    normalize_bank_account,
    normalize_org_number,
    validate_bank_account,
    validate_org_number,
)


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-post"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(label=_("Fornavn"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Etternavn"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Passord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Gjenta passord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request so it comes out in the visitor's language.
        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Passordene er ikke like."))
        elif p1:
            from creditors.models import User

            probe = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-post"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class OrgNumberField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Organisasjonsnummer"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_org_number(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            validate_org_number(value)


class CreditorAddForm(forms.Form):
    org_number = OrgNumberField(help_text=_("9 siffer, for eksempel 923 609 016."))
    name = forms.CharField(label=_("Firmanavn"), max_length=200)
    email = forms.EmailField(
        label=_("Primær e-post"),
        required=False,
        help_text=_("Den vi kontakter underveis. Står den tom, bruker vi din e-post."),
    )


class SettingsGroup(NamedTuple):
    """One card on the settings page: its fields, an optional advice under the title, and
    whether the fields sit two to a row."""

    title: str
    fields: tuple[str, ...]
    help: str = ""
    two_columns: bool = False


SETTINGS_GROUPS = [
    SettingsGroup(
        _("Selskapsinformasjon"),
        (
            "name",
            "address_line",
            "postal_code",
            "postal_city",
            "email",
            "bank_account",
            "vat_registered",
        ),
        two_columns=True,
    ),
    SettingsGroup(_("Bokføring"), ("bookkeeping_mode",)),
    SettingsGroup(_("Oppgjør"), ("settlement_frequency", "interest_to"), two_columns=True),
    SettingsGroup(
        _("Kontoer"),
        (
            "account_bank",
            "account_receivables",
            "account_collection_cost",
            "account_input_vat",
            "account_interest_income",
            "account_loss",
        ),
    ),
    SettingsGroup(
        _("Manuell godkjenning"),
        ("approve_cases_before_start", "approve_payment_demands"),
        help=_("Med PowerOffice Go skal begge være av: godkjenningen i Go overstyrer disse."),
    ),
    SettingsGroup(_("Automatisering"), ("auto_start_released_invoices", "entry_step")),
    SettingsGroup(_("Brev"), ("attach_original_invoice",)),
    SettingsGroup(
        _("Varsler"),
        (
            "notification_frequency",
            "notify_awaiting_approval",
            "notify_disputes",
            "notify_legal_requests",
            "notify_weekly_summary",
        ),
    ),
]


class CreditorSettingsForm(forms.ModelForm):
    # Typed with spaces or dots ("8601 11 17947"); compacted and checked in clean_bank_account.
    bank_account = forms.CharField(
        # capfirst keeps the label lazy (str.capitalize() froze it in the default language).
        label=capfirst(Creditor._meta.get_field("bank_account").verbose_name),
        help_text=Creditor._meta.get_field("bank_account").help_text,
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "8601 11 17947"}),
    )

    class Meta:
        model = Creditor
        fields = [name for group in SETTINGS_GROUPS for name in group.fields]
        widgets = {
            "bookkeeping_mode": forms.RadioSelect,
            "entry_step": forms.RadioSelect,
            "settlement_frequency": forms.RadioSelect,
            "interest_to": forms.RadioSelect,
            "notification_frequency": forms.RadioSelect,
        }

    def __init__(self, *args, owner: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        if not owner:
            # Members see the money settings but cannot change them: a disabled field keeps
            # its stored value whatever is posted (the view answers 403 to a member who posts
            # one anyway).
            from creditors.permissions import OWNER_FIELDS, OWNER_ONLY_REASON

            for name in OWNER_FIELDS & set(self.fields):
                field = self.fields[name]
                field.disabled = True
                field.help_text = f"{field.help_text} {OWNER_ONLY_REASON}".strip()

    def clean_bank_account(self):
        value = normalize_bank_account(self.cleaned_data.get("bank_account", ""))
        if value:
            validate_bank_account(value)
        return value

    def groups(self):
        """The cards of the settings page: each group with its bound fields."""
        return [
            {"group": group, "fields": [self[name] for name in group.fields]}
            for group in SETTINGS_GROUPS
        ]

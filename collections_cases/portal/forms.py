"""Forms of Min side and of the payment-plan decision in Kundeweb."""

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_cases.plans.services import MAX_INSTALMENTS, MIN_INSTALMENTS

MIN_OBJECTION_LENGTH = 20


class LookupForm(forms.Form):
    """Case number and the access code printed on the letter (the KID is not asked for: it is
    the payment reference and opens nothing)."""

    number = forms.CharField(
        label=_("Saksnummer"),
        max_length=40,
        help_text=_("Står øverst i brevet, for eksempel K-2026-000123."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    code = forms.CharField(
        label=_("Tilgangskode"),
        max_length=40,
        help_text=_("Står i brevet under «Min side», for eksempel K7QXM-4TPR2."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Hvorfor er du uenig i kravet?"),
        min_length=MIN_OBJECTION_LENGTH,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Forklar kort hva du mener er feil, for eksempel at fakturaen er betalt, at varen "
            "ikke ble levert eller at beløpet er feil."
        ),
    )


class PaymentPlanRequestForm(forms.Form):
    instalment_count = forms.TypedChoiceField(
        label=_("Antall månedlige avdrag"),
        coerce=int,
        choices=[(n, str(n)) for n in range(MIN_INSTALMENTS, MAX_INSTALMENTS + 1)],
        initial=3,
    )
    first_due = forms.DateField(
        label=_("Første avdrag betales"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        help_text=_("Senest én måned fra i dag. Resten betales samme dato hver måned."),
    )


class PaymentPlanDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Merknad"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Påkrevd når du avslår. Skyldneren ser merknaden på Min side."),
    )

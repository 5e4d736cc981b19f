from django import forms
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor


class GiTilgangForm(forms.Form):
    """Shows the organisation number PoGo will be asked for; the service uses the creditor's."""

    org_number = forms.CharField(label=_("Organisasjonsnummer"), disabled=True, required=False)


class ConnectionReviewForm(forms.ModelForm):
    """The settings to check right after connecting: e-mail, bookkeeping, approval switches."""

    class Meta:
        model = Creditor
        fields = [
            "email",
            "bookkeeping_mode",
            "approve_cases_before_start",
            "approve_payment_demands",
        ]
        widgets = {"bookkeeping_mode": forms.RadioSelect}

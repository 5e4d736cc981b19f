from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.webhooks.models import EventType


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Adressen vi sender hendelsene til med POST. Må bruke https."),
    )
    description = forms.CharField(label=_("Beskrivelse"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Hendelser"),
        choices=EventType.choices,
        initial=list(EventType.values),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Velg minst én hendelse.")},
    )

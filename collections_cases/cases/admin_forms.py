"""The forms and the limitation filter of the case admin's actions."""

import logging
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_cases.cases import limitation
from collections_cases.cases import services as case_services

logger = logging.getLogger(__name__)

OSLO = ZoneInfo("Europe/Oslo")


class NewPortalCodeForm(forms.Form):
    reason = forms.CharField(
        label=_("Årsak"),
        required=False,
        max_length=300,
        help_text=_("For eksempel «Skyldner ringte, fant ikke brevet»."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Årsak"), widget=forms.Textarea(attrs={"rows": 3}))


class PauseForm(ReasonForm):
    until = forms.DateField(
        label=_("På vent til"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Tom: på vent til saken gjenopptas manuelt."),
    )


class InterruptionForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Avbrudd"),
        choices=[
            (code, label)
            for code, label in limitation.INTERRUPTION_REASONS.items()
            if code != "part_payment"  # payments record it themselves
        ],
    )
    on = forms.DateField(
        label=_("Dato"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Dagen skyldner erkjente kravet, eller forliksklagen, søksmålet eller begjæringen "
            "om utlegg ble sendt. Ny foreldelsesdato blir 3 år etter denne datoen."
        ),
    )

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(gettext("Datoen kan ikke være frem i tid."))
        return on


class LegalStepForm(forms.Form):
    step = forms.ChoiceField(label=_("Tiltak"), choices=list(case_services.LEGAL_STEPS.items()))
    on = forms.DateField(
        label=_("Dato"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Dagen tiltaket ble sendt; foreldelsen avbrytes fra denne datoen."),
    )
    reference = forms.CharField(label=_("Referanse"), required=False, max_length=200)

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(gettext("Datoen kan ikke være frem i tid."))
        return on


class CloseTimeBarredForm(forms.Form):
    note = forms.CharField(
        label=_("Merknad"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class LimitationFilter(admin.SimpleListFilter):
    """Foreldelse: passed (time-barred, still open), within 60 days, interrupted."""

    title = _("foreldelse")
    parameter_name = "limitation"

    def lookups(self, request, model_admin):
        return [
            ("passed", _("Foreldet (åpne saker)")),
            ("soon", _("Foreldes innen %(days)d dager") % {"days": limitation.WARNING_DAYS}),
            ("interrupted", _("Avbrutt")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "passed":
            return queryset.filter(pk__in=limitation.limitation_passed_cases(on=today))
        if self.value() == "soon":
            return queryset.filter(pk__in=limitation.limitation_warning_cases(on=today))
        if self.value() == "interrupted":
            return queryset.filter(limitation_interrupted_on__isnull=False)
        return queryset


# The admin's front page warns about rule tables that end (collections_cases/rule_warnings.py).
admin.site.index_template = "admin/kravia_index.html"
# The lists must fit 1 280 px beside their filters: no app list down the left of every page
# (the front page lists the apps; the breadcrumbs lead back). It also held English strings.
admin.site.enable_nav_sidebar = False

"""Forms for the Kundeweb case pages: they parse and validate input; services decide."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.models import Invoice
from kravia_web.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, format_nok, to_ore

DATE_INPUT_FORMATS = ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y"]
REASON_MAX_LENGTH = 1000


def _date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        help_text=help_text,
        widget=forms.DateInput(
            format="%d.%m.%Y", attrs={"placeholder": _("dd.mm.åååå"), "inputmode": "numeric"}
        ),
        error_messages={"invalid": _("Skriv datoen som dd.mm.åååå, for eksempel 31.01.2026.")},
    )


def _reason_field(label, *, required=True, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NokAmountField(forms.Field):
    """An amount in kroner written the Norwegian way (``1 234,50``, ``1.234,50``) or the
    computer way (``1234.50``); cleaned to a ``Decimal`` in øre."""

    default_error_messages = {
        "invalid": _("Skriv beløpet med siffer, for eksempel 1 234,50."),
        "decimals": _("Beløpet kan ha høyst to desimaler."),
        "too_large": _("Beløpet er for stort."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        if len(text) > 30:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        text = text.replace("\u00a0", "").replace(" ", "").replace("\u2009", "")
        text = text.removeprefix("kr").removeprefix("NOK").strip()
        if "," in text:
            # Norwegian: the comma is the decimal mark, dots group thousands.
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not amount.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        # What a money column holds (14 digits, 2 of them øre); "1E30" would not even round.
        if amount.adjusted() >= MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        if amount != to_ore(amount):
            raise forms.ValidationError(self.error_messages["decimals"], code="decimals")
        return to_ore(amount)


# --------------------------------------------------------------------------------------------
# Case actions
# --------------------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    pass


class ResumeForm(forms.Form):
    pass


class PauseForm(forms.Form):
    reason = _reason_field(_("Årsak"))
    until = _date_field(
        _("Gjenoppta automatisk"),
        required=False,
        help_text=_("Valgfritt. Uten dato står saken på vent til du gjenopptar den."),
    )

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.localdate():
            raise forms.ValidationError(_("Datoen må være frem i tid."))
        return until


class WithdrawForm(forms.Form):
    reason = _reason_field(_("Årsak"))
    confirm = forms.BooleanField(
        label=_("Ja, trekk saken tilbake. Den avsluttes og kan ikke gjenåpnes."),
        error_messages={"required": _("Bekreft at saken skal trekkes tilbake.")},
    )


class DisputeForm(forms.Form):
    reason = _reason_field(
        _("Skyldners innsigelse"),
        help_text=_(
            "Saken stanses, og det påløper ingen nye kostnader før innsigelsen er avklart."
        ),
    )


class ResolveDisputeForm(forms.Form):
    note = _reason_field(_("Merknad"), required=False)


class NoteForm(forms.Form):
    text = _reason_field(_("Notat"))


class DirectPaymentForm(forms.Form):
    amount = NokAmountField(label=_("Beløp"), help_text=_("For eksempel 1 234,50."))
    paid_on = _date_field(_("Betalt dato"))
    reference = forms.CharField(label=_("Referanse"), required=False, max_length=200)

    def __init__(self, *args, max_amount: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_amount = max_amount

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("Beløpet må være større enn null."))
        if self.max_amount is not None and amount > self.max_amount:
            raise forms.ValidationError(
                _("Beløpet kan ikke være større enn udekket hovedstol, %(max)s.")
                % {"max": format_nok(self.max_amount)}
            )
        return amount

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("Betalingsdatoen kan ikke være frem i tid."))
        return paid_on


# --------------------------------------------------------------------------------------------
# Klar for inkasso
# --------------------------------------------------------------------------------------------


class StartCollectionForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(
        queryset=Invoice.objects.none(),
        error_messages={"required": _("Velg minst én faktura.")},
    )

    def __init__(self, *args, creditor, **kwargs):
        super().__init__(*args, **kwargs)
        # Scoped: an id of another creditor's invoice is not a valid choice.
        self.fields["invoices"].queryset = Invoice.objects.filter(creditor=creditor).select_related(
            "debtor"
        )


# --------------------------------------------------------------------------------------------
# Skyldnere
# --------------------------------------------------------------------------------------------

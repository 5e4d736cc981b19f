"""Forms behind Go's screens. Validation only: every change goes through ``pogo_sandbox.domain``."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth.hashers import check_password, make_password

from kravia_web.money import format_nok
from pogo_sandbox.models import Company, Customer, GoUser

# A hash to compare against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = make_password("ikke-et-passord")

DATE_INPUT_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]


class LoginForm(forms.Form):
    email = forms.EmailField(label="E-post")
    password = forms.CharField(label="Passord", strip=False, widget=forms.PasswordInput)

    error_messages = {"invalid_login": "Feil e-post eller passord."}

    def clean(self):
        cleaned = super().clean()
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            user = GoUser.objects.filter(email__iexact=email).first()
            encoded = user.password if user else _DUMMY_HASH
            if not check_password(password, encoded) or user is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_login"], code="invalid_login"
                )
            self.user = user
        return cleaned


class ReminderSettingsForm(forms.ModelForm):
    """Meny → Innstillinger → Purring & inkasso."""

    payment_reminder_days_after_due = forms.IntegerField(
        label="Dager etter forfall",
        min_value=1,
        max_value=365,
        help_text="Vi anbefaler 5 dager etter forfall.",
    )
    payment_reminder_repeat_days = forms.IntegerField(
        label="Gjenta hver … dag",
        min_value=1,
        max_value=365,
        help_text="Vi anbefaler hver femte dag inntil neste steg.",
    )
    reminder_deadline_days = forms.IntegerField(
        label="Betalingsfrist i purring og inkassovarsel (dager)",
        min_value=1,
        max_value=90,
        help_text="Et inkassovarsel må gi minst 14 dagers frist (inkassoloven § 9).",
    )

    class Meta:
        model = Company
        fields = [
            "payment_reminder_enabled",
            "payment_reminder_days_after_due",
            "payment_reminder_repeat_days",
            "purring_enabled",
            "inkassovarsel_enabled",
            "reminder_deadline_days",
            "attach_original_invoice",
            "auto_transfer_to_agency",
        ]
        labels = {
            "payment_reminder_enabled": "Send automatisk betalingspåminnelse",
            "purring_enabled": "Send purring fra Go",
            "inkassovarsel_enabled": "Send inkassovarsel fra Go",
            "attach_original_invoice": "Legg ved originalfaktura",
            "auto_transfer_to_agency": "Godkjenn automatisk fakturaoverføring til inkassobyrå",
        }
        help_texts = {
            "payment_reminder_enabled": (
                "En gebyrfri påminnelse på e-post om at fakturaen er forfalt. Sendes bare til "
                "kunder med e-postadresse på kundekortet."
            ),
            "purring_enabled": (
                "Vi anbefaler at purring og inkassovarsel fra Go står av. Da sender "
                "inkassobyrået inkassovarsel 14 dager etter forfall, noe som erfaringsmessig gir "
                "større effekt på innbetalingen."
            ),
            "inkassovarsel_enabled": (
                "Står purring eller inkassovarsel på, kommer fakturaen under Inkasso → Utkast "
                "dagen etter at fristen i det siste brevet er ute."
            ),
            "attach_original_invoice": (
                "Inkassobyrået får originalfakturaen sammen med saken. Anbefales."
            ),
            "auto_transfer_to_agency": (
                "Alle forfalte fakturaer går direkte til inkassobyrået uten godkjenning under "
                "Inkasso → Utkast. Gjelder bare kunder med «Overfør til inkassobyrå» på "
                "kundekortet. Vi anbefaler dette når kundene betaler med tvungen KID, slik at "
                "innbetalingene alltid er ajour."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        deadline = cleaned.get("reminder_deadline_days")
        if cleaned.get("inkassovarsel_enabled") and deadline is not None and deadline < 14:
            self.add_error(
                "reminder_deadline_days",
                "Fristen i et inkassovarsel må være minst 14 dager (inkassoloven § 9).",
            )
        return cleaned


DELIVERY_TYPES = [("PdfByEmail", "E-post (PDF)"), ("Print", "Utskrift (post)")]


class CustomerForm(forms.ModelForm):
    """The customer card: contact details and the Purringer flags."""

    reminder_delivery_type = forms.ChoiceField(label="Purring sendes som", choices=DELIVERY_TYPES)
    notice_of_debt_collection_delivery_type = forms.ChoiceField(
        label="Inkassovarsel sendes som", choices=DELIVERY_TYPES
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "first_name",
            "last_name",
            "organization_number",
            "email_address",
            "invoice_email_address",
            "payment_reminder_email_address",
            "phone_number",
            "address_line1",
            "zip_code",
            "city",
            "country_code",
            "transfer_to_debt_collection_agency",
            "send_payment_reminders",
            "do_not_add_late_payment_fees",
            "do_not_add_late_payment_interest",
            "reminder_delivery_type",
            "notice_of_debt_collection_delivery_type",
        ]
        labels = {
            "name": "Navn",
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "organization_number": "Organisasjonsnummer",
            "email_address": "E-post",
            "invoice_email_address": "E-post for faktura",
            "payment_reminder_email_address": "E-post for purringer",
            "phone_number": "Telefon",
            "address_line1": "Adresse",
            "zip_code": "Postnummer",
            "city": "Poststed",
            "country_code": "Landkode",
            "transfer_to_debt_collection_agency": "Overfør til inkassobyrå",
            "send_payment_reminders": "Send betalingspåminnelser og purringer",
            "do_not_add_late_payment_fees": "Ikke legg til purregebyr",
            "do_not_add_late_payment_interest": "Ikke beregn forsinkelsesrente",
        }
        help_texts = {
            "transfer_to_debt_collection_agency": (
                "Uten hake blir det aldri startet en inkassosak på denne kunden."
            ),
            "payment_reminder_email_address": "Brukes før «E-post» når purringer sendes.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.is_person:
            del self.fields["name"]
            del self.fields["organization_number"]
            self.fields["first_name"].required = True
            self.fields["last_name"].required = True
            if not (self.instance.first_name or self.instance.last_name):
                first, _, last = self.instance.name.rpartition(" ")
                self.initial["first_name"] = first or last
                self.initial["last_name"] = last if first else ""
        else:
            del self.fields["first_name"]
            del self.fields["last_name"]
        # Keep a value the API stored that the screen does not offer, instead of refusing it.
        for name in ("reminder_delivery_type", "notice_of_debt_collection_delivery_type"):
            value = getattr(self.instance, name, "")
            if value and value not in dict(DELIVERY_TYPES):
                self.fields[name].choices = [*DELIVERY_TYPES, (value, value)]

    def save(self, commit=True):
        customer = super().save(commit=False)
        if customer.is_person:
            customer.name = f"{customer.first_name} {customer.last_name}".strip()
        if commit:
            customer.save()
        return customer


class _InvoiceActionForm(forms.Form):
    on = forms.DateField(
        label="Dato",
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(
            format="%d.%m.%Y", attrs={"placeholder": "dd.mm.åååå", "inputmode": "numeric"}
        ),
        error_messages={"invalid": "Skriv en gyldig dato.", "required": "Velg en dato."},
    )

    def __init__(self, *args, invoice, today: dt.date, **kwargs):
        kwargs.setdefault("auto_id", f"id_{invoice.invoice_no}_{self.action}_%s")
        kwargs.setdefault("initial", {"on": today})
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        self.today = today

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > self.today:
            raise forms.ValidationError("Datoen kan ikke være frem i tid.")
        if on < self.invoice.voucher_date:
            raise forms.ValidationError("Datoen kan ikke være før fakturadatoen.")
        return on


class AmountField(forms.DecimalField):
    """Accepts ``1234,50``, ``1 234,50`` and ``1234.50``."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, localize=True, **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if isinstance(value, str):
            value = "".join(value.split()).removeprefix("kr")
        return super().to_python(value)


class _AmountActionForm(_InvoiceActionForm):
    amount = AmountField(
        label="Beløp",
        error_messages={"invalid": "Skriv et gyldig beløp.", "required": "Skriv et beløp."},
    )

    field_order = ["amount", "on"]

    def clean_amount(self):
        amount: Decimal = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("Beløpet må være større enn null.")
        if amount > self.invoice.balance:
            raise forms.ValidationError(
                f"Beløpet kan ikke være større enn restbeløpet ({format_nok(self.invoice.balance)})."
            )
        return amount


class PaymentForm(_AmountActionForm):
    action = "innbetaling"
    button = "Registrer innbetaling"


class CreditNoteForm(_AmountActionForm):
    action = "kreditnota"
    button = "Kreditnota"


class WriteOffForm(_InvoiceActionForm):
    """Avskriv: the whole remaining balance."""

    action = "avskriv"
    button = "Avskriv"

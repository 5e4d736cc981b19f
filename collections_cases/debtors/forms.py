"""The debtor page's form: contact details and the debtor's collection profile."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from creditors.models import Creditor, Debtor

DATE_INPUT_FORMATS = ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y"]
REASON_MAX_LENGTH = 1000


class DebtorForm(forms.ModelForm):
    """Contact details and the debtor's own collection profile (overrides the creditor's)."""

    CONTACT_FIELDS = (
        "email",
        "reminder_email",
        "phone",
        "address_line",
        "postal_code",
        "postal_city",
    )
    PROFILE_FIELDS = (
        "entry_step",
        "do_not_add_late_payment_interest",
        "do_not_add_late_payment_fees",
        "collection_opt_out",
    )

    class Meta:
        model = Debtor
        fields = (
            "email",
            "reminder_email",
            "phone",
            "address_line",
            "postal_code",
            "postal_city",
            "entry_step",
            "do_not_add_late_payment_interest",
            "do_not_add_late_payment_fees",
            "collection_opt_out",
        )
        labels = {
            "email": _("E-post"),
            "reminder_email": _("E-post for inkassobrev"),
            "phone": _("Telefon"),
            "address_line": _("Adresse"),
            "postal_code": _("Postnummer"),
            "postal_city": _("Poststed"),
            "entry_step": _("Første steg"),
            "do_not_add_late_payment_interest": _("Ikke beregn forsinkelsesrente"),
            "do_not_add_late_payment_fees": _("Ikke legg til gebyrer"),
            "collection_opt_out": _("Unntatt fra inkasso"),
        }
        help_texts = {
            "collection_opt_out": _(
                "Det startes ingen nye saker mot denne skyldneren. Åpne saker fortsetter til "
                "du trekker dem tilbake."
            ),
            "reminder_email": _("Tom: vi bruker e-postadressen i feltet E-post."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        creditor_default = self.instance.creditor.get_entry_step_display()
        self.fields["entry_step"].choices = [
            ("", _("Kreditorens standard (%(step)s)") % {"step": creditor_default}),
            *Creditor.EntryStep.choices,
        ]
        self.fields["entry_step"].help_text = _("Gjelder nye saker mot denne skyldneren.")

    def contact_fields(self):
        return [self[name] for name in self.CONTACT_FIELDS]

    def profile_fields(self):
        return [self[name] for name in self.PROFILE_FIELDS]

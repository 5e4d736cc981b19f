"""Norwegian identifiers: organisation number and bank account (python-stdnum)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer, kontonr, orgnr


def normalize_org_number(value: str) -> str:
    return orgnr.compact(value or "")


def validate_org_number(value: str) -> None:
    try:
        orgnr.validate(value)
    except InvalidLength:
        raise ValidationError(
            _("Et organisasjonsnummer har 9 siffer. «%(value)s» har ikke det."),
            code="org_number_length",
            params={"value": value},
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _("Et organisasjonsnummer består bare av siffer."),
            code="org_number_format",
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _(
                "%(value)s er ikke et gyldig organisasjonsnummer (kontrollsifferet stemmer ikke). "
                "Sjekk at du har skrevet det riktig."
            ),
            code="org_number_checksum",
            params={"value": value},
        ) from None
    except StdnumError:
        raise ValidationError(_("Ugyldig organisasjonsnummer."), code="org_number") from None


def normalize_bank_account(value: str) -> str:
    return kontonr.compact(value or "")


def validate_bank_account(value: str) -> None:
    try:
        compact = kontonr.compact(value)
        if len(compact) != 11:
            raise InvalidLength()
        kontonr.validate(compact)
    except InvalidLength:
        raise ValidationError(
            _("Et kontonummer har 11 siffer (for eksempel 8601 11 17947)."),
            code="bank_account_length",
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _("Et kontonummer består bare av siffer."), code="bank_account_format"
        ) from None
    except (InvalidChecksum, StdnumError):
        raise ValidationError(
            _("%(value)s er ikke et gyldig kontonummer (kontrollsifferet stemmer ikke)."),
            code="bank_account_checksum",
            params={"value": value},
        ) from None


def org_number_or_blank(value) -> str:
    """A debtor's organisation number if ``value`` is a valid one, else "".

    Whatever else arrives in that field (from PowerOffice Go, where a private customer's
    "organisation number" may hold a fødselsnummer) is dropped: we never store national ids.
    """
    value = normalize_org_number(str(value or ""))
    return value if orgnr.is_valid(value) else ""


def is_national_id(value) -> bool:
    """Whether ``value`` is a Norwegian fødselsnummer or D-number (11 digits, both checks)."""
    digits = "".join(ch for ch in str(value or "") if not ch.isspace())
    return fodselsnummer.is_valid(digits)

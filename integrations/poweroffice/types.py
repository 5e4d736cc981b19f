"""Small typed views of PoGo responses.

Each ``from_api`` reads only the fields we use: unknown fields are ignored (PoGo adds fields
without notice), a missing or null *required* field raises ``ValidationError`` naming it, and
the rest default to ``None``. Amounts are ``Decimal`` (bodies are parsed with
``parse_float=Decimal``), dates ``date``, timestamps aware ``datetime``. v2 keys are PascalCase,
v1 keys camelCase.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .errors import ValidationError

T = TypeVar("T")
_MISSING = object()

# v1 sometimes sends timestamps without an offset; PoGo runs on Norwegian time (unverified:
# change it here if the real service proves otherwise).
NAIVE_TIMESTAMP_ZONE = ZoneInfo("Europe/Oslo")


def _fail(type_name: str, key: str, problem: str) -> ValidationError:
    return ValidationError(f"{type_name}: field {key} {problem}", field=key)


def to_str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | uuid.UUID):
        raise TypeError
    return str(value)


#: Every integer in PowerOffice Go's API is an int32 or int64 (and our columns are 64-bit).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def to_int(value: Any) -> int:
    """An integer of Go's, within int64: a larger one (``9.22e18`` parsed from a float, say)
    makes the record unreadable, not a crash when it is written."""
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    else:
        raise TypeError
    if not INT64_MIN <= number <= INT64_MAX:
        raise TypeError
    return number


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise TypeError from None
    raise TypeError


def to_date(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError
    # v1 dates sometimes carry a midnight time part ("2024-05-01T00:00:00").
    return date.fromisoformat(value[:10])


def to_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError
    parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=NAIVE_TIMESTAMP_ZONE)
    return parsed


def to_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise TypeError
    return uuid.UUID(value)


def to_str_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError
    return tuple(to_str(item) for item in value)


class Reader:
    """Reads fields of one response object, reporting problems with the type and field name."""

    def __init__(self, data: Any, type_name: str) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(f"{type_name}: expected an object, got {type(data).__name__}")
        self.data = data
        self.type_name = type_name

    def _convert(self, key: str, value: Any, convert: Callable[[Any], T]) -> T:
        try:
            return convert(value)
        except (TypeError, ValueError, ArithmeticError):
            raise _fail(
                self.type_name, key, f"has an unexpected value ({type(value).__name__})"
            ) from None

    def req(self, key: str, convert: Callable[[Any], T]) -> T:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            raise _fail(self.type_name, key, "is missing")
        return self._convert(key, value, convert)

    def opt(self, key: str, convert: Callable[[Any], T]) -> T | None:
        value = self.data.get(key)
        if value is None:
            return None
        return self._convert(key, value, convert)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.opt(key, to_bool)
        return default if value is None else value

    def obj(self, key: str) -> Reader | None:
        value = self.data.get(key)
        if value is None:
            return None
        return Reader(value, f"{self.type_name}.{key}")

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _fail(self.type_name, key, "is not a list")
        return value


# --- onboarding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingInitiation:
    temporary_url: str
    valid_until: datetime

    @classmethod
    def from_api(cls, data: Any) -> OnboardingInitiation:
        r = Reader(data, "OnboardingInitiation")
        return cls(
            temporary_url=r.req("TemporaryUrl", to_str),
            valid_until=r.req("ValidUntilDateTimeOffset", to_datetime),
        )


@dataclass(frozen=True)
class OnboardedClient:
    client_key: str
    client_name: str | None
    client_organization_number: str | None

    def __repr__(self) -> str:  # the client key is a secret
        return f"OnboardedClient(client_name={self.client_name!r}, client_organization_number={self.client_organization_number!r})"

    @classmethod
    def from_api(cls, data: Any) -> OnboardedClient:
        r = Reader(data, "OnboardedClient")
        return cls(
            client_key=r.req("ClientKey", to_str),
            client_name=r.opt("ClientName", to_str),
            client_organization_number=r.opt("ClientOrganizationNumber", to_str),
        )


@dataclass(frozen=True)
class OnboardingResult:
    clients: tuple[OnboardedClient, ...]
    user_email: str | None

    @classmethod
    def from_api(cls, data: Any) -> OnboardingResult:
        r = Reader(data, "OnboardingResult")
        clients = tuple(
            OnboardedClient.from_api(item) for item in r.items("OnboardedClientsInformation")
        )
        return cls(clients=clients, user_email=r.opt("UserEmail", to_str))


# --- company ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    address_line1: str | None
    address_line2: str | None
    zip_code: str | None
    city: str | None
    country_code: str | None

    @classmethod
    def from_reader(cls, r: Reader | None) -> Address | None:
        if r is None:
            return None
        return cls(
            address_line1=r.opt("AddressLine1", to_str),
            address_line2=r.opt("AddressLine2", to_str),
            zip_code=r.opt("ZipCode", to_str),
            city=r.opt("City", to_str),
            country_code=r.opt("CountryCode", to_str),
        )


@dataclass(frozen=True)
class OrganizationSettings:
    id: str
    name: str | None
    legal_name: str | None
    organization_number: str | None
    email_address: str | None
    phone_number: str | None
    mail_address: Address | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> OrganizationSettings:
        r = Reader(data, "OrganizationSettings")
        return cls(
            id=r.req("Id", to_str),
            name=r.opt("Name", to_str),
            legal_name=r.opt("LegalName", to_str),
            organization_number=r.opt("OrganizationNumber", to_str),
            email_address=r.opt("EmailAddress", to_str),
            phone_number=r.opt("PhoneNumber", to_str),
            mail_address=Address.from_reader(r.obj("MailAddress")),
            last_changed=r.opt("LastChangedDateTimeOffset", to_datetime),
        )


@dataclass(frozen=True)
class ClientIntegrationInformation:
    client_id: str | None
    client_name: str | None
    active_client_subscriptions: tuple[str, ...]
    valid_privileges: tuple[str, ...]
    invalid_privileges: tuple[str, ...]

    @classmethod
    def from_api(cls, data: Any) -> ClientIntegrationInformation:
        r = Reader(data, "ClientIntegrationInformation")
        return cls(
            client_id=r.opt("ClientId", to_str),
            client_name=r.opt("ClientName", to_str),
            active_client_subscriptions=r.opt("ActiveClientSubscriptions", to_str_list) or (),
            valid_privileges=r.opt("ValidPrivileges", to_str_list) or (),
            invalid_privileges=r.opt("InvalidPrivileges", to_str_list) or (),
        )


# --- customers and invoices ------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    id: int
    number: int | None
    name: str | None
    is_person: bool
    organization_number: str | None
    email_address: str | None
    invoice_email_address: str | None
    payment_reminder_email_address: str | None
    phone_number: str | None
    mail_address: Address | None
    is_active: bool | None
    transfer_to_debt_collection_agency: bool | None
    send_payment_reminders: bool | None
    do_not_add_late_payment_fees: bool | None
    do_not_add_late_payment_interest: bool | None
    reminder_delivery_type: str | None
    notice_of_debt_collection_delivery_type: str | None
    last_changed: datetime | None
    subledger_account_id: int | None = None

    @classmethod
    def from_api(cls, data: Any) -> Customer:
        r = Reader(data, "Customer")
        return cls(
            id=r.req("Id", to_int),
            number=r.opt("Number", to_int),
            name=r.opt("Name", to_str),
            is_person=r.flag("IsPerson"),
            organization_number=r.opt("OrganizationNumber", to_str),
            email_address=r.opt("EmailAddress", to_str),
            invoice_email_address=r.opt("InvoiceEmailAddress", to_str),
            payment_reminder_email_address=r.opt("PaymentReminderEmailAddress", to_str),
            phone_number=r.opt("PhoneNumber", to_str),
            mail_address=Address.from_reader(r.obj("MailAddress")),
            is_active=r.opt("IsActive", to_bool),
            transfer_to_debt_collection_agency=r.opt("TransferToDebtCollectionAgency", to_bool),
            send_payment_reminders=r.opt("SendPaymentReminders", to_bool),
            do_not_add_late_payment_fees=r.opt("DoNotAddLatePaymentFees", to_bool),
            do_not_add_late_payment_interest=r.opt("DoNotAddLatePaymentInterest", to_bool),
            reminder_delivery_type=r.opt("ReminderDeliveryType", to_str),
            notice_of_debt_collection_delivery_type=r.opt(
                "NoticeOfDebtCollectionDeliveryType", to_str
            ),
            last_changed=r.opt("LastChangedDateTimeOffset", to_datetime),
            subledger_account_id=r.opt("SubledgerAccountId", to_int),
        )


@dataclass(frozen=True)
class OutgoingInvoice:
    id: uuid.UUID
    invoice_no: int
    voucher_type: str | None  # OutgoingInvoice / OutgoingCreditNote
    voucher_no: int | None
    voucher_date: date
    due_date: date | None
    currency_code: str | None
    net_amount: Decimal | None
    total_amount: Decimal
    balance: Decimal | None  # 0 = paid
    balance_last_changed: datetime | None
    cid: str | None
    customer_id: int | None
    customer_no: int | None
    match_id: int | None
    sent: datetime | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> OutgoingInvoice:
        r = Reader(data, "OutgoingInvoice")
        return cls(
            id=r.req("Id", to_uuid),
            invoice_no=r.req("InvoiceNo", to_int),
            voucher_type=r.opt("VoucherType", to_str),
            voucher_no=r.opt("VoucherNo", to_int),
            voucher_date=r.req("VoucherDate", to_date),
            due_date=r.opt("DueDate", to_date),
            currency_code=r.opt("CurrencyCode", to_str),
            net_amount=r.opt("NetAmount", to_decimal),
            total_amount=r.req("TotalAmount", to_decimal),
            balance=r.opt("Balance", to_decimal),
            balance_last_changed=r.opt("BalanceLastChangedDateTimeOffset", to_datetime),
            cid=r.opt("Cid", to_str),
            customer_id=r.opt("CustomerId", to_int),
            customer_no=r.opt("CustomerNo", to_int),
            match_id=r.opt("MatchId", to_int),
            sent=r.opt("SentDateTimeOffset", to_datetime),
            last_changed=r.opt("LastChangedDateTimeOffset", to_datetime),
        )


@dataclass(frozen=True)
class CustomerLedgerEntry:
    id: int
    voucher_type: str | None
    voucher_no: int | None
    voucher_date: date | None
    invoice_no: str | None  # a string in the v2 ledger schema
    amount: Decimal
    balance: Decimal | None
    currency_code: str | None
    customer_id: int | None
    customer_no: int | None
    match_id: int | None
    cid: str | None
    is_write_off: bool
    due_date: date | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> CustomerLedgerEntry:
        r = Reader(data, "CustomerLedgerEntry")
        return cls(
            id=r.req("Id", to_int),
            voucher_type=r.opt("VoucherType", to_str),
            voucher_no=r.opt("VoucherNo", to_int),
            voucher_date=r.opt("VoucherDate", to_date),
            invoice_no=r.opt("InvoiceNo", to_str),
            amount=r.req("Amount", to_decimal),
            balance=r.opt("Balance", to_decimal),
            currency_code=r.opt("CurrencyCode", to_str),
            customer_id=r.opt("CustomerId", to_int),
            customer_no=r.opt("CustomerAccountNo", to_int),
            match_id=r.opt("MatchId", to_int),
            cid=r.opt("Cid", to_str),
            is_write_off=r.flag("IsWriteOff"),
            due_date=r.opt("DueDate", to_date),
            last_changed=r.opt("LastChangedDateTimeOffset", to_datetime),
        )


# --- accounts and vouchers -------------------------------------------------------------------


@dataclass(frozen=True)
class GeneralLedgerAccount:
    id: int
    account_no: int
    name: str | None
    is_active: bool
    vat_code: str | None

    @classmethod
    def from_api(cls, data: Any) -> GeneralLedgerAccount:
        r = Reader(data, "GeneralLedgerAccount")
        return cls(
            id=r.req("Id", to_int),
            account_no=r.req("AccountNo", to_int),
            name=r.opt("Name", to_str),
            is_active=r.flag("IsActive", default=True),
            vat_code=r.opt("VatCode", to_str),
        )


@dataclass(frozen=True)
class VatCode:
    id: int
    code: str
    name: str | None
    rate: Decimal | None
    is_active: bool

    @classmethod
    def from_api(cls, data: Any) -> VatCode:
        r = Reader(data, "VatCode")
        return cls(
            id=r.req("Id", to_int),
            code=r.req("Code", to_str),
            name=r.opt("Name", to_str),
            rate=r.opt("Rate", to_decimal),
            is_active=r.flag("IsActive", default=True),
        )


@dataclass(frozen=True)
class JournalVoucher:
    """A voucher PoGo accepted: a journal-entry proposal, or a posted bank voucher."""

    id: uuid.UUID
    voucher_date: date | None
    currency_code: str | None
    description: str | None
    voucher_no: int | None
    external_import_reference: str | None
    #: Ids of the voucher's pages (attached files), when PoGo returned them.
    page_ids: tuple[int, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> JournalVoucher:
        r = Reader(data, "JournalVoucher")
        pages = []
        for number, page in enumerate(r.items("Pages")):
            pages.append(Reader(page, f"JournalVoucher.Pages[{number}]").req("Id", to_int))
        return cls(
            id=r.req("Id", to_uuid),
            voucher_date=r.opt("VoucherDate", to_date),
            currency_code=r.opt("CurrencyCode", to_str),
            description=r.opt("Description", to_str),
            voucher_no=r.opt("VoucherNo", to_int),
            external_import_reference=r.opt("ExternalImportReference", to_str),
            page_ids=tuple(pages),
        )


@dataclass(frozen=True)
class JournalEntryVoucherListItem:
    """``GET /JournalEntryVouchers``: a proposal's id, type and state, no lines."""

    id: uuid.UUID
    voucher_type: str | None
    is_posted: bool
    is_created_by_current_integration: bool
    created: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> JournalEntryVoucherListItem:
        r = Reader(data, "JournalEntryVoucherListItem")
        return cls(
            id=r.req("Id", to_uuid),
            voucher_type=r.opt("VoucherType", to_str),
            is_posted=r.flag("IsPosted"),
            is_created_by_current_integration=r.flag("IsCreatedByCurrentIntegration"),
            created=r.opt("CreatedDateTimeOffset", to_datetime),
        )


@dataclass(frozen=True)
class VoucherDocumentation:
    voucher_id: uuid.UUID
    voucher_no: int | None
    voucher_type: str | None
    has_pdf: bool
    has_ehf: bool
    has_images: bool

    @classmethod
    def from_api(cls, data: Any) -> VoucherDocumentation:
        r = Reader(data, "VoucherDocumentation")
        return cls(
            voucher_id=r.req("VoucherId", to_uuid),
            voucher_no=r.opt("VoucherNo", to_int),
            voucher_type=r.opt("VoucherType", to_str),
            has_pdf=r.flag("HasPdf"),
            has_ehf=r.flag("HasEhf"),
            has_images=r.flag("HasImages"),
        )


# --- v1 DebtCollection (camelCase) -----------------------------------------------------------


@dataclass(frozen=True)
class DebtCollectionInvoice:
    id: uuid.UUID
    customer_code: int | None
    invoice_no: int
    invoice_date: date | None
    due_date: date | None
    original_amount: Decimal | None
    remaining_amount: Decimal | None
    currency_code: str | None
    cid: str | None
    last_reminder_sent_date: date | None
    last_reminder_due_date: date | None
    last_reminder_voucher_type: str | None
    last_reminder_email_address: str | None
    invoice_email_address: str | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> DebtCollectionInvoice:
        r = Reader(data, "DebtCollectionInvoice")
        return cls(
            id=r.req("id", to_uuid),
            customer_code=r.opt("customerCode", to_int),
            invoice_no=r.req("invoiceNo", to_int),
            invoice_date=r.opt("invoiceDate", to_date),
            due_date=r.opt("dueDate", to_date),
            original_amount=r.opt("originalAmount", to_decimal),
            remaining_amount=r.opt("remainingAmount", to_decimal),
            currency_code=r.opt("currencyCode", to_str),
            cid=r.opt("cID", to_str),
            last_reminder_sent_date=r.opt("lastReminderSentDate", to_date),
            last_reminder_due_date=r.opt("lastReminderDueDate", to_date),
            last_reminder_voucher_type=r.opt("lastReminderVoucherType", to_str),
            last_reminder_email_address=r.opt("lastReminderEmailAddress", to_str),
            invoice_email_address=r.opt("invoiceEmailAddress", to_str),
            last_changed=r.opt("lastChanged", to_datetime),
        )


CASE_STATUS_NAMES = {0: "Active", 10: "Closed"}


def to_case_status(value: Any) -> str:
    """v1 enums arrive as numbers or names depending on the serializer; keep the name."""
    if isinstance(value, str) and value in CASE_STATUS_NAMES.values():
        return value
    number = to_int(value)
    if number not in CASE_STATUS_NAMES:
        raise ValueError
    return CASE_STATUS_NAMES[number]


@dataclass(frozen=True)
class DebtCollectionCase:
    id: uuid.UUID
    code: str | None
    status: str  # Active / Closed
    invoices: tuple[DebtCollectionInvoice, ...]
    external_case_url: str | None
    balance_agency: Decimal | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> DebtCollectionCase:
        r = Reader(data, "DebtCollectionCase")
        return cls(
            id=r.req("id", to_uuid),
            code=r.opt("code", to_str),
            status=r.opt("status", to_case_status) or "Active",
            invoices=tuple(DebtCollectionInvoice.from_api(item) for item in r.items("invoices")),
            external_case_url=r.opt("externalCaseUrl", to_str),
            balance_agency=r.opt("balanceAgency", to_decimal),
            last_changed=r.opt("lastChanged", to_datetime),
        )


@dataclass(frozen=True)
class DebtCollectionInvoiceMatch:
    id: int
    customer_code: int | None
    voucher_date: date | None
    voucher_no: int | None
    voucher_type: str | None
    amount: Decimal
    currency_code: str | None
    cid: str | None
    is_write_off: bool
    match_id: int | None
    last_changed: datetime | None

    @classmethod
    def from_api(cls, data: Any) -> DebtCollectionInvoiceMatch:
        r = Reader(data, "DebtCollectionInvoiceMatch")
        return cls(
            id=r.req("id", to_int),
            customer_code=r.opt("customerCode", to_int),
            voucher_date=r.opt("voucherDate", to_date),
            voucher_no=r.opt("voucherNo", to_int),
            voucher_type=r.opt("voucherType", to_str),
            amount=r.req("amount", to_decimal),
            currency_code=r.opt("currencyCode", to_str),
            cid=r.opt("cID", to_str),
            is_write_off=r.flag("isWriteOff"),
            match_id=r.opt("matchId", to_int),
            last_changed=r.opt("lastChanged", to_datetime),
        )


def utc(value: datetime) -> datetime:
    """Filters need aware timestamps: a naive one would be read in PoGo's zone, silently."""
    if value.tzinfo is None:
        raise ValueError("PowerOffice timestamp filters need an aware datetime")
    return value.astimezone(UTC)

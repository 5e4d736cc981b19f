"""REST API shapes of cases, their actions, externally registered invoices and settlements.

Money is a string with two decimals (``"1234.50"``), dates ISO 8601, names snake_case.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api_access.api.serializers import PageQuerySerializer, StrictSerializer, money
from collections_cases.cases import page_selectors
from collections_cases.cases.api_selectors import case_ledger
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Letter,
    Settlement,
    SettlementLine,
)

# --------------------------------------------------------------------------------------------
# Cases: output
# --------------------------------------------------------------------------------------------


class DebtorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    debtor = DebtorRefSerializer(read_only=True)
    balance = money(read_only=True)

    class Meta:
        model = CollectionCase
        fields = (
            "id",
            "number",
            "kid",
            "status",
            "stage",
            "approval_kind",
            "debtor",
            "balance",
            "next_action",
            "next_action_date",
            "paused_until",
            "close_reason",
            "closed_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class AmountsSerializer(serializers.Serializer):
    principal = money()
    interest = money()
    fees = money()
    salaer = money()
    refund_due = money()
    payments = money()
    direct_payments = money()
    reductions = money()
    principal_outstanding = money()
    balance = money()


class CaseInvoiceSerializer(serializers.ModelSerializer):
    total_amount = money()
    balance = money()

    class Meta:
        model = Invoice
        fields = (
            "id",
            "invoice_no",
            "invoice_date",
            "due_date",
            "currency",
            "total_amount",
            "balance",
        )


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = money()
    invoice_no = serializers.IntegerField(
        source="invoice.invoice_no", allow_null=True, default=None
    )

    class Meta:
        model = LedgerEntry
        fields = ("id", "kind", "amount", "booked_on", "description", "invoice_no", "created_at")


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ("id", "at", "kind", "message", "actor", "status_from", "status_to")

    def get_actor(self, event) -> str:
        return str(event.actor) if event.actor_id else event.actor_label


class LetterDeliveryRefSerializer(serializers.Serializer):
    channel = serializers.CharField()
    status = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)


class LetterSerializer(serializers.ModelSerializer):
    fee = money()
    deliveries = LetterDeliveryRefSerializer(many=True, read_only=True)

    class Meta:
        model = Letter
        fields = ("id", "kind", "step", "sent_on", "deadline", "fee", "deliveries")


class CaseDetailSerializer(CaseSerializer):
    amounts = serializers.SerializerMethodField()
    invoices = serializers.SerializerMethodField()
    ledger = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    letters = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = (
            *CaseSerializer.Meta.fields,
            "pause_reason",
            "dispute_reason",
            "close_note",
            "limitation_date",
            "amounts",
            "invoices",
            "ledger",
            "events",
            "letters",
            "allowed_actions",
        )
        read_only_fields = fields

    @extend_schema_field(AmountsSerializer)
    def get_amounts(self, case):
        return AmountsSerializer(page_selectors.case_breakdown(case)).data

    @extend_schema_field(CaseInvoiceSerializer(many=True))
    def get_invoices(self, case):
        return CaseInvoiceSerializer(page_selectors.case_invoices(case), many=True).data

    @extend_schema_field(LedgerEntrySerializer(many=True))
    def get_ledger(self, case):
        return LedgerEntrySerializer(case_ledger(case), many=True).data

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_events(self, case):
        return CaseEventSerializer(page_selectors.case_timeline(case), many=True).data

    @extend_schema_field(LetterSerializer(many=True))
    def get_letters(self, case):
        return LetterSerializer(page_selectors.case_letters(case), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, case) -> list[str]:
        api_names = {"direct_payment": "payments", "note": "notes", "approve_legal": "approve"}
        allowed = {api_names.get(a, a) for a in page_selectors.case_allowed_actions(case)}
        if case.status != CollectionCase.Status.CLOSED:
            allowed.add("credit-notes")
        return sorted(allowed & API_CASE_ACTIONS)


API_CASE_ACTIONS = {"pause", "resume", "withdraw", "approve", "notes", "payments", "credit-notes"}


# --------------------------------------------------------------------------------------------
# Cases: input
# --------------------------------------------------------------------------------------------


class CaseListQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=CollectionCase.Status.choices, required=False)
    stage = serializers.ChoiceField(choices=CollectionCase.Stage.choices, required=False)
    debtor = serializers.IntegerField(required=False, min_value=1)
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    updated_since = serializers.DateTimeField(required=False)


class PauseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)
    until = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_until(self, value):
        if value is not None and value <= timezone.localdate():
            raise serializers.ValidationError(_("Datoen saken skal gjenopptas må være frem i tid."))
        return value


class EmptySerializer(StrictSerializer):
    pass


class WithdrawSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)


class NoteSerializer(StrictSerializer):
    text = serializers.CharField(max_length=5000)


class DirectPaymentSerializer(StrictSerializer):
    amount = money(min_value=Decimal("0.01"))
    paid_on = serializers.DateField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate_paid_on(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("Betalingsdatoen kan ikke være frem i tid."))
        return value


class CreditNoteSerializer(StrictSerializer):
    amount = money(min_value=Decimal("0.01"))
    credited_on = serializers.DateField()
    invoice_no = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate_credited_on(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("Datoen kan ikke være frem i tid."))
        return value


# --------------------------------------------------------------------------------------------
# Invoices registered from another system
# --------------------------------------------------------------------------------------------


class AddressSerializer(StrictSerializer):
    line = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    country = serializers.CharField(min_length=2, max_length=2, required=False, default="NO")


class InvoiceDebtorSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    number = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None, help_text="Kundenummer."
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    org_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    is_private_individual = serializers.BooleanField()
    address = AddressSerializer(required=False)

    def validate_org_number(self, value):
        from creditors.validators import is_national_id

        value = value.replace(" ", "")
        if is_national_id(value):
            # Personal data minimised: a private debtor's fødselsnummer is never stored.
            raise serializers.ValidationError(
                _(
                    "Send ikke fødselsnummer: vi lagrer det ikke. La feltet stå tomt for privatpersoner."
                )
            )
        return value

    def validate(self, attrs):
        if not attrs["is_private_individual"]:
            from stdnum.no import orgnr

            if not attrs.get("org_number"):
                raise serializers.ValidationError(
                    {"org_number": [_("Påkrevd for næringsdrivende.")]}
                )
            if not orgnr.is_valid(attrs["org_number"]):
                raise serializers.ValidationError(
                    {"org_number": [_("Ugyldig organisasjonsnummer.")]}
                )
        return attrs


class InvoiceRegisterSerializer(StrictSerializer):
    debtor = InvoiceDebtorSerializer()
    invoice_number = serializers.IntegerField(min_value=1)
    invoice_date = serializers.DateField()
    due_date = serializers.DateField()
    amount = money(min_value=Decimal("0.01"), help_text="Beløp inkl. mva.")
    currency = serializers.CharField(max_length=3, required=False, default="NOK")
    description = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )

    def validate_currency(self, value):
        value = value.upper()
        if value != "NOK":
            raise serializers.ValidationError(
                _("Bare NOK støttes. Fakturaer i andre valutaer kan ikke inndrives hos oss.")
            )
        return value

    def validate(self, attrs):
        if attrs["due_date"] < attrs["invoice_date"]:
            raise serializers.ValidationError(
                {"due_date": [_("Forfallsdatoen kan ikke være før fakturadatoen.")]}
            )
        if attrs["due_date"] >= timezone.localdate():
            raise serializers.ValidationError(
                {"due_date": [_("Fakturaen må være forfalt før den kan sendes til inkasso.")]}
            )
        return attrs


class RegisteredInvoiceSerializer(serializers.Serializer):
    invoice = CaseInvoiceSerializer()
    case = CaseSerializer()
    debtor_id = serializers.IntegerField()
    debtor_created = serializers.BooleanField()
    case_created = serializers.BooleanField()


# --------------------------------------------------------------------------------------------
# Settlements
# --------------------------------------------------------------------------------------------

SETTLEMENT_AMOUNTS = (
    "collected",
    "principal",
    "interest",
    "fees",
    "salaer",
    "interest_to_creditor",
    "commission",
    "vat",
    "payout",
)


class SettlementSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    collected = money()
    principal = money()
    interest = money()
    fees = money()
    salaer = money()
    interest_to_creditor = money()
    commission = money()
    vat = money()
    payout = money()

    class Meta:
        model = Settlement
        fields = (
            "id",
            "number",
            "settled_on",
            "period_start",
            "period_end",
            *SETTLEMENT_AMOUNTS,
            "payout_status",
            "paid_out_at",
            "voucher_status",
            "booked_at",
            "created_at",
        )
        read_only_fields = fields


class SettlementLineSerializer(serializers.ModelSerializer):
    case_id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    collected = money()
    principal = money()
    interest = money()
    fees = money()
    salaer = money()
    interest_to_creditor = money()
    commission = money()
    vat = money()
    payout = money()

    class Meta:
        model = SettlementLine
        fields = ("id", "case_id", "case_number", *SETTLEMENT_AMOUNTS, "days_overdue")
        read_only_fields = fields


class SettlementDetailSerializer(SettlementSerializer):
    lines = SettlementLineSerializer(many=True, read_only=True)
    commission_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    vat_percent = serializers.DecimalField(max_digits=5, decimal_places=2)

    class Meta(SettlementSerializer.Meta):
        fields = (
            *SettlementSerializer.Meta.fields,
            "bookkeeping_mode",
            "vat_registered",
            "interest_to",
            "commission_percent",
            "vat_percent",
            "payout_account",
            "voucher_error",
            "lines",
        )
        read_only_fields = fields

"""REST API shapes of debtors: what the list and detail show, and what PATCH may change
(contact details and the debtor's own collection profile — everything else mirrors
PowerOffice Go)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api_access.api.serializers import PageQuerySerializer, StrictSerializer, money
from creditors.models import Creditor, Debtor


class DebtorSerializer(serializers.ModelSerializer):
    open_cases = serializers.IntegerField(read_only=True)
    outstanding = money(read_only=True)

    class Meta:
        model = Debtor
        fields = (
            "id",
            "customer_number",
            "name",
            "is_person",
            "org_number",
            "email",
            "reminder_email",
            "phone",
            "address_line",
            "postal_code",
            "postal_city",
            "country_code",
            "entry_step",
            "effective_entry_step",
            "collection_opt_out",
            "transfer_to_debt_collection_agency",
            "send_payment_reminders",
            "do_not_add_late_payment_fees",
            "do_not_add_late_payment_interest",
            "open_cases",
            "outstanding",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class DebtorCaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()


class DebtorDetailSerializer(DebtorSerializer):
    cases = DebtorCaseRefSerializer(many=True, read_only=True, source="case_list")

    class Meta(DebtorSerializer.Meta):
        fields = (*DebtorSerializer.Meta.fields, "cases")
        read_only_fields = fields


class DebtorUpdateSerializer(StrictSerializer):
    """Every field optional (PATCH); unknown or read-only fields are a 400."""

    email = serializers.EmailField(required=False, allow_blank=True)
    reminder_email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    address_line = serializers.CharField(required=False, allow_blank=True, max_length=200)
    postal_code = serializers.CharField(required=False, allow_blank=True, max_length=10)
    postal_city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    entry_step = serializers.ChoiceField(
        choices=[("", _("Kreditorens standard")), *Creditor.EntryStep.choices], required=False
    )
    do_not_add_late_payment_interest = serializers.BooleanField(required=False)
    do_not_add_late_payment_fees = serializers.BooleanField(required=False)
    collection_opt_out = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Oppgi minst ett felt som skal endres."))
        return attrs


class DebtorListQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)

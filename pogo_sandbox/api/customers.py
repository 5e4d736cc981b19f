"""``Customers``, ``Customers/{id}`` (GET and JSON Patch)."""

import jsonpatch
import jsonpointer
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from pogo_sandbox.models import Customer

from . import auth, params, serializers
from .endpoints import v2_endpoint
from .http import ApiError

TEXT_FIELDS = {
    "Name": "name",
    "FirstName": "first_name",
    "LastName": "last_name",
    "LegalName": "legal_name",
    "OrganizationNumber": "organization_number",
    "PhoneNumber": "phone_number",
    "ReminderDeliveryType": "reminder_delivery_type",
    "NoticeOfDebtCollectionDeliveryType": "notice_of_debt_collection_delivery_type",
}
EMAIL_FIELDS = {
    "EmailAddress": "email_address",
    "InvoiceEmailAddress": "invoice_email_address",
    "PaymentReminderEmailAddress": "payment_reminder_email_address",
}
BOOL_FIELDS = {
    "IsPerson": "is_person",
    "IsActive": "is_active",
    "TransferToDebtCollectionAgency": "transfer_to_debt_collection_agency",
    "SendPaymentReminders": "send_payment_reminders",
    "DoNotAddLatePaymentFees": "do_not_add_late_payment_fees",
    "DoNotAddLatePaymentInterest": "do_not_add_late_payment_interest",
}
ADDRESS_FIELDS = {
    "AddressLine1": "address_line1",
    "ZipCode": "zip_code",
    "City": "city",
    "CountryCode": "country_code",
}


def _bad(detail):
    return ApiError(400, "Bad Request", detail)


@v2_endpoint(privilege="Customer_Read")
def customer_list(request):
    customers = Customer.objects.filter(company=request.company).order_by("number")
    numbers = params.number_ranges(request, "customerNos", "number")
    if numbers is not None:
        customers = customers.filter(numbers)
    changed = params.timestamp(request, "lastChangedDateTimeOffsetGreaterThan")
    if changed:
        customers = customers.filter(last_changed__gt=changed)
    created = params.timestamp(request, "customerCreatedDateTimeOffsetGreaterThan")
    if created:
        customers = customers.filter(created_at__gt=created)
    return [serializers.customer(c) for c in params.page(request, customers)]


def _get(company, customer_id) -> Customer:
    try:
        return Customer.objects.get(company=company, pk=int(customer_id))
    except (Customer.DoesNotExist, ValueError) as exc:
        raise ApiError(404, "Not Found", f"Customer with id = {customer_id} not found.") from exc


def _text(value, name) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string.")
    return value.strip()


def _changes(before: dict, after: dict) -> dict:
    """Model field → new value for every changed DTO field; read-only or unknown → 400."""
    changes = {}
    for key in set(before) | set(after):
        if key == "MailAddress":
            continue
        if before.get(key) == after.get(key) and key in after:
            continue
        if key in TEXT_FIELDS:
            changes[TEXT_FIELDS[key]] = _text(after.get(key), key)
        elif key in EMAIL_FIELDS:
            email = _text(after.get(key), key)
            if email:
                try:
                    validate_email(email)
                except ValidationError as exc:
                    raise _bad(f"{key} is not a valid e-mail address.") from exc
            changes[EMAIL_FIELDS[key]] = email
        elif key in BOOL_FIELDS:
            if not isinstance(after.get(key), bool):
                raise _bad(f"{key} must be true or false.")
            changes[BOOL_FIELDS[key]] = after[key]
        else:
            raise _bad(f"{key} cannot be changed.")
    old_address, new_address = before["MailAddress"], after.get("MailAddress") or {}
    if not isinstance(new_address, dict):
        raise _bad("MailAddress must be an object.")
    for key in set(old_address) | set(new_address):
        if old_address.get(key) == new_address.get(key):
            continue
        if key not in ADDRESS_FIELDS:
            raise _bad(f"MailAddress/{key} cannot be changed.")
        changes[ADDRESS_FIELDS[key]] = _text(new_address.get(key), key)
    if "name" in changes and not changes["name"]:
        raise _bad("Name is required.")
    return changes


def _patch(request, customer: Customer):
    operations = params.json_body(request, content_types=("application/json-patch+json",))
    before = serializers.customer(customer)
    try:
        patch = jsonpatch.JsonPatch(operations)
        after = patch.apply(before)
    except (
        jsonpatch.JsonPatchException,
        jsonpointer.JsonPointerException,
        TypeError,
        AttributeError,
    ) as exc:
        raise _bad(f"Invalid JSON Patch document: {exc}") from exc
    changes = _changes(before, after)
    if changes:
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(**changes, last_changed=timezone.now())
    customer.refresh_from_db()
    return serializers.customer(customer)


@v2_endpoint(methods=("GET", "PATCH"), privilege="Customer_Read")
def customer_detail(request, customer_id):
    customer = _get(request.company, customer_id)
    if request.method == "PATCH":
        if not auth.has_privilege(request.subscription, "Customer_Full"):
            raise ApiError(403, "Forbidden", "The integration lacks the privilege Customer_Full.")
        return _patch(request, customer)
    return serializers.customer(customer)

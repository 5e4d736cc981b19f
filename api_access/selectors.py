"""Reads for API access, scoped to one creditor."""

from django.db.models import QuerySet
from django.http import Http404

from api_access.models import ApiKey
from creditors.models import Creditor


def api_key_list_for_creditor(*, creditor: Creditor) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(creditor=creditor).select_related("created_by", "revoked_by")


def api_key_get_for_creditor(*, creditor: Creditor, api_key_id) -> ApiKey:
    try:
        return api_key_list_for_creditor(creditor=creditor).get(pk=int(api_key_id))
    except (ApiKey.DoesNotExist, TypeError, ValueError):
        raise Http404 from None

"""REST API resources of the creditor app: the creditor's debtors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api_access.api.views import ApiView
from collections_cases.cases.api_selectors import debtor_api_get, debtor_api_list
from collections_cases.debtors import serializers as s
from collections_cases.debtors.services import debtor_update


class DebtorListView(ApiView):
    serializer_class = s.DebtorSerializer

    @extend_schema(
        operation_id="debtors_list",
        parameters=[s.DebtorListQuerySerializer],
        summary="List debtors with open cases and outstanding amount",
    )
    def get(self, request):
        query = s.DebtorListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        debtors = debtor_api_list(
            creditor=self.creditor, search=query.validated_data.get("search", "")
        )
        page = self.paginate_queryset(debtors)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DebtorDetailView(ApiView):
    serializer_class = s.DebtorDetailSerializer

    @extend_schema(operation_id="debtors_retrieve", summary="A debtor with its cases")
    def get(self, request, debtor_id: int):
        debtor = debtor_api_get(creditor=self.creditor, debtor_id=debtor_id)
        return Response(self.get_serializer(debtor).data)

    @extend_schema(
        operation_id="debtors_partial_update",
        request=s.DebtorUpdateSerializer,
        responses={200: s.DebtorDetailSerializer},
        summary="Update contact details and the debtor's collection profile",
    )
    def patch(self, request, debtor_id: int):
        debtor = debtor_api_get(creditor=self.creditor, debtor_id=debtor_id)
        data = s.DebtorUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        debtor_update(debtor=debtor, actor=self.actor, data=dict(data.validated_data))
        debtor = debtor_api_get(creditor=self.creditor, debtor_id=debtor_id)
        return Response(self.get_serializer(debtor).data)

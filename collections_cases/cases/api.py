"""REST API resources of the case app: cases and their actions, invoices registered from
another system, settlements. Each view parses input, calls one service or selector, and
answers with a serializer; errors become the API's one error shape (``api_access.api``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from api_access.api.views import ApiView
from collections_cases.cases import serializers as s
from collections_cases.cases import services as case_services
from collections_cases.cases.api_selectors import case_api_get, case_api_list
from collections_cases.cases.credit_notes import case_register_credit_note
from collections_cases.cases.external_invoices import (
    DebtorData,
    InvoiceData,
    invoice_register_external,
)
from collections_cases.models import CollectionCase
from collections_cases.settlements.selectors import (
    settlement_get_for_creditor,
    settlement_list_for_creditor,
)
from collections_cases.settlements.services import settlement_mark_booked
from kravia_web.errors import ApplicationError

ApprovalKind = CollectionCase.ApprovalKind


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


class CaseListView(ApiView):
    serializer_class = s.CaseSerializer

    @extend_schema(
        operation_id="cases_list",
        parameters=[s.CaseListQuerySerializer],
        summary="List cases",
    )
    def get(self, request):
        query = _valid(s.CaseListQuerySerializer, request.query_params)
        cases = case_api_list(
            creditor=self.creditor,
            status=query.get("status", ""),
            stage=query.get("stage", ""),
            debtor_id=query.get("debtor"),
            search=query.get("search", ""),
            updated_since=query.get("updated_since"),
        )
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CaseDetailView(ApiView):
    serializer_class = s.CaseDetailSerializer

    @extend_schema(operation_id="cases_retrieve", summary="A case with ledger, events, letters")
    def get(self, request, case_id: int):
        case = case_api_get(creditor=self.creditor, case_id=case_id)
        return Response(self.get_serializer(case).data)


class CaseActionView(ApiView):
    """``POST /cases/{id}/<action>``: parse, call the case service, answer with the case."""

    serializer_class = s.CaseDetailSerializer
    input_serializer = s.EmptySerializer
    success_status = status.HTTP_200_OK

    def run(self, case: CollectionCase, data: dict):
        raise NotImplementedError

    def post(self, request, case_id: int):
        case = case_api_get(creditor=self.creditor, case_id=case_id)
        data = _valid(self.input_serializer, request.data)
        self.run(case, data)
        case = case_api_get(creditor=self.creditor, case_id=case_id)
        return Response(self.get_serializer(case).data, status=self.success_status)


def _action_schema(input_serializer, summary, response=s.CaseDetailSerializer, code=200):
    return extend_schema(request=input_serializer, responses={code: response}, summary=summary)


class CasePauseView(CaseActionView):
    input_serializer = s.PauseSerializer

    @_action_schema(s.PauseSerializer, "Put a case on hold (reason, optional resume date)")
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_services.case_pause(
            case=case, actor=self.actor, reason=data["reason"], until=data["until"]
        )


class CaseResumeView(CaseActionView):
    @_action_schema(s.EmptySerializer, "Resume a paused case")
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_services.case_resume(case=case, actor=self.actor)


class CaseWithdrawView(CaseActionView):
    input_serializer = s.WithdrawSerializer

    @_action_schema(s.WithdrawSerializer, "Withdraw (close) a case")
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_services.case_withdraw(case=case, actor=self.actor, reason=data["reason"])


class CaseApproveView(CaseActionView):
    @_action_schema(
        s.EmptySerializer, "Approve what the case waits for (start, payment demand, legal steps)"
    )
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        if case.status != CollectionCase.Status.AWAITING_APPROVAL:
            raise ApplicationError(
                _("Sak %(number)s venter ikke på godkjenning.") % {"number": case.number}
            )
        if case.approval_kind == ApprovalKind.LEGAL:
            case_services.case_approve_legal(case=case, actor=self.actor)
        else:
            case_services.case_approve(case=case, actor=self.actor)


class CaseNoteView(CaseActionView):
    input_serializer = s.NoteSerializer
    success_status = status.HTTP_201_CREATED

    @_action_schema(s.NoteSerializer, "Add a note to the case's timeline", code=201)
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_services.case_add_note(case=case, actor=self.actor, text=data["text"])


class CasePaymentView(CaseActionView):
    input_serializer = s.DirectPaymentSerializer
    success_status = status.HTTP_201_CREATED

    @_action_schema(
        s.DirectPaymentSerializer,
        "Register a payment the debtor made directly to the creditor (reduces the principal)",
        code=201,
    )
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_services.case_register_direct_payment(
            case=case,
            actor=self.actor,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data["reference"],
        )


class CaseCreditNoteView(CaseActionView):
    input_serializer = s.CreditNoteSerializer
    success_status = status.HTTP_201_CREATED

    @_action_schema(
        s.CreditNoteSerializer,
        "Register a credit note (reduces the principal; a full credit closes the case)",
        code=201,
    )
    def post(self, request, case_id: int):
        return super().post(request, case_id)

    def run(self, case, data):
        case_register_credit_note(
            case=case,
            actor=self.actor,
            amount=data["amount"],
            credited_on=data["credited_on"],
            invoice_no=data["invoice_no"],
            reference=data["reference"],
        )


# --------------------------------------------------------------------------------------------
# Invoices from another system
# --------------------------------------------------------------------------------------------


class InvoiceRegisterView(ApiView):
    serializer_class = s.InvoiceRegisterSerializer

    @extend_schema(
        operation_id="invoices_create",
        request=s.InvoiceRegisterSerializer,
        responses={201: s.RegisteredInvoiceSerializer},
        summary="Register an invoice for collection (from a system other than PowerOffice Go)",
    )
    def post(self, request):
        data = _valid(s.InvoiceRegisterSerializer, request.data)
        debtor = data["debtor"]
        address = debtor.get("address") or {}
        result = invoice_register_external(
            creditor=self.creditor,
            actor=self.actor,
            debtor=DebtorData(
                name=debtor["name"],
                is_person=debtor["is_private_individual"],
                customer_number=debtor["number"],
                org_number=debtor["org_number"],
                email=debtor["email"],
                phone=debtor["phone"],
                address_line=address.get("line", ""),
                postal_code=address.get("postal_code", ""),
                postal_city=address.get("city", ""),
                country_code=address.get("country", "NO").upper(),
            ),
            invoice=InvoiceData(
                invoice_no=data["invoice_number"],
                invoice_date=data["invoice_date"],
                due_date=data["due_date"],
                amount=data["amount"],
                currency=data["currency"],
                description=data["description"],
            ),
        )
        case = case_api_get(creditor=self.creditor, case_id=result.case.pk)
        body = s.RegisteredInvoiceSerializer(
            {
                "invoice": result.invoice,
                "case": case,
                "debtor_id": result.invoice.debtor_id,
                "debtor_created": result.debtor_created,
                "case_created": result.case_created,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Settlements
# --------------------------------------------------------------------------------------------


class SettlementListView(ApiView):
    serializer_class = s.SettlementSerializer

    @extend_schema(
        operation_id="settlements_list",
        summary="List settlements (payouts)",
        parameters=[OpenApiParameter("page_size", int, required=False)],
    )
    def get(self, request):
        _valid(s.PageQuerySerializer, request.query_params)
        settlements = settlement_list_for_creditor(creditor=self.creditor)
        page = self.paginate_queryset(settlements)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class SettlementDetailView(ApiView):
    serializer_class = s.SettlementDetailSerializer

    @extend_schema(operation_id="settlements_retrieve", summary="A settlement with its lines")
    def get(self, request, settlement_id: int):
        settlement = settlement_get_for_creditor(
            creditor=self.creditor, settlement_id=settlement_id
        )
        return Response(self.get_serializer(settlement).data)


class SettlementMarkBookedView(ApiView):
    serializer_class = s.SettlementDetailSerializer

    @extend_schema(
        operation_id="settlements_mark_booked",
        request=s.EmptySerializer,
        responses={200: s.SettlementDetailSerializer},
        summary="Confirm the settlement is in the creditor's books",
    )
    def post(self, request, settlement_id: int):
        settlement = settlement_get_for_creditor(
            creditor=self.creditor, settlement_id=settlement_id
        )
        _valid(s.EmptySerializer, request.data)
        settlement_mark_booked(settlement=settlement, actor=self.actor)
        settlement = settlement_get_for_creditor(
            creditor=self.creditor, settlement_id=settlement_id
        )
        return Response(self.get_serializer(settlement).data)

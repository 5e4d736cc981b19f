"""The API's URL root, mounted at ``/api/v1/``: every resource, the OpenAPI schema and the
interactive docs (Swagger UI from drf-spectacular-sidecar's static files, no CDN)."""

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api_access.api import schema  # noqa: F401  (registers the API key scheme)
from api_access.api.errors import not_found_view
from collections_cases.cases import api as case_api
from collections_cases.debtors import api as creditor_api
from kravia_web.security_headers import DOCS_CSP_UPDATE

#: Swagger UI and Redoc start their viewers inline (and Redoc a blob: worker).
docs_csp = csp_update(DOCS_CSP_UPDATE)

urlpatterns = [
    path("cases/", case_api.CaseListView.as_view(), name="api_cases"),
    path("cases/<int:case_id>/", case_api.CaseDetailView.as_view(), name="api_case"),
    path("cases/<int:case_id>/pause/", case_api.CasePauseView.as_view(), name="api_case_pause"),
    path("cases/<int:case_id>/resume/", case_api.CaseResumeView.as_view(), name="api_case_resume"),
    path(
        "cases/<int:case_id>/withdraw/",
        case_api.CaseWithdrawView.as_view(),
        name="api_case_withdraw",
    ),
    path(
        "cases/<int:case_id>/approve/", case_api.CaseApproveView.as_view(), name="api_case_approve"
    ),
    path("cases/<int:case_id>/notes/", case_api.CaseNoteView.as_view(), name="api_case_notes"),
    path(
        "cases/<int:case_id>/payments/",
        case_api.CasePaymentView.as_view(),
        name="api_case_payments",
    ),
    path(
        "cases/<int:case_id>/credit-notes/",
        case_api.CaseCreditNoteView.as_view(),
        name="api_case_credit_notes",
    ),
    path("debtors/", creditor_api.DebtorListView.as_view(), name="api_debtors"),
    path("debtors/<int:debtor_id>/", creditor_api.DebtorDetailView.as_view(), name="api_debtor"),
    path("invoices/", case_api.InvoiceRegisterView.as_view(), name="api_invoices"),
    path("settlements/", case_api.SettlementListView.as_view(), name="api_settlements"),
    path(
        "settlements/<int:settlement_id>/",
        case_api.SettlementDetailView.as_view(),
        name="api_settlement",
    ),
    path(
        "settlements/<int:settlement_id>/mark-booked/",
        case_api.SettlementMarkBookedView.as_view(),
        name="api_settlement_mark_booked",
    ),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api_schema"),
    path(
        "docs/",
        docs_csp(login_not_required(SpectacularSwaggerView.as_view(url_name="api_schema"))),
        name="api_docs",
    ),
    path(
        "redoc/",
        docs_csp(login_not_required(SpectacularRedocView.as_view(url_name="api_schema"))),
        name="api_redoc",
    ),
    re_path(r"^.*$", not_found_view),
]

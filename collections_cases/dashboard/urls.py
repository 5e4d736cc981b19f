from django.urls import path

from collections_cases.audit import views as audit_views
from collections_cases.dashboard import views as dashboard_views

urlpatterns = [
    path("oversikt/", dashboard_views.dashboard, name="dashboard"),
    path("oversikt/alle/", dashboard_views.dashboard_all, name="dashboard_all"),
    path(
        "oversikt/betalingsplaner/<int:plan_id>/<str:decision>/",
        dashboard_views.dashboard_plan_decide,
        name="dashboard_plan_decide",
    ),
    path(
        "oversikt/rettslige-tiltak/godkjenn/",
        dashboard_views.dashboard_legal_approve,
        name="dashboard_legal_approve",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/logg/",
        audit_views.audit_log_page,
        name="audit_log",
    ),
]

from django.urls import path

from collections_cases import audit_views, dashboard_views

urlpatterns = [
    path("oversikt/", dashboard_views.dashboard, name="dashboard"),
    path("oversikt/alle/", dashboard_views.dashboard_all, name="dashboard_all"),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/logg/",
        audit_views.audit_log_page,
        name="audit_log",
    ),
]

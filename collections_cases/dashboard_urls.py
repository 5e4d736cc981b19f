from django.urls import path

from collections_cases import dashboard_views

urlpatterns = [
    path("oversikt/", dashboard_views.dashboard, name="dashboard"),
    path("oversikt/alle/", dashboard_views.dashboard_all, name="dashboard_all"),
]

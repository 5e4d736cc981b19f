from django.urls import path

from collections_cases.cases import views
from collections_cases.debtors import views as debtor_views

urlpatterns = [
    path("saker/", views.case_list, name="case_list"),
    path("saker/<int:case_id>/", views.case_detail, name="case_detail"),
    path("saker/<int:case_id>/<slug:action>/", views.case_action, name="case_action"),
    path("klar-for-inkasso/", views.ready_for_collection, name="ready_for_collection"),
    path("skyldnere/", debtor_views.debtor_list, name="debtor_list"),
    path("skyldnere/<int:debtor_id>/", debtor_views.debtor_detail, name="debtor_detail"),
]

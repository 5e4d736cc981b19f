from django.urls import path

from collections_cases.portal import kundeweb_views, views

urlpatterns = [
    path("min-side/", views.lookup, name="portal_lookup"),
    path("min-side/lenke/", views.link, name="portal_link"),
    path("min-side/logg-ut/", views.logout, name="portal_logout"),
    path("min-side/sak/", views.case_view, name="portal_case"),
    path("min-side/sak/innsigelse/", views.object_to_claim, name="portal_object"),
    path("min-side/sak/betalingsplan/", views.request_payment_plan, name="portal_payment_plan"),
    path(
        "min-side/sak/betalingsplan/bekreftelse.pdf",
        views.payment_plan_pdf,
        name="portal_payment_plan_pdf",
    ),
    path("min-side/sak/brev/<int:letter_id>.pdf", views.letter_pdf, name="portal_letter_pdf"),
    path(
        "saker/<int:case_id>/betalingsplan/<int:plan_id>/<slug:decision>/",
        kundeweb_views.payment_plan_decide,
        name="payment_plan_decide",
    ),
    path(
        "saker/<int:case_id>/betalingsplan/<int:plan_id>/bekreftelse.pdf",
        kundeweb_views.payment_plan_pdf,
        name="payment_plan_pdf",
    ),
]

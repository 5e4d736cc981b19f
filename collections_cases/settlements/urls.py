from django.urls import path

from collections_cases.settlements import views

urlpatterns = [
    path("utbetalinger/", views.settlement_list, name="settlement_list"),
    path("utbetalinger/<int:settlement_id>/", views.settlement_detail, name="settlement_detail"),
    path(
        "utbetalinger/<int:settlement_id>/oppgjor.pdf",
        views.settlement_pdf,
        name="settlement_pdf",
    ),
    path(
        "utbetalinger/<int:settlement_id>/bokfort/",
        views.settlement_booked,
        name="settlement_booked",
    ),
]

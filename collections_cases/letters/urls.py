from django.urls import path

from collections_cases.letters import views as letter_views

urlpatterns = [
    path(
        "saker/<int:case_id>/brev/<int:letter_id>/forhandsvis/",
        letter_views.letter_preview,
        name="letter_preview",
    ),
    path(
        "saker/<int:case_id>/brev/<int:letter_id>/last-ned/",
        letter_views.letter_download,
        name="letter_download",
    ),
]

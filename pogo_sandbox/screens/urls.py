"""Go's screens, under /pogo/ (the API shares the prefix; its paths start with v1/, v2/, OAuth/)."""

from django.urls import path

from pogo_sandbox.screens import auth, onboarding, views

app_name = "pogo_screens"

urlpatterns = [
    path("", views.home, name="home"),
    path("logg-inn/", auth.login_view, name="login"),
    path("logg-ut/", auth.logout_view, name="logout"),
    path("velg-selskap/", views.companies, name="companies"),
    path("onboarding/<str:token>/", onboarding.choose_company, name="onboarding"),
    path("onboarding/<str:token>/godkjenn/", onboarding.consent, name="onboarding_consent"),
    path(
        "innstillinger/purring-og-inkasso/",
        views.reminder_settings,
        name="reminder_settings",
    ),
    path("kunder/", views.customer_list, name="customers"),
    path("kunder/<int:customer_id>/", views.customer_card, name="customer"),
    path(
        "fakturaer/<uuid:invoice_id>/<slug:action>/",
        views.invoice_action,
        name="invoice_action",
    ),
    path("inkasso/", views.inkasso_drafts, name="inkasso"),
    path("inkasso/godkjent/", views.inkasso_approved, name="inkasso_approved"),
    path("inkasso/apne/", views.inkasso_open, name="inkasso_open"),
    path("inkasso/godkjenn/", views.inkasso_approve, name="inkasso_approve"),
    path("inkasso/fjern/", views.inkasso_remove, name="inkasso_remove"),
    path("bilagsmottak/", views.voucher_inbox, name="voucher_inbox"),
    path("bilagsmottak/<uuid:voucher_id>/bokfor/", views.voucher_post, name="voucher_post"),
    path(
        "bilagsmottak/<uuid:voucher_id>/sider/<int:page_id>/",
        views.voucher_page,
        name="voucher_page",
    ),
]

from django.urls import path

from rapport.portal import consent_views, onboarding_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("record-access/", views.record_access, name="record_access"),
    path("consents/", consent_views.consents, name="consents"),
    path("consents/<uuid:version_id>/sign/", consent_views.consent_sign_page, name="consent_sign"),
    path("consents/items/<slug:item_key>/withdraw/", consent_views.consent_withdraw_page, name="consent_withdraw"),
    # First steps (rapport.portal.onboarding_views). The welcome link comes by email, before any account exists.
    path("welcome/<str:token>/", onboarding_views.welcome, name="welcome"),
    path("intake/", onboarding_views.intake, name="intake"),
]

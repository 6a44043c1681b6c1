from django.urls import path

from rapport.portal import (
    checkin_pause_views,
    checkin_views,
    consent_views,
    goal_progress_views,
    my_data_views,
    onboarding_views,
    plan_views,
    results_views,
    views,
)

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    # The case's treatment plan as the client sees it (rapport.portal.plan_views).
    path("cases/<uuid:case_id>/plan/", plan_views.case_plan, name="case_plan"),
    path("cases/<uuid:case_id>/plan/history/", plan_views.case_plan_history, name="case_plan_history"),
    path("cases/<uuid:case_id>/plan/history/<int:number>/", plan_views.case_plan_version, name="case_plan_version"),
    # How the goals have moved: charts, words and tables (rapport.portal.goal_progress_views).
    path("cases/<uuid:case_id>/plan/progress/", goal_progress_views.case_goal_progress, name="case_goal_progress"),
    path("record-access/", views.record_access, name="record_access"),
    # The client's own check-in results (rapport.portal.results_views).
    path("results/", results_views.results, name="results"),
    path("my-data/", my_data_views.my_data, name="my_data"),
    path("my-data/<str:token>/download/", my_data_views.my_data_download, name="my_data_download"),
    path("consents/", consent_views.consents, name="consents"),
    path("consents/<uuid:version_id>/sign/", consent_views.consent_sign_page, name="consent_sign"),
    path("consents/signatures/<uuid:signature_id>/", consent_views.consent_signature, name="consent_signature"),
    path("consents/signatures/<uuid:signature_id>/pdf/", consent_views.consent_signature_pdf, name="consent_signature_pdf"),
    path("consents/items/<slug:item_key>/withdraw/", consent_views.consent_withdraw_page, name="consent_withdraw"),
    # Pausing and resuming check-ins (rapport.portal.checkin_pause_views), a consent choice.
    path("check-ins/pause/", checkin_pause_views.checkin_pause, name="checkin_pause"),
    # First steps (rapport.portal.onboarding_views). The welcome link comes by email, before any account exists.
    path("welcome/<str:token>/", onboarding_views.welcome, name="welcome"),
    path("intake/", onboarding_views.intake, name="intake"),
    path("check-ins/", checkin_views.checkins, name="checkins"),
    path("check-ins/<uuid:administration_id>/", checkin_views.checkin, name="checkin"),
]

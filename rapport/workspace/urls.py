from django.urls import path

from rapport.workspace import (
    alert_views,
    briefing_views,
    calendar_views,
    consent_views,
    goal_progress_views,
    measurement_plan_views,
    measures_views,
    onboarding_views,
    plan_views,
    record_access_views,
    risk_settings_views,
    signal_views,
    supervision_views,
    views,
)

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:case_id>/summary/", views.case_summary, name="case_summary"),
    path("cases/<uuid:case_id>/signatures/<uuid:signature_id>/pdf/", views.case_signature_pdf, name="case_signature_pdf"),
    path("cases/<uuid:case_id>/book/", views.case_book, name="case_book"),
    path("cases/<uuid:case_id>/measurement-plan/", measurement_plan_views.measurement_plan, name="measurement_plan"),
    # The treatment plan, written with the clients (rapport.workspace.plan_views).
    path("cases/<uuid:case_id>/plan/", plan_views.case_plan, name="case_plan"),
    path("cases/<uuid:case_id>/plan/versions/", plan_views.case_plan_versions, name="case_plan_versions"),
    path("cases/<uuid:case_id>/plan/versions/<int:number>/", plan_views.case_plan_version, name="case_plan_version"),
    path("cases/<uuid:case_id>/plan/progress/", goal_progress_views.case_goal_progress, name="case_goal_progress"),
    path("cases/<uuid:case_id>/record-access/", record_access_views.case_record_access, name="case_record_access"),
    # Check-in results, each check-in's answers and the FHIR export (rapport.workspace.measures_views).
    path("cases/<uuid:case_id>/measures/", measures_views.case_measures, name="case_measures"),
    path("cases/<uuid:case_id>/signals/", signal_views.case_signals, name="case_signals"),
    path("cases/<uuid:case_id>/check-ins/<uuid:checkin_id>/", measures_views.case_checkin, name="case_checkin"),
    path("cases/<uuid:case_id>/clients/<uuid:client_id>/fhir/", measures_views.client_fhir, name="client_fhir"),
    # Onboarding a case's clients (rapport.workspace.onboarding_views).
    path("cases/<uuid:case_id>/clients/<uuid:client_id>/invite/", onboarding_views.client_invite_view, name="client_invite"),
    path("cases/<uuid:case_id>/clients/<uuid:client_id>/intake/", onboarding_views.client_intake, name="client_intake"),
    path("staff/", views.staff, name="staff"),
    path("staff/invite/", views.staff_invite_create, name="staff_invite"),
    path("staff/<uuid:user_id>/access/", views.staff_access, name="staff_access"),
    path("staff/invitations/<uuid:invitation_id>/revoke/", views.staff_invitation_revoke_view, name="staff_invitation_revoke"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # The therapist's calendar (rapport.workspace.calendar_views).
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar/blocks/new/", calendar_views.block_add, name="block_add"),
    path("calendar/blocks/<uuid:block_id>/remove/", calendar_views.block_remove, name="block_remove"),
    path("calendar/feed/", calendar_views.calendar_feed, name="calendar_feed"),
    path("calendar/feed/<str:token>.ics", calendar_views.calendar_feed_ics, name="calendar_feed_ics"),
    # Emails link to appointment_detail: its name and argument are part of their contract.
    path("appointments/<uuid:appointment_id>/", calendar_views.appointment_detail, name="appointment_detail"),
    # The pre-session briefing (rapport.workspace.briefing_views).
    path("appointments/<uuid:appointment_id>/briefing/", briefing_views.appointment_briefing, name="appointment_briefing"),
    path("appointments/<uuid:appointment_id>/cancel/", calendar_views.appointment_cancel_view, name="appointment_cancel"),
    path("appointments/<uuid:appointment_id>/move/", calendar_views.appointment_move, name="appointment_move"),
    path("appointments/<uuid:appointment_id>/no-show/", calendar_views.appointment_no_show, name="appointment_no_show"),
    path("appointments/<uuid:appointment_id>/open-case/", calendar_views.consultation_open_case_view, name="consultation_open_case"),
    # The practice's consent documents (rapport.workspace.consent_views), admins only.
    path("consents/", consent_views.consent_documents, name="consent_documents"),
    path("consents/<uuid:document_id>/", consent_views.consent_document_detail, name="consent_document_detail"),
    path("consents/<uuid:document_id>/new-version/", consent_views.consent_version_new, name="consent_version_new"),
    # The supervisor's pages (rapport.workspace.supervision_views): consenting cases, without names.
    path("supervision/", supervision_views.supervision, name="supervision"),
    path("supervision/cases/<uuid:case_id>/", supervision_views.supervision_case, name="supervision_case"),
    path("consultation-exceptions/", calendar_views.consultation_exceptions, name="consultation_exceptions"),
    # Risk alerts from check-ins (rapport.workspace.alert_views); emails link to alert_detail.
    # The practice's risk follow-up settings (rapport.workspace.risk_settings_views), admins only.
    path("settings/risk/", risk_settings_views.risk_settings, name="risk_settings"),
    path("alerts/<uuid:alert_id>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<uuid:alert_id>/acknowledge/", alert_views.alert_acknowledge_view, name="alert_acknowledge"),
]

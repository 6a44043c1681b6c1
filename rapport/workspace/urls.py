from django.urls import path

from rapport.workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:case_id>/summary/", views.case_summary, name="case_summary"),
    path("staff/", views.staff, name="staff"),
    path("staff/invite/", views.staff_invite_create, name="staff_invite"),
    path("staff/<uuid:user_id>/access/", views.staff_access, name="staff_access"),
    path("staff/invitations/<uuid:invitation_id>/revoke/", views.staff_invitation_revoke_view, name="staff_invitation_revoke"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

from django.urls import path

from rapport.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    path("record-access/", views.record_access, name="record_access"),
]

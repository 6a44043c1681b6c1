from django.urls import include, path

from rapport.portal import checkin_views

urlpatterns = [
    # A check-in's one-time link, sent by email: the token is the client's credential, looked up by its hash.
    path("checkin/<str:token>/", checkin_views.checkin_link, name="checkin_link"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("rapport.accounts.urls")),
    path("portal/", include("rapport.portal.urls")),
    path("workspace/", include("rapport.workspace.urls")),
    path("", include("rapport.site.urls")),
]

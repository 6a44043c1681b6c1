from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("rapport.accounts.urls")),
    path("portal/", include("rapport.portal.urls")),
    path("workspace/", include("rapport.workspace.urls")),
    path("", include("rapport.site.urls")),
]

from django.urls import path

from rapport.site import booking_views, views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", booking_views.privacy, name="privacy"),
    path("book/", booking_views.book, name="book"),
    path("book/<uuid:service_id>/", booking_views.book_time, name="book_time"),
    path("book/<uuid:service_id>/details/", booking_views.book_details, name="book_details"),
    # The token is the participant's credential: looked up by its hash, never logged by us.
    path("booking/<str:token>/", booking_views.booking_manage, name="booking_manage"),
    path("booking/<str:token>/cancel/", booking_views.booking_cancel, name="booking_cancel"),
    path("booking/<str:token>/reschedule/", booking_views.booking_reschedule, name="booking_reschedule"),
]

from django.urls import path

from rapport.accounts import views

app_name = "accounts"
urlpatterns = [
    path("home/", views.home, name="home"),
]

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "rapport.site"
    label = "rapport_site"

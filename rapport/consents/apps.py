from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "rapport.consents"
    label = "consents"

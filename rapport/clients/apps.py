from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "rapport.clients"
    label = "clients"

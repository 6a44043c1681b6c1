from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "rapport.demo"
    label = "rapport_demo"

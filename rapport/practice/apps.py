from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "rapport.practice"
    label = "practice"

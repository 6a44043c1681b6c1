from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "rapport.scheduling"
    label = "scheduling"

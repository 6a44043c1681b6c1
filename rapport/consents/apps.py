from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "rapport.consents"
    label = "consents"

    def ready(self) -> None:
        from rapport.consents.todo import consent_todos
        from rapport.core.todo import register

        register(consent_todos)

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "rapport.clients"
    label = "clients"

    def ready(self) -> None:
        from rapport.clients.todo import intake_todos
        from rapport.core.todo import register

        register(intake_todos)

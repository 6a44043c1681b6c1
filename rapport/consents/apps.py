from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "rapport.consents"
    label = "consents"

    def ready(self) -> None:
        from rapport.consents.exports import consents_section
        from rapport.consents.todo import consent_todos
        from rapport.core import exports, todo

        todo.register(consent_todos)
        exports.register(
            consents_section,
            title="Your consents",
            summary="every consent you signed, with its fingerprint and your choice on each item, and every change since",
        )

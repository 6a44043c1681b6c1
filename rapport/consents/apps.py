from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "rapport.consents"
    label = "consents"

    def ready(self) -> None:
        from rapport.clients.access import register_supervision_gate
        from rapport.consents.exports import consents_section
        from rapport.consents.selectors import supervision_gate
        from rapport.consents.todo import consent_todos
        from rapport.core import exports, todo

        todo.register(consent_todos)
        exports.register(
            consents_section,
            title="Your consents",
            summary="every consent you signed, with its fingerprint and your choice on each item, and every change since",
        )
        # The case selectors sit below consents and cannot import it: they ask this gate instead.
        register_supervision_gate(supervision_gate)

from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "rapport.consents"
    label = "consents"

    def ready(self) -> None:
        from rapport.clients.access import register_supervision_gate
        from rapport.consents.selectors import supervision_gate
        from rapport.consents.todo import consent_todos
        from rapport.core.todo import register

        register(consent_todos)
        # The case selectors sit below consents and cannot import it: they ask this gate instead.
        register_supervision_gate(supervision_gate)

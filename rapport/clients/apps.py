from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "rapport.clients"
    label = "clients"

    def ready(self) -> None:
        from rapport.clients.exports import intake_section, profile_section
        from rapport.clients.todo import intake_todos
        from rapport.core.exports import register as register_section
        from rapport.core.todo import register as register_todo

        register_todo(intake_todos)
        register_section(
            profile_section,
            title="Your details",
            summary="your name, email and time zone, and each course of therapy you belong to (kind, status, therapist, dates)",
        )
        register_section(
            intake_section,
            title="Your intake form",
            summary="your answers to the intake form: contact details, emergency contact, and what you wrote in your own words",
        )

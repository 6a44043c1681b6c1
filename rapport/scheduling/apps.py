from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "rapport.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        from rapport.core.exports import register
        from rapport.scheduling.exports import appointments_section

        register(
            appointments_section,
            title="Your appointments",
            summary="every session you were booked into, joint sessions included: time, service, therapist and status",
        )

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "rapport.portal"
    label = "rapport_portal"

    def ready(self) -> None:
        from rapport.core.exports import register
        from rapport.portal.export_sections import record_access_section

        register(
            record_access_section,
            title="Who opened your record",
            summary="everyone who opened or changed your record, and when (your own actions are left out)",
        )

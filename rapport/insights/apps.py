from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "rapport.insights"
    label = "insights"

    def ready(self) -> None:
        # New check-ins, goal ratings and session outcomes reach the detectors through model
        # signals: the apps below insights cannot import it.
        from rapport.insights import triggers

        triggers.connect()

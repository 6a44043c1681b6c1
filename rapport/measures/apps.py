from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class MeasuresConfig(AppConfig):
    name = "rapport.measures"
    label = "measures"

    def ready(self) -> None:
        from rapport.measures import instruments

        instruments.configure(extra_directories=extra_directories())
        checks.register(check_instruments, "measures")

        # Scheduling sits below measures and cannot call it: it calls these hooks instead.
        from rapport.measures.services import administrations_cancel_for_appointment, administrations_move_for_appointment
        from rapport.scheduling import hooks

        hooks.on_cancelled(administrations_cancel_for_appointment)
        hooks.on_moved(administrations_move_for_appointment)
        # A missed session has nothing to check in about: its open check-ins close as a cancelled one's do.
        hooks.on_missed(administrations_cancel_for_appointment)

        # The portal sits above measures: it learns of open check-ins through the "Things to do" registry.
        from rapport.core import todo
        from rapport.measures.todo import checkin_todos

        todo.register(checkin_todos)

        # Consents sits below measures too: a client's pause reaches their check-ins through its hook.
        from rapport.consents import hooks as consent_hooks
        from rapport.measures.pausing import on_consent_decided

        consent_hooks.on_decided(on_consent_decided)


def extra_directories() -> list[Path]:
    extra = getattr(settings, "RAPPORT_EXTRA_INSTRUMENTS_DIR", "")
    return [Path(extra)] if extra else []


def check_instruments(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every instrument file, shipped or the practice's own, must pass the schema (measures.E001).

    Runs with ``manage.py check`` (and ``check --deploy``), ``migrate`` and ``runserver``, so a broken
    file stops a deployment before any client is asked to answer it.
    """
    from rapport.measures import instruments

    return [
        checks.Error(
            f"{problem.path}: {problem.why}" if problem.path else problem.why,
            hint="Fix the file; docs/measures.md describes every field.",
            obj=problem.file,
            id="measures.E001",
        )
        for problem in instruments.check_directories(instruments.directories_for(extra_directories()))
    ]

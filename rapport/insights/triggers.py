"""New data reaches the detectors: a completed check-in, a goal rating, a session's outcome.

Measures, plans and scheduling sit below insights and never import it, so insights listens to
their saves. The run is queued once the saving transaction commits, so it reads what was saved,
and a rolled-back save queues nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from rapport.measures.models import Administration, AdministrationStatus
from rapport.plans.models import GoalRating
from rapport.scheduling.models import Appointment, AppointmentStatus

SESSION_OUTCOMES = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)


_held: ContextVar[bool] = ContextVar("insights_triggers_held", default=False)


@contextmanager
def held() -> Iterator[None]:
    """No runs are queued inside: for a bulk writer that runs the detectors itself at the end
    (the demo seed), which would otherwise queue one run per saved check-in, each recording a read."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def _queue(case_pk: int | None) -> None:
    if case_pk is None or _held.get():
        return
    from rapport.insights.tasks import signals_detect_task

    transaction.on_commit(lambda: signals_detect_task(case_pk))


def _administration_saved(sender: Any, instance: Administration, **kwargs: Any) -> None:
    if instance.status == AdministrationStatus.COMPLETED:
        _queue(instance.case_id)


def _rating_saved(sender: Any, instance: GoalRating, created: bool, **kwargs: Any) -> None:
    if created:
        _queue(instance.item.plan.case_id)


def _appointment_saved(sender: Any, instance: Appointment, **kwargs: Any) -> None:
    if instance.status in SESSION_OUTCOMES:
        _queue(instance.case_id)


def connect() -> None:
    post_save.connect(_administration_saved, sender=Administration, dispatch_uid="insights.administration")
    post_save.connect(_rating_saved, sender=GoalRating, dispatch_uid="insights.rating")
    post_save.connect(_appointment_saved, sender=Appointment, dispatch_uid="insights.appointment")

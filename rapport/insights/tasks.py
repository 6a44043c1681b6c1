"""Background runs of the detectors: after new data arrives, and once a day over every active case."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from rapport.clients.models import Case
from rapport.insights.services import signals_detect, signals_sweep


@db_task()
def signals_detect_task(case_pk: int) -> int:
    case = Case.objects.filter(pk=case_pk).first()
    return len(signals_detect(case)) if case is not None else 0


# Early in the morning, so a check-in that expired overnight shows on the day's briefing.
@db_periodic_task(crontab(hour="4", minute="30"))
def signals_sweep_task() -> int:
    return signals_sweep()

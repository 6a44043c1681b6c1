"""Appointments written straight to the table, for times and states booking would refuse.

The booking service refuses times in the past (notice rules) and outside working hours, and
several tests need a session that already took place (a rating linked to it, a briefing's history,
a calendar's past weeks), so these rows are written directly, as the calendar would hold them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rapport.clients.models import Case
from rapport.practice.models import Service, Therapist
from rapport.scheduling.models import Appointment, AppointmentStatus


def appointment_row(
    therapist: Therapist,
    service: Service,
    start: datetime,
    *,
    case: Case | None = None,
    minutes: int = 0,
    buffered: bool = True,
    **fields: Any,
) -> Appointment:
    """One appointment of ``therapist`` for ``service`` at ``start``: the service's length unless
    ``minutes`` is given, and the time it blocks widened by the service's buffers unless not ``buffered``."""
    end = start + timedelta(minutes=minutes or service.duration_minutes)
    before = timedelta(minutes=service.buffer_before_minutes if buffered else 0)
    after = timedelta(minutes=service.buffer_after_minutes if buffered else 0)
    return Appointment.objects.create(
        practice_id=therapist.practice_id,
        therapist=therapist,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=start - before,
        blocked_end=end + after,
        **fields,
    )


def session_at(case: Case, start: datetime, *, status: str = AppointmentStatus.COMPLETED, minutes: int = 50) -> Appointment:
    kind = "couple" if case.members.count() > 1 else "individual"
    service = Service.objects.get(practice=case.practice, kind=kind)
    return appointment_row(case.primary_therapist, service, start, case=case, minutes=minutes, buffered=False, status=status)

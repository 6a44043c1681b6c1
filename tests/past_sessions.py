"""Sessions of a case at any time, past ones included, for tests of ratings linked to sessions.

The booking service refuses times in the past (notice rules), and a rating is linked to a session
that already took place, so these rows are written directly, as the calendar would hold them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rapport.clients.models import Case
from rapport.practice.models import Service
from rapport.scheduling.models import Appointment, AppointmentStatus


def session_at(case: Case, start: datetime, *, status: str = AppointmentStatus.COMPLETED, minutes: int = 50) -> Appointment:
    kind = "couple" if case.members.count() > 1 else "individual"
    service = Service.objects.get(practice=case.practice, kind=kind)
    end = start + timedelta(minutes=minutes)
    return Appointment.objects.create(
        practice=case.practice,
        therapist=case.primary_therapist,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        status=status,
    )

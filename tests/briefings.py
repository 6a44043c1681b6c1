"""Sessions with a history behind them, for the briefing's tests. Every answer and word is fictional.

Sessions are made as rows at chosen times (tests.past_sessions.appointment_row), a week apart and
ending yesterday, with the session being briefed tomorrow, so steps checked off "now" fall after
the previous session. Check-ins go through the real submission path (tests/results.sent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from rapport.clients.models import Case
from rapport.measures.models import Administration, Timing
from rapport.practice.models import Service, ServiceKind, Therapist
from rapport.scheduling.models import Appointment, AppointmentStatus
from tests.past_sessions import appointment_row
from tests.results import phq9, sent

AGENDA = "Fictional: I want to talk about the move and my sister."


def session(
    therapist: Therapist, case: Case | None, start: datetime, *, kind: str = "", status: str = AppointmentStatus.BOOKED
) -> Appointment:
    kind = kind or (ServiceKind.COUPLE if case is not None and case.members.count() == 2 else ServiceKind.INDIVIDUAL)
    service = Service.objects.get(practice_id=therapist.practice_id, kind=kind)
    return appointment_row(therapist, service, start, case=case, status=status)


def for_session(administration: Administration, appointment: Appointment) -> Administration:
    # tests.results.sent makes check-ins without a session; the briefing reads them by their session.
    Administration.objects.filter(pk=administration.pk).update(appointment=appointment)
    administration.refresh_from_db()
    return administration


def course(case: Case, sessions: int, *, now: datetime | None = None) -> tuple[list[Appointment], Appointment]:
    """``sessions`` weekly sessions ending yesterday, each with a PHQ-9 before and an alliance check-in after
    from every client of the case; and the next session, tomorrow, which the briefing is for."""
    now = now or timezone.now()
    therapist = case.primary_therapist
    clients = [member.client for member in case.members.order_by("position")]
    past = []
    for week in range(sessions, 0, -1):
        start = (now - timedelta(days=7 * (week - 1) + 1)).replace(minute=0, second=0, microsecond=0)
        appointment = session(therapist, case, start, status=AppointmentStatus.COMPLETED)
        for index, client in enumerate(clients):
            score = max(0, 18 - 2 * (sessions - week) + index)
            for_session(sent(client, case, "phq9", phq9(min(score, 24)), start - timedelta(hours=2)), appointment)
            bond = 8 if week != 2 else 3
            ratings = {"goals": 7, "tasks": 7 - index, "bond": bond}
            for_session(sent(client, case, "alliance", ratings, start + timedelta(hours=1), timing=Timing.AFTER), appointment)
        past.append(appointment)
    upcoming = session(therapist, case, (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0))
    return past, upcoming

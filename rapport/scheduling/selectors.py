"""Reads of appointments for the people booked into them (the therapist's side is in calendar.py),
and a case's session counts for the supervisor's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from rapport.clients.models import Case, Client
from rapport.scheduling.models import Appointment, AppointmentStatus, Participant
from rapport.scheduling.services import ChangeRule, client_change_rule, video_url


def participations_upcoming(client: Client, *, now: datetime) -> QuerySet[Participant]:
    """The client's own places in sessions still to come, soonest first.

    A couple's session has one participant per partner, so each partner finds it here through
    their own row (and their own manage link); nothing of the other partner's is reached.
    """
    return (
        Participant.objects.filter(
            client=client,
            revoked_at__isnull=True,
            appointment__status=AppointmentStatus.BOOKED,
            appointment__start__gt=now,
        )
        .select_related("appointment__practice", "appointment__service", "appointment__therapist", "appointment__case")
        .order_by("appointment__start", "id")
    )


@dataclass(frozen=True)
class UpcomingSession:
    participant: Participant
    start: datetime
    end: datetime
    video_url: str | None
    rule: ChangeRule


def sessions_upcoming(client: Client, *, now: datetime, limit: int = 20) -> list[UpcomingSession]:
    """The client's next sessions, with times in the client's zone and whether they may change them online."""
    zone = ZoneInfo(client.time_zone)
    sessions = []
    for participant in participations_upcoming(client, now=now)[:limit]:
        appointment = participant.appointment
        sessions.append(
            UpcomingSession(
                participant=participant,
                start=appointment.start.astimezone(zone),
                end=appointment.end.astimezone(zone),
                video_url=video_url(appointment),
                rule=client_change_rule(appointment, now),
            )
        )
    return sessions


@dataclass(frozen=True)
class SessionCounts:
    """How many of a case's sessions were held, cancelled, missed, and are still to come."""

    held: int
    cancelled: int
    missed: int
    upcoming: int


def case_session_counts(case: Case, *, now: datetime) -> SessionCounts:
    """Counts of the case's sessions by outcome, in one query; no times, no names.

    A session counts as held once it has ended without being cancelled or marked missed: a
    therapist need not mark each one completed for it to have happened.
    """
    ended = Q(end__lte=now)
    counts = Appointment.objects.filter(case=case).aggregate(
        held=Count("pk", filter=Q(status=AppointmentStatus.COMPLETED) | (Q(status=AppointmentStatus.BOOKED) & ended)),
        cancelled=Count("pk", filter=Q(status=AppointmentStatus.CANCELLED)),
        missed=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
        upcoming=Count("pk", filter=Q(status=AppointmentStatus.BOOKED) & ~ended),
    )
    return SessionCounts(**counts)

"""Sessions booked for the personas through the real booking service, for the portal's tests and matrix rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from rapport.clients.models import Case
from rapport.practice.models import Service
from rapport.scheduling.models import Appointment, WorkingHours
from rapport.scheduling.services import appointment_book
from tests.personas import World

TORONTO = ZoneInfo("America/Toronto")


def weekday_ahead(days: int = 4) -> date:
    """The first Monday-to-Friday in Toronto at least ``days`` ahead (well past any notice rule)."""
    day = (timezone.now().astimezone(TORONTO) + timedelta(days=days)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def toronto(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TORONTO).astimezone(UTC)


def book(world: World, case: Case, kind: str, *, hour: int, day: date | None = None) -> Appointment:
    """Therapist A's session for ``case`` through the booking service (participants, links, audit and all).

    Idempotent, so each matrix test (in its own savepoint) and each portal test can call it freely.
    """
    therapist = world.therapist_a
    if not WorkingHours.objects.filter(therapist=therapist).exists():
        for weekday in range(5):
            WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=time(9), end=time(17))
        therapist.time_zone = "America/Toronto"
        therapist.save(update_fields=["time_zone"])
    start = toronto(day or weekday_ahead(), hour)
    existing = Appointment.objects.filter(therapist=therapist, start=start).first()
    if existing is not None:
        return existing
    service = Service.objects.get(practice=world.practice, kind=kind)
    return appointment_book(actor=world.user("therapist_a"), therapist=therapist, service=service, start=start, case=case)

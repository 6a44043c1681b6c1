"""Check-ins for the personas' world: sessions booked for therapist A, administrations, a risk alert.

All fictional. Times are pinned: a Monday morning in Toronto, with sessions on the Tuesday after.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rapport.measures.models import Administration, RiskAlert
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.practice.models import Practice, Service
from rapport.scheduling.models import Appointment, WorkingHours
from rapport.scheduling.services import appointment_book
from tests.personas import World

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # Monday
TUESDAY = date(2026, 11, 24)
CRISIS = [{"name": "Harbour Crisis Line (fictional)", "contact": "1-800-555-0100", "note": "24 hours, free"}]
# A PHQ-9 with item 9 answered "More than half the days" (2); the rest low. Fictional answers.
PHQ9_WITH_RISK = {**{f"phq9_{n}": 1 for n in range(1, 9)}, "phq9_9": 2}
PHQ9_NO_RISK = {**{f"phq9_{n}": 1 for n in range(1, 9)}, "phq9_9": 0}


def at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def prepare(world: World) -> World:
    """Therapist A works weekdays 9 to 5 in Toronto; the practice has crisis resources on file."""
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    Practice.objects.filter(pk=world.practice.pk).update(crisis_resources=CRISIS)
    world.practice.refresh_from_db()
    return world


def book(world: World, kind: str = "individual", start: datetime | None = None) -> Appointment:
    case = world.individual_case if kind == "individual" else world.couple_case
    return appointment_book(
        actor=world.user("therapist_a"),
        therapist=world.therapist_a,
        service=Service.objects.get(practice=world.practice, kind=kind),
        start=start or at(10 if kind == "individual" else 13),
        case=case,
        now=NOW,
    )


def phq9_of(appointment: Appointment) -> Administration:
    return Administration.objects.get(appointment=appointment, instrument_key="phq9")


def risk_alert(world: World) -> RiskAlert:
    """Cora answers Tuesday's PHQ-9 with a risk answer on item 9 and sends it: her therapist's alert."""
    if not WorkingHours.objects.filter(therapist=world.therapist_a).exists():
        prepare(world)
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    result = answers_save(administration=phq9_of(appointment), answers=PHQ9_WITH_RISK, final=True, actor=world.user("client"), now=NOW)
    assert result.alert is not None
    return result.alert


def other_practice_alert(world: World) -> RiskAlert:
    """Olive, a client of another practice, sends a PHQ-9 with a risk answer (a check-in with no appointment)."""
    from django.utils import timezone

    from rapport.measures.models import Timing
    from rapport.practice.services import hash_token

    now = timezone.now()
    administration = Administration.objects.create(
        practice=world.other_practice,
        case=world.other_case,
        client=world.other_client,
        instrument_key="phq9",
        instrument_version="2001",
        timing=Timing.BEFORE,
        opens_at=now,
        due_at=now,
        expires_at=now + timedelta(days=3),
        token_hash=hash_token("other-practice-fictional-token"),
    )
    result = answers_save(administration=administration, answers=PHQ9_WITH_RISK, final=True, actor=world.user("other_practice_client"))
    assert result.alert is not None
    return result.alert

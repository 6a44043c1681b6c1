"""Booking on the real databases: what is offered is what is accepted, and no time is given twice."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from rapport.audit.models import AuditEvent
from rapport.practice.models import Service
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import Appointment, AppointmentStatus, AvailabilityOverride, OverrideKind, WorkingHours
from rapport.scheduling.services import SlotUnavailable, appointment_book
from tests.personas import build_world

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # a Monday morning
TUESDAY = date(2026, 11, 24)


def _open_weekdays(therapist, start=time(9), end=time(17)) -> None:
    for weekday in range(5):
        WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=start, end=end)


def _service(world, kind: str) -> Service:
    return Service.objects.get(practice=world.practice, kind=kind)


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture
def booking_world(world):
    _open_weekdays(world.therapist_a)
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    return world


def test_a_booked_time_and_its_buffers_leave_the_offer(booking_world):
    world = booking_world
    individual = _service(world, "individual")  # 50 min + 10 min buffer after
    day = {"window_start": _at(0), "window_end": _at(0, day=TUESDAY + timedelta(days=1)), "now": NOW}
    before = free_starts(therapist=world.therapist_a, service=individual, **day)
    appointment = appointment_book(
        actor=world.user("therapist_a"), therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW
    )
    after = free_starts(therapist=world.therapist_a, service=individual, **day)
    assert appointment.blocked_end == _at(11)
    removed = sorted(set(before) - set(after))
    # Starts from 9:15 (ends 10:05 + buffer) up to 10:45 (overlaps until 11:00) are gone.
    assert [s.astimezone(TORONTO).strftime("%H:%M") for s in removed] == ["09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"]
    assert _at(11) in after


def test_the_same_time_cannot_be_booked_twice(booking_world):
    world = booking_world
    individual = _service(world, "individual")
    appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW)
    with pytest.raises(SlotUnavailable, match="just taken"):
        appointment_book(
            actor=None, therapist=world.therapist_a, service=individual, start=_at(10, 30), case=world.individual_case, now=NOW
        )
    assert Appointment.objects.count() == 1


def test_times_outside_hours_in_the_past_or_off_grid_are_refused(booking_world):
    world = booking_world
    individual = _service(world, "individual")
    for start in (_at(8), _at(16, 30), _at(10, 7), NOW - timedelta(days=1), _at(10, day=date(2026, 11, 28))):
        with pytest.raises(SlotUnavailable):
            appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=start, case=world.individual_case, now=NOW)
    assert not Appointment.objects.exists()


def test_a_day_off_closes_the_day_and_a_cancelled_appointment_frees_its_time(booking_world):
    world = booking_world
    individual = _service(world, "individual")
    AvailabilityOverride.objects.create(therapist=world.therapist_a, day=TUESDAY, kind=OverrideKind.DAY_OFF)
    with pytest.raises(SlotUnavailable):
        appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW)
    AvailabilityOverride.objects.all().delete()
    first = appointment_book(
        actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW
    )
    first.status = AppointmentStatus.CANCELLED
    first.save(update_fields=["status"])
    appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW)


def test_the_kind_of_session_must_match_the_case(booking_world):
    world = booking_world
    with pytest.raises(ValidationError, match="couple's case"):
        appointment_book(
            actor=None, therapist=world.therapist_a, service=_service(world, "couple"), start=_at(10), case=world.individual_case, now=NOW
        )
    with pytest.raises(ValidationError, match="contact email"):
        appointment_book(actor=None, therapist=world.therapist_a, service=_service(world, "consultation"), start=_at(10), now=NOW)


def test_a_consultation_keeps_its_reason_encrypted_and_is_audited_without_it(booking_world):
    world = booking_world
    appointment = appointment_book(
        actor=None,
        therapist=world.therapist_a,
        service=_service(world, "consultation"),
        start=_at(9),
        contact_name="Robin Visitor",
        contact_email="Robin@Mail.example",
        reason="Fictional: trouble sleeping since the move",
        now=NOW,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM scheduling_appointment WHERE id = %s", [appointment.pk])
        assert "sleeping" not in cursor.fetchone()[0]
    assert Appointment.objects.get(pk=appointment.pk).reason == "Fictional: trouble sleeping since the move"
    event = AuditEvent.objects.filter(object_id=appointment.public_id).get()
    assert "sleeping" not in str(event.detail)


def test_a_couples_session_is_audited_for_each_partner(booking_world):
    world = booking_world
    appointment = appointment_book(
        actor=world.user("therapist_a"),
        therapist=world.therapist_a,
        service=_service(world, "couple"),
        start=_at(13),
        case=world.couple_case,
        now=NOW,
    )
    clients = set(AuditEvent.objects.filter(object_id=appointment.public_id).values_list("client_id", flat=True))
    assert clients == {world.partner_a.public_id, world.partner_b.public_id}


def test_the_daily_maximum_holds(booking_world):
    world = booking_world
    world.therapist_a.max_sessions_per_day = 1
    world.therapist_a.save(update_fields=["max_sessions_per_day"])
    individual = _service(world, "individual")
    appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=_at(9), case=world.individual_case, now=NOW)
    with pytest.raises(SlotUnavailable):
        appointment_book(actor=None, therapist=world.therapist_a, service=individual, start=_at(14), case=world.individual_case, now=NOW)


@pytest.mark.django_db(transaction=True)
def test_racing_bookers_never_get_the_same_time():
    """Eight bookers, each on its own connection, all want the same ten times: one wins each."""
    world = build_world()
    _open_weekdays(world.therapist_a)
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    individual = Service.objects.get(practice=world.practice, kind="individual")
    starts = [_at(9 + hour) for hour in range(8)] + [_at(9, day=TUESDAY + timedelta(days=1)), _at(10, day=TUESDAY + timedelta(days=1))]
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def booker(offset: int) -> None:
        try:
            barrier.wait()
            for start in starts[offset:] + starts[:offset]:
                try:
                    appointment_book(
                        actor=None, therapist=world.therapist_a, service=individual, start=start, case=world.individual_case, now=NOW
                    )
                    result = "booked"
                except SlotUnavailable:
                    result = "taken"
                with lock:
                    outcomes.append(result)
        except Exception as exc:
            with lock:
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=booker, args=(n % len(starts),)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("booked") == len(starts)
    assert outcomes.count("taken") == 8 * len(starts) - len(starts)
    booked = list(Appointment.objects.exclude(status="cancelled").order_by("blocked_start"))
    assert [a.start for a in booked] == sorted(s.astimezone(UTC) for s in starts)
    for earlier, later in itertools.pairwise(booked):
        assert earlier.blocked_end <= later.blocked_start


def test_postgresql_refuses_an_overlap_even_when_code_skips_the_check(booking_world):
    from django.db import IntegrityError, transaction

    world = booking_world
    individual = _service(world, "individual")
    first = appointment_book(
        actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW
    )
    overlapping = Appointment(
        practice=world.practice,
        therapist=world.therapist_a,
        service=individual,
        case=world.individual_case,
        start=_at(10, 30),
        end=_at(11, 20),
        blocked_start=_at(10, 30),
        blocked_end=_at(11, 30),
    )
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
            overlapping.save()
        # Back to back is fine: the ranges are half-open.
        Appointment.objects.create(
            practice=world.practice, therapist=world.therapist_a, service=individual, start=first.blocked_end,
            end=first.blocked_end + timedelta(minutes=50), blocked_start=first.blocked_end, blocked_end=first.blocked_end + timedelta(hours=1),
        )  # fmt: skip
    else:
        # SQLite has no such constraint: the IMMEDIATE transaction in appointment_book is the guard,
        # which is why every booking goes through it (see test_racing_bookers_never_get_the_same_time).
        overlapping.save()
        assert Appointment.objects.count() == 2


def test_online_sessions_get_an_unguessable_room_on_the_practices_video_server(booking_world, settings):
    from rapport.scheduling.services import video_url

    world = booking_world
    settings.RAPPORT_VIDEO_BASE_URL = "https://video.harbour.example"
    online = appointment_book(
        actor=None,
        therapist=world.therapist_a,
        service=_service(world, "consultation"),
        start=_at(9),
        contact_email="v@mail.example",
        now=NOW,
    )
    in_person = appointment_book(
        actor=None, therapist=world.therapist_a, service=_service(world, "individual"), start=_at(11), case=world.individual_case, now=NOW
    )
    assert len(online.video_room) >= 43  # 32 random bytes, URL-safe (ASVS 5.0 11.5.1: at least 128 bits)
    assert video_url(online) == f"https://video.harbour.example/{online.video_room}"
    assert video_url(in_person) is None
    settings.RAPPORT_VIDEO_BASE_URL = ""
    assert video_url(online) is None


def test_a_booker_who_cannot_get_the_write_lock_in_time_gets_a_plain_answer(booking_world, monkeypatch):
    from django.db import OperationalError

    from rapport.scheduling import services

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_book_locked", locked)
    with pytest.raises(SlotUnavailable, match="Please try again"):
        appointment_book(
            actor=None,
            therapist=booking_world.therapist_a,
            service=_service(booking_world, "individual"),
            start=_at(10),
            case=booking_world.individual_case,
            now=NOW,
        )
    assert not Appointment.objects.exists()


def test_a_time_already_gone_is_refused_before_any_write_lock(booking_world, monkeypatch):
    from rapport.scheduling import services

    individual = _service(booking_world, "individual")
    appointment_book(
        actor=None, therapist=booking_world.therapist_a, service=individual, start=_at(10), case=booking_world.individual_case, now=NOW
    )
    calls = []
    monkeypatch.setattr(services, "_book_locked", lambda **kwargs: calls.append(kwargs))
    with pytest.raises(SlotUnavailable):
        appointment_book(
            actor=None, therapist=booking_world.therapist_a, service=individual, start=_at(10), case=booking_world.individual_case, now=NOW
        )
    assert calls == []

"""Cancelling and moving sessions within the practice's policy, on both databases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from rapport.audit.models import AuditEvent
from rapport.practice.models import Service
from rapport.scheduling.models import Appointment, AppointmentStatus, WorkingHours
from rapport.scheduling.services import (
    PolicyRefused,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_mark_no_show,
    appointment_reschedule,
)

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)
TUESDAY = date(2026, 11, 24)


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture
def booked(world):
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    individual = Service.objects.get(practice=world.practice, kind="individual")
    couple = Service.objects.get(practice=world.practice, kind="couple")
    world.individual_appointment = appointment_book(
        actor=None, therapist=world.therapist_a, service=individual, start=_at(10), case=world.individual_case, now=NOW
    )
    world.couple_appointment = appointment_book(
        actor=None, therapist=world.therapist_a, service=couple, start=_at(13), case=world.couple_case, now=NOW
    )
    return world


def test_a_client_cancelling_in_good_time_is_not_late(booked):
    cancelled = appointment_cancel(actor=booked.user("client"), appointment=booked.individual_appointment, by_client=True, now=NOW)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert not cancelled.late_cancellation
    assert cancelled.sequence == 1
    assert AuditEvent.objects.filter(object_id=cancelled.public_id, detail__fields=["cancelled"]).count() == 1


def test_a_client_cancelling_inside_the_window_is_recorded_as_late(booked):
    an_hour_before = _at(9)
    cancelled = appointment_cancel(actor=None, appointment=booked.individual_appointment, by_client=True, now=an_hour_before)
    assert cancelled.late_cancellation


def test_a_practice_can_refuse_late_changes_online(booked):
    booked.practice.late_cancellation_allowed = False
    booked.practice.save(update_fields=["late_cancellation_allowed"])
    with pytest.raises(PolicyRefused, match="less than 24 hours"):
        appointment_cancel(actor=None, appointment=booked.individual_appointment, by_client=True, now=_at(9))
    assert Appointment.objects.get(pk=booked.individual_appointment.pk).status == AppointmentStatus.BOOKED
    # The therapist can still cancel, and that is never a late cancellation.
    cancelled = appointment_cancel(actor=booked.user("therapist_a"), appointment=booked.individual_appointment, by_client=False, now=_at(9))
    assert not cancelled.late_cancellation


def test_one_partner_alone_may_be_refused_for_a_couples_session(booked):
    booked.practice.couple_partner_may_change_alone = False
    booked.practice.save(update_fields=["couple_partner_may_change_alone"])
    with pytest.raises(PolicyRefused, match="both partners"):
        appointment_cancel(actor=booked.user("partner_a"), appointment=booked.couple_appointment, by_client=True, now=NOW)


def test_a_cancelled_session_cannot_be_cancelled_again(booked):
    appointment_cancel(actor=None, appointment=booked.individual_appointment, by_client=False, now=NOW)
    with pytest.raises(ValidationError, match="Only a booked session"):
        appointment_cancel(actor=None, appointment=booked.individual_appointment, by_client=False, now=NOW)


def test_moving_keeps_the_identity_and_frees_the_old_time(booked):
    original = booked.individual_appointment
    moved = appointment_reschedule(actor=None, appointment=original, new_start=_at(10, 30), by_client=True, now=NOW)
    assert moved.public_id == original.public_id
    assert moved.sequence == 1
    assert (moved.start, moved.end) == (_at(10, 30), _at(11, 20))
    # The time it left is free again for someone else.
    individual = Service.objects.get(practice=booked.practice, kind="individual")
    appointment_book(actor=None, therapist=booked.therapist_a, service=individual, start=_at(9, 30), case=booked.individual_case, now=NOW)


def test_moving_onto_a_taken_time_changes_nothing(booked):
    with pytest.raises(SlotUnavailable):
        appointment_reschedule(actor=None, appointment=booked.individual_appointment, new_start=_at(13, 30), by_client=True, now=NOW)
    unchanged = Appointment.objects.get(pk=booked.individual_appointment.pk)
    assert (unchanged.status, unchanged.start, unchanged.sequence) == (AppointmentStatus.BOOKED, _at(10), 0)


def test_a_no_show_can_be_marked_once_the_session_has_started(booked):
    with pytest.raises(ValidationError):
        appointment_mark_no_show(actor=booked.user("therapist_a"), appointment=booked.individual_appointment, now=NOW)
    marked = appointment_mark_no_show(actor=booked.user("therapist_a"), appointment=booked.individual_appointment, now=_at(10, 20))
    assert marked.status == AppointmentStatus.NO_SHOW
    assert timedelta(0) < marked.start - NOW

"""Calendar invites and the therapist's feed, on the real databases, read back with icalendar's own parser."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar, Event

from rapport.clients.models import Case
from rapport.clients.services import case_update_summary
from rapport.practice.models import Service
from rapport.scheduling.ics import appointment_invite, therapist_feed
from rapport.scheduling.models import Appointment, AppointmentStatus

TORONTO = ZoneInfo("America/Toronto")
# Daylight saving time ends in Toronto on this Sunday: 10:00 local is 15:00 UTC, not 14:00.
DST_END = date(2026, 11, 1)
SITE_URL = "https://harbour.example/booking/manage/signed-token-for-tests/"
VIDEO_URL = "https://video.harbour.example/room-unguessable-for-tests"
CLINICAL_SUMMARY = "FICTIONAL-CASE-SUMMARY grief after a fictional loss"
CONSULTATION_REASON = "FICTIONAL-CONSULTATION-REASON trouble sleeping since a fictional move"


def _at(hour: int, minute: int = 0, day: date = DST_END) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def _appointment(world, kind: str, start: datetime, case: Case | None = None, **fields) -> Appointment:
    service = Service.objects.get(practice=world.practice, kind=kind)
    end = start + timedelta(minutes=service.duration_minutes)
    appointment = Appointment.objects.create(
        practice=world.practice,
        therapist=world.therapist_a,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=start - timedelta(minutes=service.buffer_before_minutes),
        blocked_end=end + timedelta(minutes=service.buffer_after_minutes),
        **fields,
    )
    appointment.refresh_from_db()  # the times as the database gives them back
    return appointment


def _consultation(world, start: datetime) -> Appointment:
    return _appointment(
        world, "consultation", start, contact_name="Robin Visitor", contact_email="robin@mail.example", reason=CONSULTATION_REASON
    )


def _only_event(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def _unfolded(data: bytes) -> bytes:
    # RFC 5545 3.1: a folded line continues after CRLF + one space; a marker could straddle a fold.
    return data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")


def _is_utc(moment: datetime) -> bool:
    return moment.utcoffset() == timedelta(0)


def test_an_invite_carries_a_stable_uid_the_sequence_and_the_times_in_utc(world):
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)
    before = timezone.now().replace(microsecond=0)
    data = appointment_invite(appointment, method="REQUEST", site_url=SITE_URL)
    after = timezone.now()

    calendar, event = _only_event(data)
    assert str(calendar["PRODID"]) == "-//Rapport//Rapport//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{appointment.public_id}@rapport"
    assert event["SEQUENCE"] == 0
    assert event.status == "CONFIRMED"
    assert event.start == appointment.start
    assert event.end == appointment.end
    assert _is_utc(event.start)
    assert _is_utc(event.end)
    assert b"DTSTART:20261101T150000Z" in data
    assert b"DTEND:20261101T155000Z" in data
    assert _is_utc(event.stamp)
    assert before <= event.stamp <= after


def test_a_change_keeps_the_uid_and_raises_the_sequence(world):
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)
    _, first = _only_event(appointment_invite(appointment, method="REQUEST", site_url=SITE_URL))

    Appointment.objects.filter(pk=appointment.pk).update(
        start=_at(13), end=_at(13, 50), blocked_start=_at(13), blocked_end=_at(14), sequence=appointment.sequence + 1
    )
    appointment.refresh_from_db()
    _, moved = _only_event(appointment_invite(appointment, method="REQUEST", site_url=SITE_URL))

    assert moved["UID"] == first["UID"]
    assert moved["SEQUENCE"] == first["SEQUENCE"] + 1 == appointment.sequence
    assert moved.start == appointment.start == _at(13)


def test_a_cancellation_is_method_cancel_with_status_cancelled_for_the_same_event(world):
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)
    _, request = _only_event(appointment_invite(appointment, method="REQUEST", site_url=SITE_URL))
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED, cancelled_at=timezone.now(), sequence=appointment.sequence + 1
    )
    appointment.refresh_from_db()

    calendar, cancel = _only_event(appointment_invite(appointment, method="CANCEL", site_url=SITE_URL))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert cancel.status == "CANCELLED"
    assert cancel["UID"] == request["UID"]
    assert cancel["SEQUENCE"] > request["SEQUENCE"]
    assert cancel.start == appointment.start


def test_an_invite_says_only_service_practice_and_the_manage_link(world):
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)

    _, event = _only_event(appointment_invite(appointment, method="REQUEST", site_url=SITE_URL))

    assert event["SUMMARY"] == "Individual session — Harbour Therapy"
    assert event["LOCATION"] == "Harbour Therapy"  # in person: no video link even if one were given
    assert event["DESCRIPTION"] == f"Manage this booking: {SITE_URL}"
    assert "ORGANIZER" not in event  # the practice has no contact email yet


def test_the_organizer_is_the_practice_contact_email_when_set(world):
    world.practice.contact_email = "hello@harbour.example"
    world.practice.save(update_fields=["contact_email"])
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)

    _, event = _only_event(appointment_invite(appointment, method="REQUEST", site_url=SITE_URL))

    assert str(event["ORGANIZER"]) == "mailto:hello@harbour.example"
    assert event["ORGANIZER"].params["CN"] == "Harbour Therapy"


def test_an_online_appointment_takes_the_video_link_as_its_location(world):
    consultation = _consultation(world, _at(9))

    _, with_room = _only_event(appointment_invite(consultation, method="REQUEST", site_url=SITE_URL, video_url=VIDEO_URL))
    _, without_room = _only_event(appointment_invite(consultation, method="REQUEST", site_url=SITE_URL))

    assert with_room["LOCATION"] == VIDEO_URL
    assert with_room["SUMMARY"] == "Free 15-minute online consultation — Harbour Therapy"
    assert without_room["LOCATION"] == "Harbour Therapy"


def test_clinical_text_and_the_consultation_contact_never_reach_an_invite_or_the_feed(world):
    case_update_summary(actor=world.user("therapist_a"), case=world.individual_case, summary=CLINICAL_SUMMARY)
    session = _appointment(world, "individual", _at(10), case=Case.objects.get(pk=world.individual_case.pk))
    consultation = _consultation(world, _at(9))
    assert consultation.reason == CONSULTATION_REASON  # the marked text really is on the rows
    assert session.case is not None
    assert session.case.summary == CLINICAL_SUMMARY

    outputs = [
        appointment_invite(appointment, method=method, site_url=SITE_URL, video_url=VIDEO_URL)
        for appointment in (session, consultation)
        for method in ("REQUEST", "CANCEL")
    ]
    outputs.append(therapist_feed(Appointment.objects.all(), calendar_name="Theo Treating — Rapport"))

    forbidden = [b"FICTIONAL-CASE-SUMMARY", b"FICTIONAL-CONSULTATION-REASON", b"Robin", b"robin@mail.example", b"Cora", b"Client"]
    for data in outputs:
        for marker in forbidden:
            assert marker not in data
            assert marker not in _unfolded(data)


def test_a_practice_name_with_a_comma_and_a_semicolon_is_escaped_and_long_lines_folded(world):
    name = "Harbour, Hearth; Counselling and Psychotherapy for Individuals and Couples of the Lower Town"
    world.practice.name = name
    world.practice.contact_email = "hello@harbour.example"
    world.practice.save(update_fields=["name", "contact_email"])
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)

    data = appointment_invite(appointment, method="REQUEST", site_url=SITE_URL)

    unfolded = _unfolded(data)
    assert b"SUMMARY:Individual session \xe2\x80\x94 Harbour\\, Hearth\\; Counselling" in unfolded
    assert b"LOCATION:Harbour\\, Hearth\\; Counselling" in unfolded
    assert b'ORGANIZER;CN="Harbour, Hearth; Counselling' in unfolded  # a parameter value is quoted instead
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    _, event = _only_event(data)
    assert event["SUMMARY"] == f"Individual session — {name}"
    assert event["LOCATION"] == name
    assert event["ORGANIZER"].params["CN"] == name


def test_the_feed_shows_initials_only_and_keeps_cancelled_sessions_as_cancelled(world):
    individual = _appointment(world, "individual", _at(10), case=world.individual_case)
    couple = _appointment(world, "couple", _at(12), case=world.couple_case)
    consultation = _consultation(world, _at(9))
    cancelled = _appointment(world, "individual", _at(10, day=DST_END + timedelta(days=1)), case=world.individual_case)
    Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CANCELLED, sequence=1)
    completed = _appointment(
        world, "individual", _at(10, day=DST_END - timedelta(days=7)), case=world.individual_case, status=AppointmentStatus.COMPLETED
    )
    no_show = _appointment(
        world, "individual", _at(10, day=DST_END - timedelta(days=14)), case=world.individual_case, status=AppointmentStatus.NO_SHOW
    )

    data = therapist_feed(Appointment.objects.filter(therapist=world.therapist_a), calendar_name="Theo Treating, Harbour; sessions")

    calendar = Calendar.from_ical(data)
    assert "METHOD" not in calendar
    # icalendar parses X-WR-CALNAME as an unknown property, raw: check the escaped text on the wire.
    assert b"\r\nX-WR-CALNAME:Theo Treating\\, Harbour\\; sessions\r\n" in _unfolded(data)
    assert b"\r\nNAME:Theo Treating\\, Harbour\\; sessions\r\n" in _unfolded(data)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert len(events) == 6

    def event(appointment: Appointment) -> Event:
        return events[f"{appointment.public_id}@rapport"]

    assert event(individual)["SUMMARY"] == "Individual session (C. C.)"
    assert event(couple)["SUMMARY"] == "Couples session (P. P. & Q. P.)"
    assert event(consultation)["SUMMARY"] == "Consultation"
    assert event(cancelled).status == "CANCELLED"
    assert event(cancelled)["SEQUENCE"] == 1
    for appointment in (individual, couple, consultation, completed, no_show):
        assert event(appointment).status == "CONFIRMED"
        assert event(appointment).start == appointment.start
        assert _is_utc(event(appointment).start)
    assert all("DESCRIPTION" not in e and "LOCATION" not in e for e in events.values())


def test_the_feed_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    for day in range(6):
        start = _at(10, day=DST_END + timedelta(days=day))
        _appointment(world, "couple" if day % 2 else "individual", start, case=world.couple_case if day % 2 else world.individual_case)
    _consultation(world, _at(9))

    # The appointments with their services, then the cases, their members, the members' clients.
    with django_assert_num_queries(4):
        therapist_feed(Appointment.objects.filter(therapist=world.therapist_a), calendar_name="Theo")


def test_bad_arguments_are_refused(world):
    appointment = _appointment(world, "individual", _at(10), case=world.individual_case)
    with pytest.raises(ValueError, match="iTIP method"):
        appointment_invite(appointment, method="PUBLISH", site_url=SITE_URL)  # type: ignore[arg-type]
    appointment.start = datetime(2026, 11, 1, 10, 0)  # naive: a bug upstream, never guessed at
    with pytest.raises(ValueError, match="aware"):
        appointment_invite(appointment, method="REQUEST", site_url=SITE_URL)

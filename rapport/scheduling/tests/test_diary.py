"""The therapist's diary on the real databases: blocks, the private feed, consultations that become cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from icalendar import Calendar

from rapport.audit.models import AuditEvent
from rapport.clients.models import Case, CaseKind, CaseStatus, Client
from rapport.clients.services import client_create
from rapport.practice.models import Service, Therapist
from rapport.scheduling.availability import free_starts
from rapport.scheduling.booking import BookingRequest, ConsultationNotOffered, public_booking_create
from rapport.scheduling.calendar import (
    WEEK,
    appointment_get_for_user,
    appointment_read_for_user,
    block_get_for_user,
    calendar_grid,
    feed_appointments,
)
from rapport.scheduling.diary import (
    calendar_feed_issue,
    calendar_feed_revoke,
    consultation_exception_grant,
    consultation_open_case,
    therapist_for_feed_token,
    time_block_add,
    time_block_remove,
)
from rapport.scheduling.ics import therapist_feed
from rapport.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityOverride,
    ConsultationException,
    OverrideKind,
    TimeBlock,
    WorkingHours,
)
from rapport.scheduling.services import SlotUnavailable, appointment_book, appointment_cancel

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # a Monday morning
TUESDAY = date(2026, 11, 24)
# Daylight saving time ends in Toronto on Sunday 1 November 2026: 01:00-02:00 happens twice.
DST_END = date(2026, 11, 1)
REASON = "FICTIONAL-REASON trouble sleeping since a fictional move"


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def _service(world, kind: str) -> Service:
    return Service.objects.get(practice=world.practice, kind=kind)


@pytest.fixture
def diary(world):
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    return world


def _consultation(world, start: datetime, *, email: str = "robin@mail.example", name: str = "Robin Visitor") -> Appointment:
    return appointment_book(
        actor=None,
        therapist=world.therapist_a,
        service=_service(world, "consultation"),
        start=start,
        contact_name=name,
        contact_email=email,
        reason=REASON,
        time_zone="Europe/London",
        now=NOW,
    )


def _raw_appointment(world, kind: str, start: datetime, *, therapist: Therapist | None = None, case=None, **fields) -> Appointment:
    """An appointment written straight to the table, for times the booking rules would refuse (past, weekend)."""
    service = _service(world, kind)
    end = start + timedelta(minutes=service.duration_minutes)
    return Appointment.objects.create(
        practice=world.practice,
        therapist=therapist or world.therapist_a,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        **fields,
    )


# --- Blocks -------------------------------------------------------------------------------------------


def test_a_block_removes_its_times_from_booking(diary):
    individual = _service(diary, "individual")
    window = {"window_start": _at(0), "window_end": _at(0, day=TUESDAY + timedelta(days=1)), "now": NOW}
    before = set(free_starts(therapist=diary.therapist_a, service=individual, **window))

    block = time_block_add(actor=diary.user("therapist_a"), therapist=diary.therapist_a, start=_at(12), end=_at(13), label="Lunch", now=NOW)

    after = set(free_starts(therapist=diary.therapist_a, service=individual, **window))
    gone = sorted(s.astimezone(TORONTO).strftime("%H:%M") for s in before - after)
    # A 50-minute session with a 10-minute buffer after it may not run into 12:00-13:00.
    assert gone == ["11:15", "11:30", "11:45", "12:00", "12:15", "12:30", "12:45"]
    with pytest.raises(SlotUnavailable):
        appointment_book(actor=None, therapist=diary.therapist_a, service=individual, start=_at(12), case=diary.individual_case, now=NOW)

    time_block_remove(actor=diary.user("therapist_a"), block=block)
    assert set(free_starts(therapist=diary.therapist_a, service=individual, **window)) == before


def test_a_block_over_a_booked_session_is_refused_with_its_time(diary):
    appointment_book(
        actor=None, therapist=diary.therapist_a, service=_service(diary, "individual"), start=_at(10), case=diary.individual_case, now=NOW
    )
    with pytest.raises(ValidationError, match=r"overlaps a booked session \(Tue 24 Nov 10:00 to 10:50\)"):
        time_block_add(actor=None, therapist=diary.therapist_a, start=_at(9, 30), end=_at(10, 30), label="Admin", now=NOW)
    assert not TimeBlock.objects.exists()
    # The buffer after a session is the therapist's own time, and a cancelled session is no clash.
    time_block_add(actor=None, therapist=diary.therapist_a, start=_at(10, 50), end=_at(11, 30), now=NOW)


def test_a_cancelled_session_does_not_stop_a_block(diary):
    appointment = appointment_book(
        actor=None, therapist=diary.therapist_a, service=_service(diary, "individual"), start=_at(10), case=diary.individual_case, now=NOW
    )
    appointment_cancel(actor=None, appointment=appointment, by_client=False, now=NOW)
    time_block_add(actor=None, therapist=diary.therapist_a, start=_at(9), end=_at(12), now=NOW)
    assert TimeBlock.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end", "label", "message"),
    [
        (_at(13), _at(12), "", "must end after it starts"),
        (_at(13), _at(13), "", "must end after it starts"),
        (_at(9, day=date(2026, 11, 2)), _at(10, day=date(2026, 11, 2)), "", "already passed"),
        (_at(9), _at(9) + timedelta(days=32), "", "at most 31 days"),
        (_at(9), _at(10), "x" * 121, "120 characters"),
        (datetime(2026, 11, 24, 9), datetime(2026, 11, 24, 10), "", "time zone"),
    ],
)
def test_bad_blocks_are_refused_and_nothing_is_saved(diary, start, end, label, message):
    with pytest.raises(ValidationError, match=message):
        time_block_add(actor=None, therapist=diary.therapist_a, start=start, end=end, label=label, now=NOW)
    assert not TimeBlock.objects.exists()
    assert not AuditEvent.objects.filter(object_type="scheduling.timeblock").exists()


def test_adding_and_removing_a_block_is_audited_without_its_label(diary):
    actor = diary.user("therapist_a")
    block = time_block_add(actor=actor, therapist=diary.therapist_a, start=_at(12), end=_at(13), label="Supervision", now=NOW)
    time_block_remove(actor=actor, block=block)
    events = list(AuditEvent.objects.filter(object_type="scheduling.timeblock", object_id=block.public_id).order_by("id"))
    assert [(e.action, e.actor_id) for e in events] == [("create", actor.pk), ("delete", actor.pk)]
    assert all("Supervision" not in str(e.detail) for e in events)


def test_a_block_is_found_only_by_its_own_therapist(diary):
    block = time_block_add(actor=None, therapist=diary.therapist_a, start=_at(12), end=_at(13), now=NOW)
    assert block_get_for_user(diary.user("therapist_a"), block.public_id) == block
    with pytest.raises(Http404):
        block_get_for_user(diary.user("therapist_b"), block.public_id)
    with pytest.raises(PermissionDenied):
        block_get_for_user(diary.user("admin"), block.public_id)


# --- The private feed -----------------------------------------------------------------------------------


def test_a_feed_token_opens_the_feed_until_it_is_replaced_or_revoked(diary):
    therapist = diary.therapist_a
    first = calendar_feed_issue(actor=diary.user("therapist_a"), therapist=therapist)
    assert len(first) >= 43  # 32 random bytes, base64url
    assert first not in Therapist.objects.get(pk=therapist.pk).calendar_token_hash
    assert therapist_for_feed_token(first) == therapist

    second = calendar_feed_issue(actor=diary.user("therapist_a"), therapist=therapist)
    assert therapist_for_feed_token(first) is None
    assert therapist_for_feed_token(second) == therapist

    calendar_feed_revoke(actor=diary.user("therapist_a"), therapist=therapist)
    assert therapist_for_feed_token(second) is None
    assert Therapist.objects.get(pk=therapist.pk).calendar_token_hash == ""
    changes = list(AuditEvent.objects.filter(object_id=therapist.public_id).order_by("id").values_list("detail", flat=True))
    assert [d["change"] for d in changes] == ["issued", "issued", "revoked"]
    assert all(first not in str(d) and second not in str(d) for d in changes)


@pytest.mark.parametrize("token", ["", "x", "y" * 500])
def test_empty_or_odd_tokens_open_no_feed(diary, token):
    calendar_feed_issue(actor=None, therapist=diary.therapist_a)
    # A therapist without a feed has an empty hash: an empty token must not match it.
    assert therapist_for_feed_token(token) is None


def test_a_deactivated_account_loses_its_feed(diary):
    token = calendar_feed_issue(actor=None, therapist=diary.therapist_a)
    user = diary.user("therapist_a")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert therapist_for_feed_token(token) is None


def test_the_feed_shows_initials_and_times_but_no_clinical_text(diary):
    consultation = _consultation(diary, _at(9))
    session = appointment_book(
        actor=None,
        therapist=diary.therapist_a,
        service=_service(diary, "individual"),
        start=_at(11),
        case=diary.individual_case,
        reason=REASON,
        contact_phone="+1 555 0100",
        now=NOW,
    )
    couple = appointment_book(
        actor=None, therapist=diary.therapist_a, service=_service(diary, "couple"), start=_at(14), case=diary.couple_case, now=NOW
    )
    appointment_cancel(actor=None, appointment=couple, by_client=False, now=NOW)
    _raw_appointment(diary, "individual", NOW - timedelta(days=31), case=diary.individual_case)  # too old for the feed

    data = therapist_feed(feed_appointments(diary.therapist_a, now=NOW), calendar_name="Harbour Therapy · Theo")

    events = {str(e["UID"]): e for e in Calendar.from_ical(data).walk("VEVENT")}
    assert set(events) == {f"{a.public_id}@rapport" for a in (consultation, session, couple)}
    assert str(events[f"{session.public_id}@rapport"]["SUMMARY"]) == "Individual session (C. C.)"
    assert str(events[f"{consultation.public_id}@rapport"]["SUMMARY"]) == "Consultation"
    assert str(events[f"{couple.public_id}@rapport"]["STATUS"]) == "CANCELLED"
    text = data.decode()
    for secret in ("FICTIONAL-REASON", "Robin", "robin@mail.example", "Cora", "cora@mail.example", "Pat Partner", "555 0100"):
        assert secret not in text


# --- Consultations -------------------------------------------------------------------------------------


def test_a_consultation_becomes_a_client_record_and_case_once_the_person_agrees(diary):
    consultation = _consultation(diary, _at(9))
    therapist_user = diary.user("therapist_a")

    case = consultation_open_case(actor=therapist_user, appointment=consultation)

    client = Client.objects.get(practice=diary.practice, email="robin@mail.example")
    assert (client.full_name, client.time_zone) == ("Robin Visitor", "Europe/London")
    assert (case.kind, case.status, case.primary_therapist) == (CaseKind.INDIVIDUAL, CaseStatus.CONSULTATION, diary.therapist_a)
    assert list(case.members.values_list("client", flat=True)) == [client.pk]
    consultation.refresh_from_db()
    assert consultation.case == case
    # Nothing of what the consultation holds is cleared.
    assert (consultation.contact_name, consultation.contact_email, consultation.reason) == ("Robin Visitor", "robin@mail.example", REASON)
    assert consultation.participants.get().client == client
    linked = AuditEvent.objects.get(object_id=consultation.public_id, detail__fields=["case"])
    assert (linked.actor_id, linked.client_id) == (therapist_user.pk, client.public_id)
    assert AuditEvent.objects.filter(object_type="clients.client", client_id=client.public_id, action="create").count() == 1

    with pytest.raises(ValidationError, match="already part of a case"):
        consultation_open_case(actor=therapist_user, appointment=consultation)
    assert Case.objects.filter(members__client=client).count() == 1


def test_an_existing_client_is_linked_not_recorded_twice(diary):
    existing = client_create(actor=None, practice=diary.practice, full_name="Robin Already-Known", email="robin@mail.example")
    consultation = _consultation(diary, _at(9), email="Robin@Mail.example", name="Robin V.")
    case = consultation_open_case(actor=diary.user("therapist_a"), appointment=consultation)
    assert Client.objects.filter(email__iexact="robin@mail.example").count() == 1
    assert list(case.members.values_list("client", flat=True)) == [existing.pk]
    assert Client.objects.get(pk=existing.pk).full_name == "Robin Already-Known"


def test_only_a_live_consultation_can_open_a_case(diary):
    session = appointment_book(
        actor=None, therapist=diary.therapist_a, service=_service(diary, "individual"), start=_at(11), case=diary.individual_case, now=NOW
    )
    with pytest.raises(ValidationError, match="Only a consultation"):
        consultation_open_case(actor=diary.user("therapist_a"), appointment=session)
    cancelled = _consultation(diary, _at(9))
    appointment_cancel(actor=None, appointment=cancelled, by_client=False, now=NOW)
    with pytest.raises(ValidationError, match="cancelled"):
        consultation_open_case(actor=diary.user("therapist_a"), appointment=cancelled)
    assert not Client.objects.filter(email="robin@mail.example").exists()


def test_an_exception_lets_an_address_have_one_more_free_consultation(diary):
    consultation = _service(diary, "consultation")

    def book(start: datetime) -> None:
        request = BookingRequest(
            service=consultation,
            therapist=diary.therapist_a,
            start=start,
            time_zone="America/Toronto",
            name="Robin Visitor",
            email="robin@mail.example",
            privacy_accepted=True,
        )
        public_booking_create(practice=diary.practice, request=request, now=NOW)

    book(_at(9))
    with pytest.raises(ConsultationNotOffered):
        book(_at(10))

    granted = consultation_exception_grant(
        actor=diary.user("admin"), practice=diary.practice, email=" Robin@Mail.example ", note="Fictional"
    )
    assert granted.email == "robin@mail.example"
    assert AuditEvent.objects.filter(object_id=granted.public_id, action="create", actor=diary.user("admin")).count() == 1
    with pytest.raises(ValidationError, match="not been used yet"):
        consultation_exception_grant(actor=diary.user("admin"), practice=diary.practice, email="robin@mail.example", note="")

    book(_at(10))
    assert ConsultationException.objects.get(pk=granted.pk).used_by is not None
    with pytest.raises(ConsultationNotOffered):
        book(_at(11))


@pytest.mark.parametrize(("email", "note", "message"), [("not-an-address", "", "valid email"), ("a@mail.example", "n" * 201, "200")])
def test_a_bad_exception_is_refused(diary, email, note, message):
    with pytest.raises(ValidationError, match=message):
        consultation_exception_grant(actor=diary.user("admin"), practice=diary.practice, email=email, note=note)
    assert not ConsultationException.objects.exists()


# --- Who sees which appointment ---------------------------------------------------------------------------


def test_only_the_appointments_own_therapist_may_open_it(diary):
    appointment = _consultation(diary, _at(9))
    assert appointment_get_for_user(diary.user("therapist_a"), appointment.public_id) == appointment
    for persona in ("therapist_b", "client", "other_practice_client"):
        with pytest.raises(Http404):
            appointment_get_for_user(diary.user(persona), appointment.public_id)
    for persona in ("admin", "supervisor"):
        with pytest.raises(PermissionDenied):
            appointment_get_for_user(diary.user(persona), appointment.public_id)
    for bogus in ("not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(Http404):
            appointment_get_for_user(diary.user("therapist_a"), bogus)


def test_reading_a_couples_appointment_is_audited_once_per_partner(diary):
    appointment = appointment_book(
        actor=None, therapist=diary.therapist_a, service=_service(diary, "couple"), start=_at(14), case=diary.couple_case, now=NOW
    )
    reader = diary.user("therapist_a")
    appointment_read_for_user(reader, appointment.public_id)
    views = AuditEvent.objects.filter(action="view", object_id=appointment.public_id)
    assert sorted(views.values_list("client_id", flat=True)) == sorted([diary.partner_a.public_id, diary.partner_b.public_id])
    assert set(views.values_list("actor_id", "object_type")) == {(reader.pk, "scheduling.appointment")}


def test_reading_a_consultation_is_audited_for_the_practice(diary):
    appointment = _consultation(diary, _at(9))
    appointment_read_for_user(diary.user("therapist_a"), appointment.public_id)
    view = AuditEvent.objects.get(action="view", object_id=appointment.public_id)
    assert (view.client_id, view.practice_id) == (None, diary.practice.public_id)
    assert "FICTIONAL" not in str(view.detail)


def test_a_refused_read_is_not_audited(diary):
    appointment = _consultation(diary, _at(9))
    with pytest.raises(Http404):
        appointment_read_for_user(diary.user("therapist_b"), appointment.public_id)
    assert not AuditEvent.objects.filter(action="view", object_id=appointment.public_id).exists()


# --- The grid ---------------------------------------------------------------------------------------------


def _cell(grid, hour: int, day: date):
    row = next(r for r in grid.rows if r.hour == hour)
    return row.cells[[d.day for d in grid.days].index(day)]


def test_the_week_of_a_clock_change_puts_every_session_at_its_local_hour(diary):
    sunday_morning = _raw_appointment(diary, "individual", datetime(2026, 11, 1, 15, 0, tzinfo=UTC), case=diary.individual_case)
    saturday_morning = _raw_appointment(diary, "individual", datetime(2026, 10, 31, 14, 0, tzinfo=UTC), case=diary.individual_case)
    # 01:30 happens twice that night: once in EDT (05:30 UTC), once in EST (06:30 UTC).
    first_half_past_one = _raw_appointment(diary, "consultation", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), contact_name="Early Bird")
    second_half_past_one = _raw_appointment(diary, "consultation", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), contact_name="Late Owl")

    grid = calendar_grid(diary.therapist_a, anchor=date(2026, 10, 28), view=WEEK, now=NOW)

    assert [d.day for d in grid.days] == [date(2026, 10, 26) + timedelta(days=n) for n in range(7)]
    assert [e.appointment for e in _cell(grid, 10, DST_END)] == [sunday_morning]
    assert [e.appointment for e in _cell(grid, 10, date(2026, 10, 31))] == [saturday_morning]
    both = _cell(grid, 1, DST_END)
    assert [e.appointment for e in both] == [first_half_past_one, second_half_past_one]
    assert [e.start.strftime("%H:%M %Z") for e in both] == ["01:30 EDT", "01:30 EST"]
    assert all(e.show_zone for e in both)
    sunday = grid.days[6]
    assert sunday.clock_change == "Clocks go back one hour (EDT to EST)"
    assert [d.clock_change for d in grid.days[:6]] == [""] * 6
    assert grid.rows[0].hour == 1  # the grid grows to show the night's sessions
    assert grid.appointment_count == 4


def test_the_grid_shows_cancelled_sessions_blocks_and_days_off(diary):
    cancelled = _consultation(diary, _at(9))
    appointment_cancel(actor=None, appointment=cancelled, by_client=False, now=NOW)
    block = time_block_add(actor=None, therapist=diary.therapist_a, start=_at(12), end=_at(13), label="Lunch", now=NOW)
    AvailabilityOverride.objects.create(therapist=diary.therapist_a, day=TUESDAY + timedelta(days=1), kind=OverrideKind.DAY_OFF)
    AvailabilityOverride.objects.create(
        therapist=diary.therapist_a, day=TUESDAY + timedelta(days=2), kind=OverrideKind.REPLACE, start=time(10), end=time(14)
    )

    grid = calendar_grid(diary.therapist_a, anchor=TUESDAY, view=WEEK, now=NOW)

    (entry,) = _cell(grid, 9, TUESDAY)
    assert entry.appointment == cancelled
    assert entry.cancelled
    assert entry.appointment.status == AppointmentStatus.CANCELLED
    (blocked,) = _cell(grid, 12, TUESDAY)
    assert blocked.block == block
    hours = {d.day: (d.hours, d.time_off) for d in grid.days}
    assert hours[TUESDAY] == ("09:00 to 17:00", False)
    assert hours[TUESDAY + timedelta(days=1)] == ("Day off", True)
    assert hours[TUESDAY + timedelta(days=2)] == ("10:00 to 14:00 (changed for this day)", False)
    assert hours[date(2026, 11, 28)] == ("No working hours", False)
    assert grid.days[0].is_today
    assert grid.days[0].day == date(2026, 11, 23)
    assert [r.hour for r in grid.rows] == list(range(8, 18))


def test_a_block_over_midnight_shows_on_both_days(diary):
    time_block_add(actor=None, therapist=diary.therapist_a, start=_at(22), end=_at(2, day=TUESDAY + timedelta(days=1)), now=NOW)
    grid = calendar_grid(diary.therapist_a, anchor=TUESDAY, view=WEEK, now=NOW)
    (evening,) = _cell(grid, 22, TUESDAY)
    (night,) = _cell(grid, 0, TUESDAY + timedelta(days=1))
    assert (evening.continued, evening.continues) == (False, True)
    assert (night.continued, night.continues) == (True, False)
    assert night.end.astimezone(TORONTO).hour == 2


def test_a_day_view_holds_only_that_day_and_another_therapists_sessions_are_not_in_it(diary):
    mine = _consultation(diary, _at(9))
    _raw_appointment(diary, "consultation", _at(10), therapist=diary.therapist_b, contact_name="Not Mine")
    grid = calendar_grid(diary.therapist_a, anchor=TUESDAY, view="day", now=NOW)
    assert [d.day for d in grid.days] == [TUESDAY]
    assert [e.appointment for row in grid.rows for cell in row.cells for e in cell] == [mine]
    assert grid.previous == TUESDAY - timedelta(days=1)
    assert grid.following == TUESDAY + timedelta(days=1)
